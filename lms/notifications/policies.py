"""Outbox emails: programme admins only."""

from __future__ import annotations

from lms.notifications.models import OutboxEmail
from lms.platform.authz import Action, policy


@policy(OutboxEmail)
def _outbox_email(user: object, action: Action, email: OutboxEmail) -> bool:
    return False

