"""The migrations, not ``create_all``, build the schema; and they match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from lms.platform.extensions import db


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_go_down_and_up_again(app):
    db.session.remove()
    downgrade(revision="base")
    assert "schools" not in inspect(db.engine).get_table_names()
    upgrade()
    assert {"trusts", "schools", "users", "memberships", "audit_entries"} <= set(
        inspect(db.engine).get_table_names()
    )
