"""Who may see and act on endorsements and provider API keys (registered with lms.authz)."""

from __future__ import annotations

from credentials.models import ApiKey, Endorsement
from lms.authz import Action, _school, policy, trust_ids_for
from lms.models import Role, User


@policy(Endorsement)
def _endorsement(user: User, action: Action, endorsement: Endorsement) -> bool:
    """The tutor and the staff who can see the nominating school may see it; the issuing
    trust's central team may suspend, reinstate or revoke it."""
    if action == Action.VIEW:
        return endorsement.user_id == user.id or _school(user, Action.VIEW, endorsement.school)
    if action == Action.DECIDE:
        return endorsement.trust_id in trust_ids_for(user, Role.CENTRAL_TEAM)
    return False


@policy(ApiKey)
def _api_key(user: User, action: Action, key: ApiKey) -> bool:
    """A provider's own staff see and manage its keys."""
    providers = {m.provider_id for m in user.memberships if m.role == Role.PROVIDER}
    return action in (Action.VIEW, Action.MANAGE) and key.provider_id in providers
