"""Who may record and read observations.

The school's leaders and tutoring leads record them (never of themselves) and read those made
at their school; the trust's central team reads the trust's; the tutor reads their own. Nobody
else learns one exists: another school's leader, the cluster, trustees and other trusts get a
404. The programme admin reads them, as they read everything, through ``authz.can``."""

from __future__ import annotations

from lms.accounts.models import User
from lms.observations.models import Observation
from lms.organisations.policies import trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.roles import Role
from lms.tutoring.models import TutoringGroup
from lms.tutoring.policies import runs_tutoring_at


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def may_record(user: User, group: TutoringGroup) -> bool:
    """A school leader or tutoring lead at the group's school, who is not its tutor."""
    return (_signed_in(user) and user.id != group.tutor_id
            and runs_tutoring_at(user, group.school_id))


def reads_observations_of(user: User, *, school_id: int, trust_id: int) -> bool:
    """Whether ``user`` reads the observations made at a school (not just their own)."""
    if not _signed_in(user):
        return False
    return (runs_tutoring_at(user, school_id)
            or trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
            or user.is_programme_admin)


def reads_group_observations(user: User, group: TutoringGroup) -> bool:
    return reads_observations_of(user, school_id=group.school_id, trust_id=group.trust_id)


@policy(Observation)
def _observation(user: User, action: Action, observation: Observation) -> bool:
    if action != Action.VIEW:
        return False
    if observation.tutor_id == user.id:
        return True
    return runs_tutoring_at(user, observation.school_id) or (
        observation.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM))
