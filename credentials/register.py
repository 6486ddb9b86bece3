"""The approved-tutor register, as providers see it."""

from __future__ import annotations

from credentials.models import Endorsement


def register_status_for(endorsement: Endorsement) -> dict:
    """The tutor's status on the register of the trust that endorsed them."""
    return {"status": "not_on_register", "trust": endorsement.trust.name, "schools": []}
