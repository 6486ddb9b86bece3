"""``flask courses load`` and ``flask courses check``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from courses.content import CONTENT_ROOT, ContentError
from lms.platform.extensions import db

courses_cli = AppGroup("courses", help="Course content.")


@courses_cli.command("load")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=CONTENT_ROOT, show_default=True)
def load(path: Path) -> None:
    """Load course content; unchanged pathways are left alone, changed ones get a new version."""
    from courses.services import load_content

    try:
        results = load_content(path)
    except ContentError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    for result in results:
        state = "loaded new version" if result.created else "unchanged, version"
        click.echo(f"{result.pathway.value}: {state} {result.version}")


@courses_cli.command("check")
@click.option("--path", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=CONTENT_ROOT, show_default=True)
def check(path: Path) -> None:
    """Check the content files without loading them."""
    from courses.content import read_pathways
    from courses.services import check_content

    try:
        specs = read_pathways(path)
    except ContentError as error:
        raise click.ClickException(error.message) from error
    for spec in specs:
        lessons = sum(len(m.lessons) for m in spec.modules)
        click.echo(f"{spec.pathway.value}: {len(spec.modules)} modules, {lessons} lessons, "
                   f"{spec.words} words, {spec.total_minutes} of {spec.target_minutes} minutes")
        for module in spec.modules:
            click.echo(f"  {module.slug}: {spec.module_minutes(module)} minutes")
    try:
        check_content(path)
    except ContentError as error:
        raise click.ClickException(error.message) from error
