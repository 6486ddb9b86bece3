"""A course version's outline (modules, lessons, downloads) as plain, immutable data.

Every tutor page works out progress against the outline. A loaded version never changes (new
files make a new version), so each process builds an outline once, from three small queries,
and keeps it; loading content in this process starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from courses.models import CourseModule, CourseVersion, Lesson, Resource
from lms.platform.extensions import db
from lms.programme.models import Pathway


@dataclass(frozen=True)
class LessonOutline:
    id: int
    module_id: int
    slug: str
    title: str
    position: int
    estimated_minutes: int


@dataclass(frozen=True)
class ResourceOutline:
    id: int
    title: str
    filename: str
    #: Listed for download on the module (captions files are served but not listed).
    listed: bool


@dataclass(frozen=True)
class ModuleOutline:
    id: int
    slug: str
    title: str
    summary: str
    position: int
    requires_previous: bool
    lessons: tuple[LessonOutline, ...]
    resources: tuple[ResourceOutline, ...]

    @property
    def estimated_minutes(self) -> int:
        return sum(lesson.estimated_minutes for lesson in self.lessons)


@dataclass(frozen=True)
class CourseOutline:
    id: int
    pathway: Pathway
    version: str
    title: str
    intro_html: str
    target_minutes: int
    total_minutes: int
    modules: tuple[ModuleOutline, ...]

    @property
    def lessons(self) -> list[LessonOutline]:
        return [lesson for module in self.modules for lesson in module.lessons]

    def lesson(self, lesson_id: int) -> LessonOutline | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


_outlines: dict[tuple[int, str], CourseOutline] = {}


def outline_of(version: CourseVersion) -> CourseOutline:
    key = (version.id, version.version)
    outline = _outlines.get(key)
    if outline is None:
        outline = _outlines[key] = _build(version)
    return outline


def forget_outlines() -> None:
    _outlines.clear()


def _build(version: CourseVersion) -> CourseOutline:
    modules = db.session.execute(
        select(CourseModule.id, CourseModule.slug, CourseModule.title, CourseModule.summary,
               CourseModule.position, CourseModule.requires_previous)
        .where(CourseModule.course_version_id == version.id).order_by(CourseModule.position)
    ).all()
    ids = [m.id for m in modules]
    lessons: dict[int, list[LessonOutline]] = {i: [] for i in ids}
    for row in db.session.execute(
        select(Lesson.id, Lesson.module_id, Lesson.slug, Lesson.title, Lesson.position,
               Lesson.estimated_minutes)
        .where(Lesson.module_id.in_(ids)).order_by(Lesson.module_id, Lesson.position)
    ):
        lessons[row.module_id].append(LessonOutline(*row))
    resources: dict[int, list[ResourceOutline]] = {i: [] for i in ids}
    for row in db.session.execute(
        select(Resource.module_id, Resource.id, Resource.title, Resource.filename,
               Resource.listed)
        .where(Resource.module_id.in_(ids)).order_by(Resource.module_id, Resource.position)
    ):
        resources[row.module_id].append(ResourceOutline(*row[1:]))
    return CourseOutline(
        id=version.id, pathway=version.pathway, version=version.version, title=version.title,
        intro_html=version.intro_html, target_minutes=version.target_minutes,
        total_minutes=version.total_minutes,
        modules=tuple(
            ModuleOutline(m.id, m.slug, m.title, m.summary, m.position, m.requires_previous,
                          tuple(lessons[m.id]), tuple(resources[m.id]))
            for m in modules
        ),
    )
