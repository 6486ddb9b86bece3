import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.organisations import services
from tests.factories import make_school, make_trust, make_user


def _entries(db_session):
    return db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()


def _tamper(db_session, sql: str, **params) -> None:
    """Change the log behind the application's back, as an intruder with database access
    would: lift the append-only guard, edit, and put the guard back."""
    conn = db_session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        conn.execute(text(sql), params)
        conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
    else:
        conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        conn.execute(text(sql), params)
    db_session.commit()


def test_every_service_change_writes_an_entry_with_actor_and_before_after(db_session):
    admin = make_user()
    trust = make_trust("Oak Trust")
    school = make_school(trust, name="Old Name")
    services.update_school(school, name="New Name", phase=school.phase,
                           local_authority=school.local_authority, postcode=school.postcode,
                           actor=admin)
    db_session.commit()
    entry = _entries(db_session)[-1]
    assert entry.action == "school.updated"
    assert entry.actor_id == admin.id
    assert entry.object_type == "School" and entry.object_id == str(school.id)
    assert entry.trust_id == trust.id
    assert entry.changes == {"name": ["Old Name", "New Name"]}


def test_entries_chain_each_to_the_hash_of_the_one_before(db_session):
    make_school()
    db_session.commit()
    entries = _entries(db_session)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == audit.GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert audit.verify_chain().ok


def test_entries_hold_ids_not_personal_data(db_session):
    make_user("ada.lovelace@school.example", name="Ada Lovelace")
    db_session.commit()
    for entry in _entries(db_session):
        flat = repr((entry.changes, entry.reason, entry.object_id))
        assert "ada" not in flat.lower()


def test_the_application_cannot_change_or_delete_an_entry(db_session):
    make_trust()
    db_session.commit()
    entry = _entries(db_session)[0]
    entry.reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db_session.flush()
    db_session.rollback()
    db_session.delete(_entries(db_session)[0])
    with pytest.raises(RuntimeError, match="append-only"):
        db_session.flush()


def test_the_database_refuses_to_change_an_entry_even_with_raw_sql(db_session):
    make_trust()
    db_session.commit()
    with pytest.raises(DatabaseError):
        db_session.execute(text("UPDATE audit_entries SET reason = 'x'"))
        db_session.flush()
    db_session.rollback()
    with pytest.raises(DatabaseError):
        db_session.execute(text("DELETE FROM audit_entries"))
    db_session.rollback()


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE audit_entries SET reason = 'edited' WHERE seq = 2", "contents"),
        ("DELETE FROM audit_entries WHERE seq = 2", "missing"),
        ("UPDATE audit_entries SET prev_hash = :h WHERE seq = 2", "link"),
    ],
)
def test_verify_names_the_first_broken_entry(db_session, sql, problem):
    make_school()
    make_school()
    db_session.commit()
    _tamper(db_session, sql, h="f" * 64)
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_broken_seq == 2
    assert problem in report.problem


def test_cli_exits_0_when_intact_and_1_naming_the_entry_when_broken(app, db_session):
    make_school()
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    _tamper(db_session, "UPDATE audit_entries SET action = 'school.deleted' WHERE seq = 2")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 2" in result.output


def test_a_rolled_back_change_leaves_no_entry(db_session):
    make_trust()
    db_session.rollback()
    assert _entries(db_session) == []


# --- sealing ------------------------------------------------------------------------------


def _unsealed(db_session) -> list[AuditEntry]:
    db_session.expire_all()
    return db_session.scalars(select(AuditEntry).where(AuditEntry.seq.is_(None))).all()


def test_an_entry_is_written_unsealed_and_sealed_once_its_transaction_commits(db_session):
    make_trust()
    db_session.flush()
    pending = db_session.scalars(select(AuditEntry)).all()
    assert pending and all(not e.is_sealed for e in pending)
    db_session.commit()
    assert _unsealed(db_session) == []
    assert audit.verify_chain().ok


def test_entries_committed_while_no_sealer_ran_are_chained_in_commit_order_later(
        db_session, monkeypatch):
    monkeypatch.setattr(audit, "seal", lambda limit=5000: 0)
    make_school()
    db_session.commit()
    make_school()
    db_session.commit()
    waiting = _unsealed(db_session)
    assert len(waiting) >= 2
    assert audit.verify_chain().awaiting_seal == len(waiting)
    monkeypatch.undo()
    db_session.rollback()
    assert audit.seal_all() == len(waiting)
    report = audit.verify_chain()
    assert report.ok and report.awaiting_seal == 0
    assert report.entries_checked == len(waiting)


def test_a_sealer_that_finds_another_at_work_steps_aside(db_session):
    make_trust()
    db_session.commit()
    if db_session.get_bind().dialect.name == "postgresql":
        import psycopg

        from lms.platform.extensions import db

        dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as other:
            other.execute("SELECT pg_advisory_xact_lock(%s)", (audit._ADVISORY_LOCK_KEY,))
            make_trust()
            db_session.commit()
            assert len(_unsealed(db_session)) == 1
    else:
        with audit._local_sealer:
            make_trust()
            db_session.commit()
            assert len(_unsealed(db_session)) == 1
    db_session.rollback()
    assert audit.seal() == 1
    assert audit.verify_chain().ok


def test_the_database_lets_a_sealer_fill_in_the_chain_but_not_change_the_content(db_session,
                                                                                  monkeypatch):
    monkeypatch.setattr(audit, "seal", lambda limit=5000: 0)
    make_trust()
    db_session.commit()
    entry_id = _unsealed(db_session)[0].id
    with pytest.raises(DatabaseError):
        db_session.execute(text("UPDATE audit_entries SET seq = 1, prev_hash = 'x', hash = 'y',"
                                " action = 'trust.deleted' WHERE id = :id"), {"id": entry_id})
    db_session.rollback()
    db_session.execute(text("UPDATE audit_entries SET seq = 1, prev_hash = 'x', hash = 'y'"
                            " WHERE id = :id"), {"id": entry_id})
    db_session.commit()
    with pytest.raises(DatabaseError):
        db_session.execute(text("UPDATE audit_entries SET seq = 2 WHERE id = :id"),
                           {"id": entry_id})
    db_session.rollback()
