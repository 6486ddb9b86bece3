"""Finding endorsements."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from credentials.endorsements.models import Endorsement
from lms.accounts.models import User
from lms.platform.extensions import db


def endorsement_for(enrolment_id: int) -> Endorsement | None:
    return db.session.scalar(select(Endorsement).where(Endorsement.enrolment_id == enrolment_id))


def endorsements_of(person: User) -> list[Endorsement]:
    """The person's endorsements, wherever issued: they stay theirs when they move."""
    return list(db.session.scalars(
        select(Endorsement).where(Endorsement.user_id == person.id)
        .options(selectinload(Endorsement.trust), selectinload(Endorsement.school))
        .order_by(Endorsement.issued_at.desc())))

