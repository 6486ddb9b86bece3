"""Endorsements as verifiable credentials, status lists, verification, the approved-tutor
register, DBS checks and provider access."""

from flask import Blueprint

bp = Blueprint("credentials", __name__)
