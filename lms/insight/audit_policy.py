""""""

from __future__ import annotations

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.organisations.policies import trust_ids_for
from lms.platform.authz import Action, policy
from lms.platform.roles import Role


@policy(AuditEntry)
def _audit_entry(user: User, action: Action, entry: AuditEntry) -> bool:
    readers = trust_ids_for(user, Role.CENTRAL_TEAM, Role.TRUSTEE)
    return action == Action.VIEW and entry.trust_id in readers

