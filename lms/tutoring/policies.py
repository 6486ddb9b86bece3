"""Who may see and run programmes, pupils, groups and sessions.

Pupils' names are for the school's staff and the tutors of the pupil's groups; the trust,
its clusters and trustees see pseudonyms and counts (``sees_pupil_names``)."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.organisations.models import School
from lms.organisations.policies import school_ids_for, school_rule, trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring.models import (
    GroupPupil,
    Programme,
    Pupil,
    TutoringGroup,
    TutoringSession,
)

#: The school roles that run tutoring day to day.
SCHOOL_TUTORING_ROLES = (Role.SCHOOL_LEADER, Role.TUTORING_LEAD)


def runs_tutoring_at(user: User, school_id: int) -> bool:
    return school_id in school_ids_for(user, *SCHOOL_TUTORING_ROLES)


def sees_school_tutoring(user: User, school: School) -> bool:
    """The school's tutoring staff, and whoever sees the school (its trust, its cluster)."""
    return runs_tutoring_at(user, school.id) or school_rule(user, Action.VIEW, school)


def sees_pupil_names(user: User, school_id: int) -> bool:
    return runs_tutoring_at(user, school_id)


def tutors_pupil(user: User, pupil_id: int) -> bool:
    return db.session.scalar(
        select(GroupPupil.id).join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
        .where(GroupPupil.pupil_id == pupil_id, TutoringGroup.tutor_id == user.id).limit(1)
    ) is not None


@policy(Programme)
def _programme(user: User, action: Action, programme: Programme) -> bool:
    if action == Action.MANAGE:
        return programme.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    if action != Action.VIEW:
        return False
    if programme.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM, Role.TRUSTEE,
                                           Role.CLUSTER_LEAD):
        return True
    return any(m.trust_id == programme.trust_id and m.role in SCHOOL_TUTORING_ROLES
               for m in user.memberships)


@policy(Pupil)
def _pupil(user: User, action: Action, pupil: Pupil) -> bool:
    """A pupil's record: the school's tutoring staff; the pupil's tutors see it."""
    if runs_tutoring_at(user, pupil.school_id):
        return True
    return action == Action.VIEW and tutors_pupil(user, pupil.id)


@policy(TutoringGroup)
def _group(user: User, action: Action, group: TutoringGroup) -> bool:
    if runs_tutoring_at(user, group.school_id):
        return action in (Action.VIEW, Action.MANAGE, Action.DELIVER)
    if group.tutor_id == user.id:
        return action in (Action.VIEW, Action.DELIVER)
    return action == Action.VIEW and sees_school_tutoring(user, group.school)


@policy(TutoringSession)
def _session(user: User, action: Action, session: TutoringSession) -> bool:
    return _group(user, action, session.group)
