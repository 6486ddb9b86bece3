"""Reading library units: Markdown files with YAML front matter in ``content/units/``, each
with a downloadable resource in ``content/resources/``. Front matter, rendering and word
counting are the course content's own (``courses.content``, ``courses.lesson_parts``)."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

from courses import lesson_parts
from courses.content import CONTENT_ROOT as COURSE_CONTENT_ROOT
from courses.content import ContentError, ResourceSpec, read_front_matter
from lms.observations.rubric import RUBRIC
from lms.programme.models import TutoringPhase

CONTENT_ROOT = Path(__file__).resolve().parent / "content"
#: A unit is a substantial read: at least this many words (its references left out).
MIN_WORDS = 800
#: Minutes credited for using a unit's checklist or template.
RESOURCE_MINUTES = 10
#: The pupil evidence a unit may answer.
SIGNALS = ("attendance", "progress", "send")
#: The observation rubric's criteria (owned by the observations domain), and how they read.
PRACTICES = {criterion.key: criterion.label for criterion in RUBRIC.criteria}
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class UnitSpec:
    slug: str
    title: str
    summary: str
    phases: list[str]
    topics: list[str]
    practices: list[str]
    signals: list[str]
    body: str
    resource: ResourceSpec
    version: str
    source: Path

    @property
    def words(self) -> int:
        return lesson_parts.reading_words(self.body)

    @property
    def minutes(self) -> int:
        return unit_minutes(self.words)


def unit_minutes(words: int) -> int:
    """Words at 200 a minute (rounded up), plus the time the resource asks for."""
    return math.ceil(words / lesson_parts.READING_WORDS_PER_MINUTE) + RESOURCE_MINUTES


def course_topics(root: Path = COURSE_CONTENT_ROOT) -> set[str]:
    """The course's module slugs: the assessment's topics a unit may follow on from."""
    modules = root / "modules"
    return {f.name for f in modules.iterdir() if f.is_dir()} if modules.is_dir() else set()


def _text(meta: dict, key: str, path: Path) -> str:
    value = meta.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{path}: '{key}' is missing")
    return value.strip()


def _keys(meta: dict, key: str, path: Path, allowed, what: str, required: bool = True
          ) -> list[str]:
    value = meta.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(f"{path}: '{key}' must be a list")
    if required and not value:
        raise ContentError(f"{path}: '{key}' needs at least one {what}")
    for item in value:
        if item not in allowed:
            raise ContentError(f"{path}: unknown {what} {item!r} in '{key}' "
                               f"(known: {', '.join(sorted(allowed))})")
    return list(value)


def read_unit(path: Path, root: Path, topics: set[str]) -> UnitSpec:
    meta, body = read_front_matter(path)
    slug = meta.get("unit")
    if slug != path.stem or not _SLUG.match(path.stem):
        raise ContentError(f"{path}: 'unit' must be the file's name, {path.stem!r}")
    resource = meta.get("resource")
    if not isinstance(resource, dict) or not resource.get("file"):
        raise ContentError(f"{path}: 'resource' needs a 'title' and a 'file'")
    name = str(resource["file"])
    file = root / "resources" / name
    if "/" in name or "\\" in name or not file.is_file():
        raise ContentError(f"{path}: resource file {name!r} is missing from resources/")
    try:
        lesson_parts.sections(body)
    except lesson_parts.LessonTextError as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if "## " not in body:
        raise ContentError(f"{path}: a unit is written in '## ' sections")
    content = file.read_bytes()
    spec = UnitSpec(
        slug=slug,
        title=_text(meta, "title", path),
        summary=_text(meta, "summary", path),
        phases=_keys(meta, "phases", path, {p.value for p in TutoringPhase}, "phase"),
        topics=_keys(meta, "topics", path, topics, "topic", required=False),
        practices=_keys(meta, "practices", path, PRACTICES, "practice", required=False),
        signals=_keys(meta, "signals", path, SIGNALS, "signal", required=False),
        body=body,
        resource=ResourceSpec(_text(resource, "title", path), name, content),
        version=_version_of(path, name, content),
        source=path,
    )
    if spec.words < MIN_WORDS:
        raise ContentError(f"{path}: the body has {spec.words} words; a unit needs at least "
                           f"{MIN_WORDS}")
    return spec


def read_units(root: Path = CONTENT_ROOT, topics: set[str] | None = None) -> list[UnitSpec]:
    """Read and check every unit under ``root``; raise ``ContentError`` on the first fault."""
    topics = course_topics() if topics is None else topics
    return [read_unit(path, root, topics) for path in sorted((root / "units").glob("*.md"))]


def _version_of(path: Path, resource_name: str, resource: bytes) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(b"\0resource\0" + resource_name.encode() + b"\0" + resource)
    return digest.hexdigest()[:16]
