"""Loading course versions, pinning enrolments to them, and tutors' progress."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import Row, select, update

from courses.content import (
    CONTENT_ROOT,
    TARGET_TOLERANCE,
    ContentError,
    PathwaySpec,
    read_pathways,
    render_lesson,
    render_markdown,
)
from courses.models import (
    CourseModule,
    CourseVersion,
    Lesson,
    LessonProgress,
    Resource,
    ScenarioAnswer,
)
from courses.outline import CourseOutline, LessonOutline, ModuleOutline, forget_outlines, outline_of
from lms.audit import services as audit
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.memo import forget, session_memo
from lms.programme.models import Enrolment, Pathway

#: Time counted for one sitting with a lesson is capped, so a tab left open does not count.
MAX_SITTING = timedelta(minutes=45)


@dataclass(frozen=True)
class LoadResult:
    pathway: Pathway
    version: str
    created: bool


def load_content(root: Path = CONTENT_ROOT) -> list[LoadResult]:
    """Load every pathway under ``root``. A pathway whose files are unchanged is left as it is;
    changed files become a new version, made current for new enrolments."""
    results = []
    for spec in read_pathways(root):
        existing = db.session.scalar(select(CourseVersion).where(
            CourseVersion.pathway == spec.pathway, CourseVersion.version == spec.version))
        if existing is None:
            existing = _create_version(spec)
            created = True
        else:
            created = False
        for other in db.session.scalars(select(CourseVersion).where(
                CourseVersion.pathway == spec.pathway, CourseVersion.is_current.is_(True))):
            if other.id != existing.id:
                other.is_current = False
        if not existing.is_current:
            existing.is_current = True
            audit.record("course_version.made_current", existing, actor=None,
                         changes={"version": (None, existing.version)})
        results.append(LoadResult(spec.pathway, spec.version, created))
    forget("course_versions")
    forget_outlines()
    return results


def _create_version(spec: PathwaySpec) -> CourseVersion:
    version = CourseVersion(
        pathway=spec.pathway, version=spec.version, title=spec.title,
        intro_html=render_markdown(spec.intro), target_minutes=spec.target_minutes,
        total_minutes=spec.total_minutes, is_current=False,
    )
    db.session.add(version)
    for position, module_spec in enumerate(spec.modules, start=1):
        module = CourseModule(course_version=version, slug=module_spec.slug,
                              title=module_spec.title, summary=module_spec.summary,
                              position=position, requires_previous=position > 1)
        db.session.add(module)
        for lesson_spec in module_spec.lessons:
            video = None
            if lesson_spec.video:
                video = {
                    "title": str(lesson_spec.video.get("title") or lesson_spec.title),
                    "url": lesson_spec.video.get("url"),
                    "file": lesson_spec.video.get("file"),
                    "captions": lesson_spec.video.get("captions"),
                    "transcript_html": render_markdown(str(lesson_spec.video["transcript"])),
                }
            body_html, scenarios = render_lesson(lesson_spec.body)
            db.session.add(Lesson(
                module=module, slug=lesson_spec.slug, title=lesson_spec.title,
                position=lesson_spec.order, estimated_minutes=lesson_spec.estimated_minutes,
                outcomes=lesson_spec.outcomes, body_html=body_html, scenarios=scenarios,
                video=video,
            ))
        for position_r, resource in enumerate(module_spec.resources):
            db.session.add(Resource(module=module, title=resource.title,
                                    filename=resource.filename, mimetype=resource.mimetype,
                                    content=resource.content, position=position_r,
                                    listed=resource.listed))
    db.session.flush()
    audit.record("course_version.loaded", version, actor=None,
                 changes={"pathway": (None, spec.pathway), "version": (None, spec.version)})
    return version


def _version(pathway: Pathway, version: str | None = None) -> CourseVersion | None:
    """A pathway's version (the current one unless named), read once per database session."""
    memo = session_memo("course_versions")
    key = (pathway, version)
    if key not in memo:
        query = select(CourseVersion).where(CourseVersion.pathway == pathway)
        memo[key] = db.session.scalar(query.where(
            CourseVersion.version == version if version is not None
            else CourseVersion.is_current.is_(True)))
    return memo[key]


def current_version(pathway: Pathway) -> CourseVersion | None:
    return _version(pathway)


def pin_course_version(enrolment: Enrolment) -> CourseVersion:
    """The version this enrolment studies: the one it started on, pinned at first use."""
    if enrolment.course_version:
        version = _version(enrolment.pathway, enrolment.course_version)
        if version is not None:
            return version
    version = current_version(enrolment.pathway)
    if version is None:
        raise DomainError("The course for this pathway has not been published yet.")
    changes = audit.diff(enrolment, course_version=version.version)
    if changes:
        audit.record("enrolment.course_pinned", enrolment, actor=None, changes=changes)
    return version


# --- progress -----------------------------------------------------------------------------


@dataclass
class ModuleProgress:
    module: ModuleOutline
    unlocked: bool
    #: The tutor's progress row (started, last seen, completed) per lesson they have opened.
    done: dict[int, Row] = field(default_factory=dict)
    #: The module ends with a check (when its formative items are loaded), passed or not.
    check_required: bool = False
    check_passed: bool = False

    @property
    def lessons_done(self) -> int:
        return sum(1 for p in self.done.values() if p.completed_at is not None)

    @property
    def lessons_complete(self) -> bool:
        return self.lessons_done == len(self.module.lessons)

    @property
    def complete(self) -> bool:
        """Every lesson done, and the module's check passed if it has one."""
        return self.lessons_complete and (self.check_passed or not self.check_required)

    def is_done(self, lesson: Lesson | LessonOutline) -> bool:
        progress = self.done.get(lesson.id)
        return progress is not None and progress.completed_at is not None


@dataclass
class CourseProgress:
    enrolment: Enrolment
    version: CourseOutline
    modules: list[ModuleProgress]
    last_lesson: LessonOutline | None

    @property
    def minutes_done(self) -> int:
        return sum(lesson.estimated_minutes for m in self.modules for lesson in m.module.lessons
                   if m.is_done(lesson))

    @property
    def percent(self) -> int:
        total = sum(lesson.estimated_minutes for lesson in self.version.lessons) or 1
        return min(100, round(100 * self.minutes_done / total))

    @property
    def complete(self) -> bool:
        return all(m.complete for m in self.modules)

    @property
    def next_lesson(self) -> LessonOutline | None:
        """Where to continue: the first unfinished lesson of an open module."""
        for module in self.modules:
            if not module.unlocked:
                return None
            for lesson in module.module.lessons:
                if not module.is_done(lesson):
                    return lesson
        return None

    def module_of(self, lesson: Lesson | LessonOutline) -> ModuleProgress:
        return next(m for m in self.modules if m.module.id == lesson.module_id)

    def includes(self, lesson: Lesson | LessonOutline) -> bool:
        return self.version.lesson(lesson.id) is not None


def course_progress(enrolment: Enrolment) -> CourseProgress:
    from assessments.checks.services import check_topics, checks_passed

    outline = outline_of(pin_course_version(enrolment))
    with_checks = check_topics(enrolment.pathway.value)
    passed = checks_passed(enrolment) if with_checks else set()
    rows = db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.started_at,
               LessonProgress.last_seen_at, LessonProgress.completed_at,
               LessonProgress.revisit_since, LessonProgress.revisit_seconds)
        .where(LessonProgress.enrolment_id == enrolment.id)
    ).all()
    by_lesson = {row.lesson_id: row for row in rows}
    modules = []
    previous_complete = True
    for module in outline.modules:
        progress = ModuleProgress(
            module=module,
            unlocked=previous_complete or not module.requires_previous,
            done={lesson.id: by_lesson[lesson.id] for lesson in module.lessons
                  if lesson.id in by_lesson},
            check_required=module.slug in with_checks,
            check_passed=module.slug in passed,
        )
        modules.append(progress)
        previous_complete = progress.complete and progress.unlocked
    last = max(rows, key=lambda r: r.last_seen_at, default=None)
    return CourseProgress(enrolment, outline, modules,
                          outline.lesson(last.lesson_id) if last else None)


def _check_can_study(enrolment: Enrolment, lesson: Lesson) -> CourseProgress:
    progress = course_progress(enrolment)
    if not progress.includes(lesson):
        raise DomainError("That lesson is not part of your course.")
    module = progress.module_of(lesson)
    if not module.unlocked:
        before = progress.modules[progress.modules.index(module) - 1].module
        raise DomainError(f"Finish “{before.title}” before starting this module.")
    return progress


def view_lesson(enrolment: Enrolment, lesson: Lesson, *, at: datetime | None = None
                ) -> LessonProgress:
    """Record that the tutor opened the lesson, on whichever device."""
    _check_can_study(enrolment, lesson)
    now = at or clock.now()
    progress = _progress_row(enrolment, lesson, now)
    _count_sitting(progress, now)
    db.session.flush()
    return progress


def complete_lesson(enrolment: Enrolment, lesson: Lesson, *, at: datetime | None = None
                    ) -> LessonProgress:
    """Mark a lesson done (once) and add the time since it was last opened. A lesson counts as
    done only once the tutor has spent a share of its computed minutes on it; until then
    ``LessonNotFinished`` says how long is left, and the time so far is kept (flushed)."""
    if not enrolment.is_active:
        raise DomainError("Your training window is closed, so progress can no longer change.")
    _check_can_study(enrolment, lesson)
    now = at or clock.now()
    progress = _progress_row(enrolment, lesson, now)
    _count_sitting(progress, now)
    if progress.completed_at is None:
        needed = seconds_needed(lesson)
        if progress.seconds_spent < needed:
            db.session.flush()
            raise LessonNotFinished(lesson, needed - progress.seconds_spent)
        progress.completed_at = now
    db.session.flush()
    return progress


class LessonNotFinished(DomainError):
    """Too little time on a lesson yet for it to count as done (the time so far is kept)."""

    def __init__(self, lesson: Lesson, seconds_left: int) -> None:
        minutes = max(1, math.ceil(seconds_left / 60))
        super().__init__(
            f"This lesson takes about {lesson.estimated_minutes} minutes, so it is not marked "
            f"complete yet. Take your time with it: about {minutes} more "
            f"{'minute' if minutes == 1 else 'minutes'} with the lesson and its activities, "
            "then mark it complete. The time you have spent so far is saved.")
        self.seconds_left = seconds_left


def seconds_needed(lesson: Lesson | LessonOutline) -> int:
    """How long a tutor must spend with a lesson (to complete it, or to have revisited it):
    ``LESSON_TIME_PERCENT`` of its computed minutes."""
    return math.ceil(lesson.estimated_minutes * 60 * current_app.config["LESSON_TIME_PERCENT"]
                     / 100)


def _count_sitting(progress: LessonProgress, now: datetime) -> None:
    elapsed = now - progress.last_seen_at
    if timedelta(0) < elapsed:
        counted = int(min(elapsed, MAX_SITTING).total_seconds())
        progress.seconds_spent += counted
        if progress.revisit_since is not None and progress.last_seen_at >= progress.revisit_since:
            progress.revisit_seconds += counted
    progress.last_seen_at = now


def flag_for_revisit(enrolment: Enrolment, lessons: set[tuple[str, str]], *, since: datetime
                     ) -> None:
    """A failed attempt flags lessons (module slug, lesson slug): the time the tutor spends on
    each from ``since`` on is counted afresh, and the next attempt waits for it. One statement:
    every lesson has a progress row by now (the course was complete before the attempt)."""
    outline = outline_of(pin_course_version(enrolment))
    ids = [item.id for module in outline.modules for item in module.lessons
           if (module.slug, item.slug) in lessons]
    if ids:
        db.session.execute(update(LessonProgress).where(
            LessonProgress.enrolment_id == enrolment.id, LessonProgress.lesson_id.in_(ids))
            .values(revisit_since=since, revisit_seconds=0)
            .execution_options(synchronize_session="fetch"))


def answer_scenario(enrolment: Enrolment, lesson: Lesson, number: int, answer: str,
                    *, at: datetime | None = None) -> ScenarioAnswer:
    """Keep the tutor's answer to a lesson's scenario; from then on its model answer shows.
    The first answer stands: once the model answer has been seen, it cannot be unseen."""
    if not any(s["number"] == number for s in lesson.scenarios or []):
        raise DomainError("That scenario is not part of this lesson.")
    text = (answer or "").strip()
    if not text:
        raise DomainError("Write what you would do first; then the model answer shows.",
                          field="answer")
    if len(text) > MAX_SCENARIO_ANSWER:
        raise DomainError(f"Keep your answer under {MAX_SCENARIO_ANSWER:,} characters.",
                          field="answer")
    if not enrolment.is_active:
        raise DomainError("Your training window is closed, so progress can no longer change.")
    _check_can_study(enrolment, lesson)
    existing = db.session.scalar(select(ScenarioAnswer).where(
        ScenarioAnswer.enrolment_id == enrolment.id, ScenarioAnswer.lesson_id == lesson.id,
        ScenarioAnswer.number == number))
    if existing is not None:
        return existing
    now = at or clock.now()
    _count_sitting(_progress_row(enrolment, lesson, now), now)
    row = ScenarioAnswer(enrolment_id=enrolment.id, lesson_id=lesson.id, number=number,
                         answer=text, answered_at=now)
    db.session.add(row)
    db.session.flush()
    return row


MAX_SCENARIO_ANSWER = 5000


def scenario_answers(enrolment: Enrolment, lesson: Lesson) -> dict[int, str]:
    """The tutor's answers to a lesson's scenarios, by scenario number."""
    return dict(db.session.execute(select(ScenarioAnswer.number, ScenarioAnswer.answer).where(
        ScenarioAnswer.enrolment_id == enrolment.id, ScenarioAnswer.lesson_id == lesson.id)).all())


def _progress_row(enrolment: Enrolment, lesson: Lesson, now: datetime) -> LessonProgress:
    """The tutor's row for this lesson, started now if they have not opened it before."""
    progress = db.session.scalar(select(LessonProgress).where(
        LessonProgress.enrolment_id == enrolment.id, LessonProgress.lesson_id == lesson.id))
    if progress is None:
        progress = LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id,
                                  started_at=now, last_seen_at=now)
        db.session.add(progress)
    return progress


def check_content(root: Path = CONTENT_ROOT) -> list[PathwaySpec]:
    """Read the content without loading it; raises ``ContentError`` naming the first fault,
    or the first pathway whose computed minutes stray from its target by more than 15%."""
    specs = read_pathways(root)
    for spec in specs:
        if not spec.within_target:
            raise ContentError(
                f"{spec.pathway.value}: the lessons and checks take {spec.total_minutes} minutes, "
                f"more than {round(TARGET_TOLERANCE * 100)}% from the target of "
                f"{spec.target_minutes}")
    return specs


__all__ = ["ContentError", "load_content", "course_progress", "view_lesson", "complete_lesson",
           "pin_course_version", "current_version", "check_content", "seconds_needed",
           "flag_for_revisit", "answer_scenario", "scenario_answers", "LessonNotFinished"]
