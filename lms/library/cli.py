"""``flask library load`` and ``flask library check``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from courses.content import ContentError
from lms.library.content import CONTENT_ROOT
from lms.platform.extensions import db

library_cli = AppGroup("library", help="The endorsed tutor's library.")


@library_cli.command("load")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=CONTENT_ROOT, show_default=True)
def load(path: Path) -> None:
    """Load library units; unchanged units are left alone, changed ones get a new version."""
    from lms.library.services import load_units

    try:
        results = load_units(path)
    except ContentError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    for result in results:
        state = "loaded new version" if result.created else "unchanged, version"
        click.echo(f"{result.slug}: {state} {result.version}")


@library_cli.command("check")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=CONTENT_ROOT, show_default=True)
def check(path: Path) -> None:
    """Check the unit files without loading them."""
    from lms.library.content import read_units

    try:
        specs = read_units(path)
    except ContentError as error:
        raise click.ClickException(error.message) from error
    for spec in specs:
        click.echo(f"{spec.slug}: {spec.words} words, {spec.minutes} minutes")
