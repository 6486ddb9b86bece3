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
