"""The endorsement as a verifiable credential: issuer keys and did:web (``keys``), JSON-LD and
Data Integrity proofs (``json_input``, ``jsonld``, ``proofs``), issuing, suspending, revoking
and expiry (``services``), status lists, offline verification, the certificate, the public
pages. Announces ``events.endorsement_issued`` and ``events.endorsement_status_changed``."""
