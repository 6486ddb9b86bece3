"""Who may see and act on an endorsement."""

from __future__ import annotations

from credentials.endorsements.models import Endorsement
from lms.accounts.models import User
from lms.organisations.policies import school_rule, trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.roles import Role


@policy(Endorsement)
def _endorsement(user: User, action: Action, endorsement: Endorsement) -> bool:
    """The tutor and the staff who can see the nominating school may see it; the issuing
    trust's central team may suspend, reinstate or revoke it."""
    if action == Action.VIEW:
        return endorsement.user_id == user.id or school_rule(user, Action.VIEW, endorsement.school)
    if action == Action.DECIDE:
        return endorsement.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    return False

