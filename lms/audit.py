"""The append-only, hash-chained audit log.

Each entry stores the hash of the one before it; changing, inserting or removing any entry breaks
every hash after it, which ``verify_chain`` (and ``flask audit verify``) reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from lms import clock
from lms.extensions import db
from lms.models import AuditEntry

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 7_305_191
_TAIL_KEY = "lms.audit_tail"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def entry_hash(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "trust_id": entry.trust_id,
        "changes": entry.changes,
        "reason": entry.reason,
        "prev_hash": entry.prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _lock_chain() -> None:
    """Serialise appends so two transactions cannot both extend the same tail."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})


def record(
    action: str,
    obj: Any,
    *,
    actor: Any = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str | None = None,
    trust_id: int | None = None,
) -> AuditEntry:
    """Append an entry for ``action`` on ``obj`` and return it (written at the next flush)."""
    db.session.flush()
    session = db.session()
    tail = session.info.get(_TAIL_KEY)
    if tail is None:
        _lock_chain()
        last = db.session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        tail = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    entry = AuditEntry(
        seq=tail[0] + 1,
        created_at=clock.now(),
        actor_id=getattr(actor, "id", actor),
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.id),
        trust_id=trust_id if trust_id is not None else _trust_of(obj),
        changes=_jsonable({k: list(v) for k, v in (changes or {}).items()}),
        reason=reason,
        prev_hash=tail[1],
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    session.info[_TAIL_KEY] = (entry.seq, entry.hash)
    return entry


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_tail(session: Session, *args) -> None:
    """The tail read under this transaction's lock is only good until the transaction ends."""
    session.info.pop(_TAIL_KEY, None)


def _trust_of(obj: Any) -> int | None:
    trust_id = getattr(obj, "trust_id", None)
    if trust_id is None and type(obj).__name__ == "Trust":
        return obj.id
    return trust_id


def diff(obj: Any, **new_values: Any) -> dict[str, tuple[Any, Any]]:
    """Set attributes on ``obj`` and return ``{field: (before, after)}`` for those that changed."""
    changes = {}
    for field, after in new_values.items():
        before = getattr(obj, field)
        if before != after:
            changes[field] = (before, after)
            setattr(obj, field, after)
    return changes


@dataclass(frozen=True)
class ChainReport:
    entries_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def verify_chain(entries: Iterable[AuditEntry] | None = None) -> ChainReport:
    if entries is not None:
        return _check_chain(entries)
    result = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    try:
        return _check_chain(result)
    finally:
        result.close()


def _check_chain(entries: Iterable[AuditEntry]) -> ChainReport:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return ChainReport(count, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return ChainReport(count, entry.seq, "does not link to the entry before it")
        if entry_hash(entry) != entry.hash:
            return ChainReport(count, entry.seq, "its contents do not match its hash")
        expected_prev = entry.hash
        expected_seq += 1
    return ChainReport(count)


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("the audit log is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("the audit log is append-only")
