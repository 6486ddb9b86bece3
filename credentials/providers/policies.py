"""Who may see and revoke a provider's API keys."""

from __future__ import annotations

from credentials.providers.models import ApiKey
from lms.accounts.models import User
from lms.platform.authz import Action, policy
from lms.platform.roles import Role


@policy(ApiKey)
def _api_key(user: User, action: Action, key: ApiKey) -> bool:
    """A provider's own staff see and manage its keys."""
    providers = {m.provider_id for m in user.memberships if m.role == Role.PROVIDER}
    return action in (Action.VIEW, Action.MANAGE) and key.provider_id in providers

