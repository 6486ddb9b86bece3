""""""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.organisations.models import Membership
from lms.platform.extensions import db
from lms.platform.roles import Role


def _school_leaders(school_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.school_id == school_id, Membership.role == Role.SCHOOL_LEADER,
            Membership.ended_at.is_(None))))

