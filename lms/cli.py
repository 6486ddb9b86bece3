"""Command-line tools: ``flask audit verify``, ``flask users create-admin``, ``flask demo load``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from lms import audit
from lms.errors import DomainError
from lms.extensions import db

audit_cli = AppGroup("audit", help="Check the audit log.")
users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="Demonstration data.")


@audit_cli.command("verify")
def verify_audit() -> None:
    """Seal any new entries, recompute the hash chain; exit 1 naming the first broken entry."""
    audit.seal_all()
    report = audit.verify_chain()
    if report.ok:
        click.echo(f"Audit log intact: {report.entries_checked} entries checked.")
        return
    click.echo(f"Audit log broken at entry {report.first_broken_seq}: {report.problem}.", err=True)
    raise SystemExit(1)


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a programme admin who can sign in straight away."""
    from lms import clock, services
    from lms.models import Role

    try:
        user = services.create_user(email, name, actor=None, password=password)
        user.email_verified_at = clock.now()
        services.grant_membership(user, Role.PROGRAMME_ADMIN, actor=None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Programme admin {user.email} created.")


@demo_cli.command("load")
@click.option("--password", default="demo-password-2026", show_default=True,
              help="Password for every demo account.")
def load_demo(password: str) -> None:
    """Create a demo trust with schools and people of every role (once; safe to repeat)."""
    from lms.demo import DEMO_TRUST, load

    accounts = load(password)
    db.session.commit()
    if accounts is None:
        click.echo(f"Demo data for {DEMO_TRUST} is already loaded.")
    from lms.demo import print_accounts

    print_accounts(password)


def register_cli(app: Flask) -> None:
    for group in (audit_cli, users_cli, demo_cli):
        app.cli.add_command(group)
