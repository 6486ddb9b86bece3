"""audit entries are sealed into the chain after their transaction commits

Revision ID: 0005_audit_sealing
Revises: 0004_assessments
Create Date: 2026-11-24 09:00:00

A request writes its entries unsealed; a sealer gives them their place in the chain in
batches. The database still refuses every change and removal, except that one: filling in
``seq``, ``prev_hash`` and ``hash`` of an unsealed entry whose content is left exactly as it was.
"""
from alembic import op
import sqlalchemy as sa


revision = "0005_audit_sealing"
down_revision = "0004_assessments"
branch_labels = None
depends_on = None

_SAME_CONTENT = " AND ".join(
    f"NEW.{column} {{same}} OLD.{column}"
    for column in ("id", "created_at", "actor_id", "action", "object_type", "object_id",
                   "trust_id", "reason")
)


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def _create_guards(allow_sealing: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        sealing = (
            "IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND "
            + _SAME_CONTENT.format(same="IS NOT DISTINCT FROM")
            + " AND NEW.changes::text IS NOT DISTINCT FROM OLD.changes::text THEN"
            " RETURN NEW; END IF;"
            if allow_sealing else ""
        )
        op.execute(
            f"""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                {sealing}
                RAISE EXCEPTION 'the audit log is append-only';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries"
            " FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
        return
    when = (
        " WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND "
        + _SAME_CONTENT.format(same="IS")
        + " AND NEW.changes IS OLD.changes)"
        if allow_sealing else ""
    )
    op.execute(
        f"CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries{when}"
        " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries"
        " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


def upgrade():
    _drop_guards()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    _create_guards(allow_sealing=True)


def downgrade():
    if op.get_bind().execute(sa.text("SELECT 1 FROM audit_entries WHERE seq IS NULL")).first():
        raise RuntimeError("Seal the audit log first (flask audit verify) before downgrading.")
    _drop_guards()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
    _create_guards(allow_sealing=False)
