"""Read-side queries for courses: progress figures for lists of tutors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, and_, func, select

from assessments.checks.models import FormativeResult
from courses.models import CourseModule, CourseVersion, Lesson, LessonProgress
from lms.platform.extensions import db
from lms.programme.models import Enrolment, Pathway


@dataclass(frozen=True)
class ProgressSummary:
    percent: int
    last_activity: datetime | None


def progress_summaries(enrolment_ids: list[int]) -> dict[int, ProgressSummary]:
    """Percentage of course minutes done and the last activity, for many enrolments at once
    (two queries whatever the number)."""
    if not enrolment_ids:
        return {}
    done = dict(db.session.execute(
        select(LessonProgress.enrolment_id, func.sum(Lesson.estimated_minutes))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrolment_id.in_(enrolment_ids),
               LessonProgress.completed_at.is_not(None))
        .group_by(LessonProgress.enrolment_id)
    ).all())
    #: The lessons' minutes (the module checks are not lessons a tutor marks done).
    lesson_minutes = (select(func.sum(Lesson.estimated_minutes))
                      .join(CourseModule, CourseModule.id == Lesson.module_id)
                      .where(CourseModule.course_version_id == CourseVersion.id)
                      .correlate(CourseVersion).scalar_subquery())
    rows = db.session.execute(
        select(Enrolment.id, lesson_minutes, func.max(LessonProgress.last_seen_at))
        .outerjoin(CourseVersion, and_(CourseVersion.pathway == Enrolment.pathway,
                                       CourseVersion.version == Enrolment.course_version))
        .outerjoin(LessonProgress, LessonProgress.enrolment_id == Enrolment.id)
        .where(Enrolment.id.in_(enrolment_ids))
        .group_by(Enrolment.id, CourseVersion.id)
    ).all()
    summaries = {}
    for enrolment_id, total, last in rows:
        minutes = done.get(enrolment_id) or 0
        percent = min(100, round(100 * minutes / total)) if total else 0
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        summaries[enrolment_id] = ProgressSummary(percent, last)
    return summaries


@dataclass(frozen=True)
class Completion:
    percent: int
    #: Every lesson done and every module check passed: the assessment may be taken.
    complete: bool


def completions(enrolments: Select) -> dict[int, Completion]:
    """How far each enrolment of ``enrolments`` (a query of ``Enrolment.id``) is through its
    course, with a fixed number of queries however many there are: the whole programme's
    tutors are counted at once when the dashboards are rebuilt."""
    from assessments.checks.services import check_topics

    counts = {(pathway, version): (minutes, lessons) for pathway, version, minutes, lessons in
              db.session.execute(
                  select(CourseVersion.pathway, CourseVersion.version,
                         CourseVersion.total_minutes, func.count(Lesson.id))
                  .join(CourseModule, CourseModule.course_version_id == CourseVersion.id)
                  .join(Lesson, Lesson.module_id == CourseModule.id)
                  .group_by(CourseVersion.id, CourseVersion.pathway, CourseVersion.version,
                            CourseVersion.total_minutes))}
    done = {row[0]: row[1:] for row in db.session.execute(
        select(LessonProgress.enrolment_id, func.sum(Lesson.estimated_minutes),
               func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrolment_id.in_(enrolments),
               LessonProgress.completed_at.is_not(None))
        .group_by(LessonProgress.enrolment_id))}
    checks = dict(db.session.execute(
        select(FormativeResult.enrolment_id, func.count(func.distinct(FormativeResult.topic)))
        .where(FormativeResult.enrolment_id.in_(enrolments), FormativeResult.passed.is_(True))
        .group_by(FormativeResult.enrolment_id)).all())
    required = {pathway: len(check_topics(pathway.value)) for pathway in Pathway}
    found = {}
    for enrolment_id, pathway, version in db.session.execute(
            select(Enrolment.id, Enrolment.pathway, Enrolment.course_version)
            .where(Enrolment.id.in_(enrolments))):
        total_minutes, lesson_count = counts.get((pathway, version), (0, 0))
        minutes, lessons = done.get(enrolment_id, (0, 0))
        percent = min(100, round(100 * (minutes or 0) / total_minutes)) if total_minutes else 0
        found[enrolment_id] = Completion(
            percent, bool(lesson_count) and lessons >= lesson_count
            and checks.get(enrolment_id, 0) >= required[pathway])
    return found
