"""``flask assessments load``: load (or update) the item bank from ``assessments/items``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from assessments.bank.items import ITEMS_ROOT, BankError
from lms.platform.extensions import db

assessments_cli = AppGroup("assessments", help="The item bank.")


@assessments_cli.command("load")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=ITEMS_ROOT, show_default=True)
def load(path: Path) -> None:
    """Load the bank; unchanged items are left alone, reworded ones get a new version."""
    from assessments.bank.services import load_bank

    try:
        added, current = load_bank(path)
    except BankError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{current} items current, {added} new versions loaded.")


@assessments_cli.command("lint")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=ITEMS_ROOT, show_default=True)
@click.option("--topic", help="Only report the items of this topic (the bank's figures stay "
                              "whole-bank).")
def lint(path: Path, topic: str | None) -> None:
    """Check the bank against the item-writing rules; exit 1 on any error."""
    from assessments.bank.items import read_bank
    from assessments.bank.lint import lint_bank

    try:
        bank = read_bank(path)
    except BankError as error:
        raise click.ClickException(error.message) from error
    report = lint_bank(bank)
    topics = {item.key: item.topic for item in bank.items}
    for finding in report.findings:
        if topic and topics.get(finding.key, finding.key.strip("()")) != topic \
                and finding.key != "(bank)":
            continue
        level = "error" if finding.error else "warning"
        click.echo(f"{finding.key}: {level} [{finding.rule}] {finding.message}")
    for name, value in report.figures.items():
        click.echo(f"bank: {name} = {value}")
    click.echo(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    if report.errors:
        raise SystemExit(1)
