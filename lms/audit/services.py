"""The append-only, hash-chained audit log.

Each entry stores the hash of the one before it; changing, inserting or removing any entry breaks
every hash after it, which ``verify_chain`` (and ``flask audit verify``) reports.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, event, func, select, text, update

from lms.audit.models import AuditEntry
from lms.platform import bulk, clock
from lms.platform.extensions import db

#: The background task this module enqueues, by name (its module imports this one).
SEAL_TASK = "lms.tasks.seal_audit_log"

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 7_305_191


def _jsonable(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def entry_hash(entry: Any) -> str:
    """The SHA-256 of an entry's content and place in the chain (an entry or a row)."""
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


@dataclass(frozen=True)
class Ref:
    """An object named in the log by its type and id, without loading it (bulk changes)."""

    object_type: str
    id: int
    trust_id: int | None = None


def record(
    action: str,
    obj: Any,
    *,
    actor: Any = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str | None = None,
    trust_id: int | None = None,
) -> AuditEntry:
    """Record ``action`` on ``obj`` in the current transaction and return the entry.

    The entry is sealed into the chain after the transaction commits, by ``seal``, so no
    request ever waits for another to finish with the chain: with a broker, the beat seals
    every few seconds; without one (everything in-process), right after the commit.
    """
    from lms.platform.jobs import enqueue_after_commit, tasks_run_in_process

    db.session.flush()
    entry = AuditEntry(
        created_at=clock.now(),
        actor_id=getattr(actor, "id", actor),
        action=action,
        object_type=obj.object_type if isinstance(obj, Ref) else type(obj).__name__,
        object_id=str(obj.id),
        trust_id=trust_id if trust_id is not None else _trust_of(obj),
        changes=_jsonable({k: list(v) for k, v in (changes or {}).items()}),
        reason=reason,
    )
    db.session.add(entry)
    if tasks_run_in_process():
        enqueue_after_commit(SEAL_TASK)
    return entry


def record_each(action: str, items: Iterable[tuple[Ref, dict[str, tuple[Any, Any]], str | None]],
                *, actor: Any = None) -> int:
    """Record many changes of one kind at once (a sweep that changed thousands of records):
    one insert, the same entries ``record`` would write."""
    from lms.platform.jobs import enqueue_after_commit, tasks_run_in_process

    now = clock.now()
    rows = [{"created_at": now, "actor_id": getattr(actor, "id", actor), "action": action,
             "object_type": ref.object_type, "object_id": str(ref.id), "trust_id": ref.trust_id,
             "changes": _jsonable({k: list(v) for k, v in changes.items()}), "reason": reason}
            for ref, changes, reason in items]
    bulk.insert_rows(AuditEntry.__table__, rows)
    if rows and tasks_run_in_process():
        enqueue_after_commit(SEAL_TASK)
    return len(rows)


_local_sealer = threading.Lock()


def seal(limit: int = 5_000) -> int:
    """Chain committed entries not yet sealed, oldest first, and return how many.

    Runs on a connection of its own. Only one sealer works at a time; another that finds it
    busy returns at once, because the one at work (or the next) takes every committed entry.
    """
    engine = db.engine
    on_postgresql = engine.dialect.name == "postgresql"
    if not on_postgresql and not _local_sealer.acquire(blocking=False):
        return 0
    try:
        with engine.begin() as conn:
            if on_postgresql and not conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY}
            ):
                return 0
            table = AuditEntry.__table__
            last = conn.execute(
                select(table.c.seq, table.c.hash).where(table.c.seq.is_not(None))
                .order_by(table.c.seq.desc()).limit(1)
            ).first()
            seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
            sealed = []
            for row in conn.execute(
                select(table).where(table.c.seq.is_(None)).order_by(table.c.id).limit(limit)
            ):
                seq += 1
                entry = SimpleNamespace(**{**row._mapping, "seq": seq, "prev_hash": prev_hash})
                prev_hash = entry_hash(entry)
                sealed.append({"entry_id": row.id, "new_seq": seq,
                               "new_prev_hash": entry.prev_hash, "new_hash": prev_hash})
            if sealed:
                conn.execute(
                    update(table).where(table.c.id == bindparam("entry_id")).values(
                        seq=bindparam("new_seq"), prev_hash=bindparam("new_prev_hash"),
                        hash=bindparam("new_hash")),
                    sealed,
                )
            return len(sealed)
    finally:
        if not on_postgresql:
            _local_sealer.release()


def seal_all() -> int:
    """Seal until nothing is left (for the verify command and tests)."""
    total = 0
    while count := seal():
        total += count
    return total


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
    #: Entries committed but not yet sealed into the chain (normally none, or a few seconds' worth).
    awaiting_seal: int = 0

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def verify_chain(entries: Iterable[AuditEntry] | None = None) -> ChainReport:
    """Recompute the chain of sealed entries, in order, from the first."""
    if entries is not None:
        return _check_chain(entries)
    result = db.session.scalars(
        select(AuditEntry).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq)
        .execution_options(yield_per=1000, populate_existing=True)
    )
    try:
        report = _check_chain(result)
    finally:
        result.close()
    awaiting = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
    return replace(report, awaiting_seal=awaiting or 0)


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
    """Through the ORM nothing may change an entry; only ``seal`` fills in its chain fields."""
    raise RuntimeError("the audit log is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("the audit log is append-only")
