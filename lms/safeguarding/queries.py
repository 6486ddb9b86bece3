"""The lists: a person's concerns to act on, the trust safeguarding lead's action list, the
allegations the central team may act on, and a reporter's receipts."""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select

from lms.accounts.models import User
from lms.organisations.policies import school_ids_for, trust_ids_for
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.safeguarding.models import Concern, ConcernKind, Review


def openable(user: User):
    """The SQL form of ``policies.may_open``."""
    child = school_ids_for(user, Role.DSL, Role.DEPUTY_DSL)
    adult = school_ids_for(user, Role.SCHOOL_LEADER)
    trusts = trust_ids_for(user, Role.TRUST_SAFEGUARDING_LEAD)
    conditions = []
    if trusts:
        conditions.append(Concern.trust_id.in_(trusts))
    if child:
        conditions.append(and_(Concern.kind == ConcernKind.ABOUT_CHILD,
                               Concern.school_id.in_(child)))
    if adult:
        conditions.append(and_(Concern.kind == ConcernKind.ABOUT_ADULT,
                               Concern.school_id.in_(adult)))
    if not conditions:
        return false()
    return and_(or_(*conditions), not_about(user))


def for_user(user: User, *, open_only: bool = False, limit: int = 200) -> list[Concern]:
    query = select(Concern).where(openable(user))
    if open_only:
        query = query.where(Concern.closed_at.is_(None))
    return list(db.session.scalars(query.order_by(
        Concern.acknowledged_at.is_not(None), Concern.raised_at.desc()).limit(limit)))


def waiting_for(user: User) -> int:
    """Concerns this person may open that nobody has acknowledged yet."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count(Concern.id)).where(
        openable(user), Concern.acknowledged_at.is_(None), Concern.closed_at.is_(None))) or 0


def not_about(user: User):
    """Never a concern about the person asking, in any list."""
    return or_(Concern.subject_id.is_(None), Concern.subject_id != user.id)


def unacknowledged(trust_id: int, *, besides: User) -> list[Concern]:
    return list(db.session.scalars(select(Concern).where(
        Concern.trust_id == trust_id, Concern.acknowledged_at.is_(None),
        Concern.closed_at.is_(None), not_about(besides)).order_by(Concern.raised_at)))


def not_recorded_elsewhere(trust_id: int, *, besides: User) -> list[Concern]:
    """Acknowledged but never recorded in the school's own system: they stay here, and on the
    trust safeguarding lead's list, until they are."""
    return list(db.session.scalars(select(Concern).where(
        Concern.trust_id == trust_id, Concern.acknowledged_at.is_not(None),
        Concern.recorded_elsewhere_at.is_(None), not_about(besides))
        .order_by(Concern.raised_at)))


def allegations(trust_id: int, *, besides: User) -> list[tuple[Concern, Review | None]]:
    """Open allegations about adults (never one about the person asking), with the review of
    the register entry if one is open."""
    rows = db.session.scalars(select(Concern).where(
        Concern.trust_id == trust_id, Concern.kind == ConcernKind.ABOUT_ADULT,
        not_about(besides),
        or_(Concern.closed_at.is_(None),
            Concern.id.in_(select(Review.concern_id).where(Review.closed_at.is_(None)))))
        .order_by(Concern.raised_at.desc())).all()
    reviews = {r.concern_id: r for r in db.session.scalars(select(Review).where(
        Review.concern_id.in_([c.id for c in rows]), Review.closed_at.is_(None)))}
    return [(c, reviews.get(c.id)) for c in rows]


def receipts(user: User) -> list[Concern]:
    return list(db.session.scalars(select(Concern).where(Concern.reporter_id == user.id)
                                   .order_by(Concern.raised_at.desc())))
