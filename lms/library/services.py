"""Loading library units (versioned by content hash, like the course) and recording tutors'
progress through them: opening a unit starts it, marking it done records its CPD minutes
once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from courses.content import render_markdown
from lms.audit import services as audit
from lms.library.content import CONTENT_ROOT, UnitSpec, read_units
from lms.library.models import LibraryUnit, UnitProgress
from lms.library.policies import may_use_library
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db


@dataclass(frozen=True)
class LoadResult:
    slug: str
    version: str
    created: bool


def load_units(root: Path = CONTENT_ROOT, topics: set[str] | None = None) -> list[LoadResult]:
    """Load every unit under ``root``. An unchanged unit is left as it is; a changed one is a
    new version, made current; a unit whose file is gone is no longer current."""
    specs = read_units(root, topics)
    results = []
    for spec in specs:
        unit = db.session.scalar(select(LibraryUnit).where(
            LibraryUnit.slug == spec.slug, LibraryUnit.version == spec.version))
        created = unit is None
        if created:
            unit = _create_unit(spec)
        for other in db.session.scalars(select(LibraryUnit).where(
                LibraryUnit.slug == spec.slug, LibraryUnit.is_current.is_(True))):
            if other.id != unit.id:
                other.is_current = False
        if not unit.is_current:
            unit.is_current = True
            audit.record("library_unit.made_current", unit, actor=None,
                         changes={"version": (None, unit.version)})
        results.append(LoadResult(spec.slug, spec.version, created))
    slugs = {spec.slug for spec in specs}
    for gone in db.session.scalars(select(LibraryUnit).where(
            LibraryUnit.is_current.is_(True), LibraryUnit.slug.not_in(slugs) if slugs
            else LibraryUnit.id.is_not(None))):
        gone.is_current = False
        audit.record("library_unit.withdrawn", gone, actor=None,
                     changes={"version": (gone.version, None)})
    db.session.flush()
    return results


def _create_unit(spec: UnitSpec) -> LibraryUnit:
    unit = LibraryUnit(
        slug=spec.slug, version=spec.version, title=spec.title, summary=spec.summary,
        phases=spec.phases, topics=spec.topics, practices=spec.practices,
        signals=spec.signals, words=spec.words, minutes=spec.minutes,
        body_html=render_markdown(spec.body), resource_title=spec.resource.title,
        resource_filename=spec.resource.filename, resource_mimetype=spec.resource.mimetype,
        resource_content=spec.resource.content, is_current=False)
    db.session.add(unit)
    db.session.flush()
    audit.record("library_unit.loaded", unit, actor=None,
                 changes={"unit": (None, spec.slug), "version": (None, spec.version)})
    return unit


def current_unit(slug: str) -> LibraryUnit | None:
    return db.session.scalar(select(LibraryUnit).where(
        LibraryUnit.slug == slug, LibraryUnit.is_current.is_(True)))


def progress_of(user, slug: str) -> UnitProgress | None:
    return db.session.scalar(select(UnitProgress).where(
        UnitProgress.user_id == user.id, UnitProgress.unit_slug == slug))


def _check_may_use(user) -> None:
    if not may_use_library(user):
        raise DomainError("The library is for endorsed tutors.")


def start_unit(user, unit: LibraryUnit) -> UnitProgress:
    """The tutor opened the unit: their progress starts (once)."""
    _check_may_use(user)
    progress = progress_of(user, unit.slug)
    if progress is None:
        progress = UnitProgress(user_id=user.id, unit_slug=unit.slug, unit_version=unit.version,
                                started_at=clock.now())
        db.session.add(progress)
        db.session.flush()
    return progress


def complete_unit(user, unit: LibraryUnit) -> UnitProgress:
    """Mark the unit done and credit its CPD minutes. Done twice, it is credited once."""
    progress = start_unit(user, unit)
    if progress.completed_at is not None:
        return progress
    progress.completed_at = clock.now()
    progress.unit_version = unit.version
    progress.minutes_credited = unit.minutes
    audit.record("library_unit.completed", progress, actor=user, changes={
        "unit": (None, unit.slug), "version": (None, unit.version),
        "minutes": (None, unit.minutes)})
    return progress
