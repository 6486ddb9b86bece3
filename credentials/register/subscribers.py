"""What the register does when the endorsement announces something."""

from __future__ import annotations

from credentials.endorsements.models import Endorsement
from credentials.register.derivation import refresh_register
from credentials.register.services import register_on_endorsement


def list_endorsed_tutor(endorsement: Endorsement, **_) -> None:
    register_on_endorsement(endorsement)


def derive_entries_again(endorsement: Endorsement, **_) -> None:
    refresh_register(user_id=endorsement.user_id)
