"""Command-line tools: ``flask audit verify``, ``flask users create-admin`` and ``reset-2fa``,
``flask demo load``, ``flask tutoring rebuild-totals``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from lms.accounts import services as accounts
from lms.audit import services as audit
from lms.organisations import people
from lms.platform.errors import DomainError
from lms.platform.extensions import db

audit_cli = AppGroup("audit", help="Check the audit log.")
users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="Demonstration data.")
data_cli = AppGroup("data", help="Synthetic data for measuring the platform at scale.")
tutoring_cli = AppGroup("tutoring", help="Tutoring delivery.")


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
    from lms.platform import clock
    from lms.platform.roles import Role

    try:
        user = accounts.create_user(email, name, actor=None, password=password)
        user.email_verified_at = clock.now()
        people.grant_membership(user, Role.PROGRAMME_ADMIN, actor=None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Programme admin {user.email} created.")


@users_cli.command("erase")
@click.option("--email", required=True, help="The person's email address.")
@click.option("--reason", required=True,
              help="Why (kept in the audit log for good, so name no one).")
def erase_user(email: str, reason: str) -> None:
    """Erase a person's personal data at their request (revokes their endorsements)."""
    from lms.accounts.services import find_user_by_email
    from lms.privacy.services import erase_person

    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email address {email}.")
    try:
        report = erase_person(user, reason=reason, actor=None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Personal data of user {report.user_id} erased.")
    for label, count in report.lines():
        click.echo(f"  {label}: {count}")


@users_cli.command("reset-2fa")
@click.option("--email", required=True, help="The person whose two-factor sign-in to reset.")
@click.option("--reason", required=True, prompt="Reason (for the audit log)",
              help="Why, for the audit log (e.g. a lost phone, identity checked by phone).")
def reset_two_factor(email: str, reason: str) -> None:
    """Reset a person's two-factor sign-in (a lost phone); they set it up again at their
    next sign-in if a role needs it."""
    from lms.accounts import two_factor

    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email address {email}.")
    try:
        two_factor.reset_two_factor(user, actor=None, reason=reason)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Two-factor sign-in reset for {user.email}.")


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


@demo_cli.command("code")
def print_demo_code() -> None:
    """Print the code an authenticator app set up with the demo key shows now (demo only)."""
    from lms.demo import demo_code

    click.echo(demo_code())


@data_cli.command("generate")
@click.option("--trusts", default=25, show_default=True, type=click.IntRange(1, 1_000))
@click.option("--schools", default=2_000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--tutors", default=100_000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", default=2026, show_default=True, type=int,
              help="The same seed gives the same dataset.")
def generate_data(trusts: int, schools: int, tutors: int, seed: int) -> None:
    """Build a national-scale synthetic dataset: trusts, schools, staff and tutors at every
    stage, with attempts, endorsements, DBS checks and register entries. For measuring, never
    for a live platform; staff accounts share one password, printed at the end."""
    import time

    from flask import current_app

    from lms.insight.synthetic import Scale, generate

    if current_app.config["LMS_ENV"] == "production":
        raise click.ClickException("Synthetic data is never generated in production.")
    began = time.monotonic()
    try:
        made = generate(Scale(trusts, schools, tutors), seed=seed)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    stages = ", ".join(f"{k.removeprefix('stage:')} {v:,}" for k, v in sorted(made.items())
                       if k.startswith("stage:"))
    click.echo(f"Made {made['trusts']:,} trusts, {made['schools']:,} schools, "
               f"{made['users']:,} people and {made['register_entries']:,} register entries "
               f"in {time.monotonic() - began:.0f} s.")
    click.echo(f"Tutors by stage: {stages}.")
    click.echo(f"Staff sign in as central.t01@synthetic.example (and so on) with the password "
               f"synthetic-{seed}-password.")


@tutoring_cli.command("rebuild-totals")
def rebuild_tutoring_totals() -> None:
    """Work every trust's tutoring totals out again from its sessions (after an upgrade, or
    sessions loaded in bulk); the nightly beat does the same."""
    from lms.tutoring.totals import rebuild_all

    click.echo(f"Rebuilt the tutoring totals of {rebuild_all():,} trusts.")


def register_cli(app: Flask) -> None:
    from lms.library.cli import library_cli

    for group in (audit_cli, users_cli, demo_cli, data_cli, tutoring_cli, library_cli):
        app.cli.add_command(group)
