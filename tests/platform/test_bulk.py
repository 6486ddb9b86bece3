"""Writing many rows at once: the same rows, values and transaction as one row at a time."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from credentials.register.models import RegisterEntry, RegisterStatus
from lms.audit.models import AuditEntry
from lms.platform import bulk, clock
from lms.platform.extensions import db
from tests.factories import make_trust, make_user


def _entries(trust, count: int) -> list[RegisterEntry]:
    entries = [RegisterEntry(trust_id=trust.id, user_id=make_user().id, reasons=[],
                             status=RegisterStatus.PENDING) for _ in range(count)]
    db.session.add_all(entries)
    db.session.flush()
    return entries


def test_inserted_rows_keep_every_value_as_given(db_session):
    now = clock.now()
    rows = [{"created_at": now, "actor_id": None, "action": "test.bulk", "object_type": "Thing",
             "object_id": str(n), "trust_id": 7, "changes": {"status": ["a", f"b{n}"]},
             "reason": "Ünïcödé, \"quotes\", tabs\tand\nnewlines" if n == 1 else None}
            for n in range(3)]
    bulk.insert_rows(AuditEntry.__table__, rows)
    saved = db_session.scalars(select(AuditEntry).order_by(AuditEntry.object_id)).all()
    assert [(e.object_id, e.changes, e.reason, e.created_at) for e in saved] == [
        (str(n), {"status": ["a", f"b{n}"]}, rows[n]["reason"], now) for n in range(3)]


def test_updates_change_only_the_rows_and_columns_given(db_session):
    first, second, untouched = _entries(make_trust(), 3)
    due = date(2027, 3, 31)
    since = clock.now() - timedelta(days=2)
    bulk.update_rows(RegisterEntry.__table__, [
        {"id": first.id, "status": RegisterStatus.APPROVED, "reasons": [],
         "next_due_on": due, "status_since": since},
        {"id": second.id, "status": RegisterStatus.SUSPENDED, "reasons": ["DBS check due"],
         "next_due_on": None, "status_since": since},
    ])
    db_session.expire_all()
    assert (first.status, first.next_due_on, first.status_since) == (
        RegisterStatus.APPROVED, due, since)
    assert (second.status, second.reasons) == (RegisterStatus.SUSPENDED, ["DBS check due"])
    assert (untouched.status, untouched.reasons) == (RegisterStatus.PENDING, [])


def test_bulk_writes_roll_back_with_the_session(db_session):
    trust = make_trust()
    (entry,) = _entries(trust, 1)
    db_session.commit()
    bulk.update_rows(RegisterEntry.__table__, [{"id": entry.id, "status":
                                                RegisterStatus.APPROVED}])
    bulk.insert_rows(AuditEntry.__table__, [{
        "created_at": clock.now(), "actor_id": None, "action": "test.rolled_back",
        "object_type": "Thing", "object_id": "1", "trust_id": None, "changes": {},
        "reason": None}])
    db_session.rollback()
    assert db_session.get(RegisterEntry, entry.id).status == RegisterStatus.PENDING
    assert db_session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "test.rolled_back")) is None


def test_nothing_to_write_writes_nothing(db_session):
    bulk.insert_rows(AuditEntry.__table__, [])
    bulk.update_rows(RegisterEntry.__table__, [])
    assert db_session.scalar(select(AuditEntry.id)) is None
