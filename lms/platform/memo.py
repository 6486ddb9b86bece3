"""Memos kept for the life of one database session (one request, one task).

For facts that cannot change while a request runs but are asked for several times in it, such
as a course version's outline. A rollback forgets them, since what they hold may be gone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.platform.extensions import db

_PREFIX = "memo."


def session_memo(name: str) -> dict[Any, Any]:
    return db.session().info.setdefault(_PREFIX + name, {})


def forget(name: str) -> None:
    db.session().info.pop(_PREFIX + name, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for key in [k for k in session.info if isinstance(k, str) and k.startswith(_PREFIX)]:
            del session.info[key]
