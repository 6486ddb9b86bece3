"""Tutors' ratings of modules and the course, and the trust's survey delay.

A rating is offered once a module is done (its lessons, and its check if it has one) and once
the whole course is; it is optional, and skipping it records nothing but the choice not to be
asked again. Nothing in the course waits for a rating.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from courses.services import CourseProgress, ModuleProgress, course_progress
from lms.accounts.models import User
from lms.audit import services as audit
from lms.feedback.models import (
    COURSE,
    DEFAULT_SURVEY_WEEKS,
    MAX_COMMENT,
    FeedbackSettings,
    ModuleRating,
    SkippedRating,
)
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import Enrolment

SCALE = range(1, 6)


@dataclass(frozen=True)
class Prompt:
    """What the rating prompt shows: which module (or the course) it asks about."""

    enrolment_id: int
    module: str
    title: str

    @property
    def is_course(self) -> bool:
        return self.module == COURSE


def answered(enrolment_id: int) -> set[str]:
    """The module keys this enrolment has rated or skipped."""
    rated = db.session.scalars(select(ModuleRating.module).where(
        ModuleRating.enrolment_id == enrolment_id))
    skipped = db.session.scalars(select(SkippedRating.module).where(
        SkippedRating.enrolment_id == enrolment_id))
    return {*rated, *skipped}


def prompt_for(progress: CourseProgress, module: ModuleProgress | None,
               done: set[str]) -> Prompt | None:
    """The prompt for the module just finished (or, with ``module=None``, the finished
    course) that the tutor has neither rated nor skipped; ``done`` is ``answered(...)``.
    One prompt at a time: a module's gives way once the next is finished, and every module's
    to the course's at the end (a tutor may still rate any finished module on its page)."""
    if module is None:
        if not progress.complete or COURSE in done:
            return None
        return Prompt(progress.enrolment.id, COURSE, progress.version.title)
    if not (module.unlocked and module.complete) or module.module.slug in done:
        return None
    later = progress.modules[progress.modules.index(module) + 1:]
    if progress.complete or any(m.complete for m in later):
        return None  # asked while it is the module just finished; the course's own at the end
    return Prompt(progress.enrolment.id, module.module.slug, module.module.title)


def prompt_before(progress: CourseProgress, lesson_id: int, done: set[str]) -> Prompt | None:
    """On the first lesson of a module: the prompt for the module just finished before it."""
    for index, module in enumerate(progress.modules):
        lessons = module.module.lessons
        if lessons and lessons[0].id == lesson_id:
            return prompt_for(progress, progress.modules[index - 1], done) if index else None
    return None


def _finished(enrolment: Enrolment, module: str) -> tuple[CourseProgress, str]:
    """The tutor's progress, once the module (or the course) is finished; its title."""
    progress = course_progress(enrolment)
    if module == COURSE:
        if not progress.complete:
            raise DomainError("You can rate the course once you have finished every module.")
        return progress, progress.version.title
    found = next((m for m in progress.modules if m.module.slug == module), None)
    if found is None:
        raise DomainError("That module is not part of your course.")
    if not (found.unlocked and found.complete):
        raise DomainError("You can rate a module once you have finished its lessons and check.")
    return progress, found.module.title


def _score(value: object, field: str, question: str) -> int:
    try:
        score = int(str(value).strip())
    except (TypeError, ValueError):
        score = 0
    if score not in SCALE:
        raise DomainError(f"Choose a number from 1 to 5 for “{question}”.", field=field)
    return score


def rate(enrolment: Enrolment, module: str, *, clear: object, useful: object,
         comment: str = "") -> ModuleRating:
    """Keep the tutor's rating of a finished module (or the course): once only."""
    text = (comment or "").strip()
    clear_score = _score(clear, "clear", "How clear was it?")
    useful_score = _score(useful, "useful", "How useful is it for your tutoring?")
    if len(text) > MAX_COMMENT:
        raise DomainError(f"Keep your comment to {MAX_COMMENT} characters "
                          f"(it has {len(text)}).", field="comment")
    progress, _title = _finished(enrolment, module)
    if db.session.scalar(select(ModuleRating.id).where(
            ModuleRating.enrolment_id == enrolment.id, ModuleRating.module == module)):
        raise DomainError("You have already rated this. Thank you.")
    rating = ModuleRating(
        enrolment_id=enrolment.id, user_id=enrolment.user_id, pathway=enrolment.pathway,
        module=module, course_version=progress.version.version, clear=clear_score,
        useful=useful_score, comment=text, created_at=clock.now())
    db.session.add(rating)
    db.session.flush()
    return rating


def skip(enrolment: Enrolment, module: str) -> None:
    """Hide the prompt for this module (or the course): nothing is rated."""
    if db.session.scalar(select(SkippedRating.id).where(
            SkippedRating.enrolment_id == enrolment.id, SkippedRating.module == module)):
        return
    db.session.add(SkippedRating(enrolment_id=enrolment.id, module=module,
                                 skipped_at=clock.now()))
    db.session.flush()


# --- the trust's survey delay --------------------------------------------------------------


def survey_weeks(trust_id: int) -> int:
    found = db.session.get(FeedbackSettings, trust_id)
    return found.survey_weeks if found else DEFAULT_SURVEY_WEEKS


def set_survey_weeks(trust_id: int, weeks: int | None, *, actor: User) -> FeedbackSettings:
    if weeks is None or not 2 <= weeks <= 26:
        raise DomainError("Ask school leaders between 2 and 26 weeks after the endorsement.",
                          field="survey_weeks")
    found = db.session.get(FeedbackSettings, trust_id)
    if found is None:
        found = FeedbackSettings(trust_id=trust_id, survey_weeks=DEFAULT_SURVEY_WEEKS)
        db.session.add(found)
        db.session.flush()
    changes = audit.diff(found, survey_weeks=weeks)
    found.updated_by_id, found.updated_at = actor.id, clock.now()
    audit.record("feedback.settings_changed", audit.Ref("Trust", trust_id, trust_id),
                 actor=actor, trust_id=trust_id, changes=changes)
    return found
