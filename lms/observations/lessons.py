"""The course lessons behind each criterion, found in the course version the tutor studied.

A criterion names lessons of every pathway (``rubric.Criterion.lessons``); a tutor sees those
their own course holds, linked to their enrolment's lesson pages."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from courses.models import CourseModule, CourseVersion, Lesson
from courses.services import current_version
from lms.observations.rubric import RUBRIC, Rubric
from lms.platform.extensions import db
from lms.programme.models import Enrolment, EnrolmentStatus


@dataclass(frozen=True)
class LessonLink:
    module: str
    lesson: str
    title: str
    #: The lesson's page in the tutor's course (None for anyone but the tutor).
    url: str | None


def course_enrolment(tutor_id: int) -> Enrolment | None:
    """The enrolment a tutor's course lessons are read through: their latest pass, else their
    latest enrolment."""
    enrolments = list(db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == tutor_id)
        .order_by(Enrolment.opened_at.desc(), Enrolment.id.desc())))
    return next((e for e in enrolments if e.status == EnrolmentStatus.PASSED),
                enrolments[0] if enrolments else None)


def _version_of(enrolment: Enrolment) -> CourseVersion | None:
    if enrolment.course_version:
        pinned = db.session.scalar(select(CourseVersion).where(
            CourseVersion.pathway == enrolment.pathway,
            CourseVersion.version == enrolment.course_version))
        if pinned is not None:
            return pinned
    return current_version(enrolment.pathway)


def lessons_in(version_id: int, rubric: Rubric = RUBRIC) -> dict[str, list[Lesson]]:
    """Per criterion, the lessons of one course version it names, in the rubric's order."""
    wanted = {ref for criterion in rubric.criteria for ref in criterion.lessons}
    found = {(module_slug, lesson.slug): lesson for module_slug, lesson in db.session.execute(
        select(CourseModule.slug, Lesson).join(Lesson, Lesson.module_id == CourseModule.id)
        .where(CourseModule.course_version_id == version_id,
               CourseModule.slug.in_(sorted({m for m, _ in wanted})),
               Lesson.slug.in_(sorted({lesson for _, lesson in wanted}))))}
    return {criterion.key: [found[ref] for ref in criterion.lessons if ref in found]
            for criterion in rubric.criteria}


def lesson_links(tutor_id: int, *, linked: bool, rubric: Rubric = RUBRIC
                 ) -> dict[str, list[LessonLink]]:
    """Per criterion, the lessons behind it in the tutor's course; ``linked`` gives each its
    page in the tutor's enrolment (only the tutor can open those)."""
    enrolment = course_enrolment(tutor_id)
    version = _version_of(enrolment) if enrolment is not None else None
    if version is None:
        return {criterion.key: [] for criterion in rubric.criteria}
    module_of = {m.id: m.slug for m in version.modules}
    return {key: [LessonLink(
        module_of.get(lesson.module_id, ""), lesson.slug, lesson.title,
        url_for("courses.lesson", enrolment_id=enrolment.id, lesson_id=lesson.id)
        if linked else None) for lesson in lessons]
        for key, lessons in lessons_in(version.id, rubric).items()}
