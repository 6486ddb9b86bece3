"""Endorsements as verifiable credentials, status lists, verification, the approved-tutor
register, DBS checks and provider access."""
