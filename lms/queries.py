"""Read-side queries of the core, filtered by what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload

from lms.authz import cluster_ids_for, is_admin, school_ids_for, trust_ids_for
from lms.extensions import db
from lms.models import (
    AuditEntry,
    Enrolment,
    EnrolmentStatus,
    Membership,
    Nomination,
    NominationStatus,
    OutboxEmail,
    Role,
    School,
    Trust,
    User,
)


def visible_schools(user: User) -> Select:
    """Schools the user may see: all of their trusts', their clusters', or their own."""
    query = select(School).order_by(School.name)
    if is_admin(user):
        return query
    return query.where(
        or_(
            School.trust_id.in_(trust_ids_for(user, Role.CENTRAL_TEAM, Role.TRUSTEE)),
            School.cluster_id.in_(cluster_ids_for(user)),
            School.id.in_(school_ids_for(user, Role.SCHOOL_LEADER)),
        )
    )


def all_trusts() -> list[Trust]:
    return list(db.session.scalars(select(Trust).order_by(Trust.name)))


def trust_staff(trust: Trust) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.trust_id == trust.id, Membership.ended_at.is_(None),
                   Membership.role != Role.TUTOR)
            .options(selectinload(Membership.user), selectinload(Membership.school),
                     selectinload(Membership.cluster))
            .join(User, User.id == Membership.user_id)
            .order_by(User.name)
        )
    )


def school_people(school: School) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.school_id == school.id, Membership.ended_at.is_(None))
            .options(selectinload(Membership.user))
        )
    )


def outbox(limit: int = 200) -> list[OutboxEmail]:
    return list(
        db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit))
    )


#: Entries on one page of an audit log search.
AUDIT_PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditPage:
    """One page of an audit log search, newest first."""

    entries: list[AuditEntry]
    #: Entry ids for the paging links: ``after`` gives the newer page, ``before`` the older
    #: one; ``None`` when there is none.
    newer_after: int | None
    older_before: int | None


def audit_entries(
    trust: Trust | None,
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_email: str | None = None,
    reason: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    before: int | None = None,
    after: int | None = None,
    per_page: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """Search a trust's audit log (every trust's for ``None``): action containing, object,
    who made the change (their email, exactly, in any case), reason containing, UK dates
    from and to. Pages hold ``per_page`` entries, newest first; ``before`` (an entry id)
    asks for the page of older entries, ``after`` for the page of newer ones."""
    from lms.dashboards import on_uk_days

    conditions = []
    if trust is not None:
        conditions.append(AuditEntry.trust_id == trust.id)
    if action:
        conditions.append(AuditEntry.action.contains(action, autoescape=True))
    if object_type:
        conditions.append(AuditEntry.object_type == object_type)
    if object_id:
        conditions.append(AuditEntry.object_id == object_id)
    if actor_email:
        conditions.append(AuditEntry.actor_id.in_(select(User.id).where(
            User.email == actor_email.strip().lower())))  # stored lower case
    if reason:
        conditions.append(AuditEntry.reason.icontains(reason.strip(), autoescape=True))
    conditions += on_uk_days(AuditEntry.created_at, date_from, date_to)
    query = select(AuditEntry).where(*conditions)
    if after is not None:
        found = list(db.session.scalars(query.where(AuditEntry.id > after)
                                        .order_by(AuditEntry.id).limit(per_page + 1)))
        entries = found[:per_page][::-1]
        newer, older = len(found) > per_page, None
    else:
        if before is not None:
            query = query.where(AuditEntry.id < before)
        found = list(db.session.scalars(query.order_by(AuditEntry.id.desc())
                                        .limit(per_page + 1)))
        entries = found[:per_page]
        newer, older = None, len(found) > per_page
    if not entries:
        return AuditPage([], None, None)

    def matches_beyond(edge) -> bool:
        return bool(db.session.scalar(select(exists().where(*conditions, edge))))

    if newer is None:
        newer = before is not None and matches_beyond(AuditEntry.id > entries[0].id)
    if older is None:
        older = matches_beyond(AuditEntry.id < entries[-1].id)
    return AuditPage(entries, entries[0].id if newer else None,
                     entries[-1].id if older else None)


def users_by_id(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


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
