"""Who may use the library: a tutor holding an endorsement that is valid or suspended (an
endorsement revoked or expired closes it)."""

from __future__ import annotations

from sqlalchemy import exists, select

from credentials.endorsements.models import Endorsement, EndorsementStatus
from lms.platform.extensions import db

OPEN_TO = (EndorsementStatus.ACTIVE, EndorsementStatus.SUSPENDED)


def may_use_library(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(exists().where(
        Endorsement.user_id == user.id, Endorsement.status.in_(OPEN_TO)))))
