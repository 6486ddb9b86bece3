"""Nominations and enrolments as a school or trust sees them, and a tutor's open enrolment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.organisations.models import School, Trust
from lms.platform.extensions import db
from lms.programme.models import Enrolment, EnrolmentStatus, Nomination, NominationStatus

# --- nominations and enrolments -----------------------------------------------------------


@dataclass(frozen=True)
class PipelineRow:
    """One candidate at a school and where they are: nomination, then enrolment."""

    nomination: Nomination
    enrolment: Enrolment | None

    @property
    def stage(self) -> str:
        if self.enrolment is not None:
            return self.enrolment.status.label
        return self.nomination.status.label


def pipeline(*, school: School | None = None, trust: Trust | None = None,
             limit: int = 500) -> list[PipelineRow]:
    """Candidates of a school or a whole trust, newest first, with their enrolments."""
    query = (
        select(Nomination, Enrolment)
        .outerjoin(Enrolment, Enrolment.nomination_id == Nomination.id)
        .options(selectinload(Nomination.school))
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .limit(limit)
    )
    if school is not None:
        query = query.where(Nomination.school_id == school.id)
    if trust is not None:
        query = query.where(Nomination.trust_id == trust.id)
    return [PipelineRow(n, e) for n, e in db.session.execute(query).all()]


def awaiting_approval(trust: Trust) -> list[Nomination]:
    return list(
        db.session.scalars(
            select(Nomination)
            .where(Nomination.trust_id == trust.id,
                   Nomination.status == NominationStatus.SUBMITTED)
            .options(selectinload(Nomination.school))
            .order_by(Nomination.created_at, Nomination.id)
        )
    )


def active_enrolment(user: User) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id,
                                Enrolment.status == EnrolmentStatus.ACTIVE)
    )
