"""Who may see and act on nominations, imports and enrolments."""

from __future__ import annotations

from lms.accounts.models import User
from lms.organisations.policies import school_rule, trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.roles import Role
from lms.programme.models import Enrolment, Nomination, NominationImport


@policy(Nomination)
def _nomination(user: User, action: Action, nomination: Nomination) -> bool:
    if action == Action.VIEW:
        return school_rule(user, Action.VIEW, nomination.school)
    if action == Action.NOMINATE:
        return school_rule(user, Action.NOMINATE, nomination.school)
    if action == Action.DECIDE:
        return nomination.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    return False


@policy(NominationImport)
def _nomination_import(user: User, action: Action, nomination_import: NominationImport) -> bool:
    return action in (Action.VIEW, Action.NOMINATE) and school_rule(
        user, Action.NOMINATE, nomination_import.school
    )


@policy(Enrolment)
def _enrolment(user: User, action: Action, enrolment: Enrolment) -> bool:
    if action == Action.STUDY:
        return enrolment.user_id == user.id
    if action == Action.VIEW:
        return enrolment.user_id == user.id or school_rule(user, Action.VIEW, enrolment.school)
    if action == Action.DECIDE:
        return enrolment.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    if action == Action.NOMINATE:
        return school_rule(user, Action.NOMINATE, enrolment.school)
    return False

