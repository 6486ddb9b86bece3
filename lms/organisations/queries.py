"""Trusts, schools and the people in them, as a person may see them."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.organisations.models import Membership, School, Trust
from lms.organisations.policies import cluster_ids_for, is_admin, school_ids_for, trust_ids_for
from lms.platform.extensions import db
from lms.platform.roles import Role


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


def users_by_id(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def school_leaders(school_id: int) -> list[User]:
    """The people who lead a school: they hear how its candidates are doing."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.school_id == school_id, Membership.role == Role.SCHOOL_LEADER,
            Membership.ended_at.is_(None))))
