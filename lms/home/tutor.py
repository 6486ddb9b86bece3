"""The tutor's home page: the one next step, the days left and the progress.

The rules stay where they live: the course says what is done and what comes next
(``course_progress``), the assessment says what is still needed before an attempt
(``readiness``), and the credentials package says what the tutor holds and its live status.
This module only picks which of them the tutor should act on first.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy import select

from assessments.attempts.models import Attempt
from assessments.attempts.services import Readiness, attempts_of, lessons_to_revisit, readiness
from assessments.bank.blueprints import BLUEPRINTS
from courses.services import CourseProgress, course_progress
from credentials.endorsements.models import Endorsement
from credentials.endorsements.queries import endorsements_of
from credentials.endorsements.services import PublicStatus, public_status
from lms.accounts.models import User
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme.models import Enrolment, EnrolmentStatus
from lms.programme.queries import active_enrolment


class StepKind(enum.StrEnum):
    FINISH_ATTEMPT = "finish_attempt"
    START_COURSE = "start_course"
    CONTINUE_LESSON = "continue_lesson"
    TAKE_CHECK = "take_check"
    TAKE_ASSESSMENT = "take_assessment"
    BEFORE_NEXT_ATTEMPT = "before_next_attempt"
    NOT_READY = "not_ready"
    WINDOW_CLOSED = "window_closed"
    COURSE_UNAVAILABLE = "course_unavailable"
    ENDORSED = "endorsed"
    ENDORSEMENT_PENDING = "endorsement_pending"
    TRAINING_ENDED = "training_ended"


@dataclass(frozen=True)
class Link:
    """Somewhere the tutor can go: a route and its arguments, turned into a URL on the page."""

    label: str
    endpoint: str
    values: tuple[tuple[str, Any], ...] = ()
    #: Starting a module check changes something, so it is a form that posts the CSRF token.
    post: bool = False

    @property
    def url(self) -> str:
        return url_for(self.endpoint, **dict(self.values))


def _link(label: str, endpoint: str, *, post: bool = False, **values: Any) -> Link:
    return Link(label, endpoint, tuple(values.items()), post)


@dataclass(frozen=True)
class Line:
    """One thing to know or do; a line naming a lesson to revisit links to it."""

    text: str
    link: Link | None = None


def _lines(*texts: str) -> tuple[Line, ...]:
    return tuple(Line(text) for text in texts)


@dataclass(frozen=True)
class NextStep:
    """What the tutor should do next, in words and one button, with where they stand."""

    kind: StepKind
    title: str
    enrolment: Enrolment
    lines: tuple[Line, ...] = ()
    #: The one primary button.
    action: Link | None = None
    #: Further links (lessons to revisit, downloads).
    links: tuple[Link, ...] = ()
    #: Share of the course done, while the training is open.
    percent: int | None = None
    days_left: int | None = None
    endorsement: Endorsement | None = None
    endorsement_status: PublicStatus | None = None

    @property
    def url(self) -> str | None:
        return self.action.url if self.action else None

    @property
    def button_label(self) -> str | None:
        return self.action.label if self.action else None


def next_step(user: User, now: datetime | None = None) -> NextStep | None:
    """The tutor's next step: ``None`` for someone who is not a tutor or was never enrolled."""
    if not user.has_role(Role.TUTOR):
        return None
    now = now or clock.now()
    enrolment = active_enrolment(user)
    if enrolment is not None:
        return _while_training(enrolment, now)
    enrolment = _latest_enrolment(user)
    if enrolment is None:
        return None
    if enrolment.status == EnrolmentStatus.PASSED:
        return _after_a_pass(user, enrolment, now)
    return _after_training_ended(user, enrolment, now)


def _latest_enrolment(user: User) -> Enrolment | None:
    return db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id)
        .order_by(Enrolment.opened_at.desc(), Enrolment.id.desc()).limit(1))


# --- an open training window --------------------------------------------------------------


def _while_training(enrolment: Enrolment, now: datetime) -> NextStep:
    days = enrolment.days_left(now)
    try:
        progress = course_progress(enrolment)
    except DomainError as error:
        return NextStep(StepKind.COURSE_UNAVAILABLE, "Your course is not available yet",
                        enrolment, _lines(error.message, "Try again later."), days_left=days)
    step = _step_in_training(enrolment, progress, now)
    return replace(step, percent=progress.percent, days_left=days)


def _step_in_training(enrolment: Enrolment, progress: CourseProgress, now: datetime
                      ) -> NextStep:
    state = readiness(enrolment, now, progress=progress)
    # Readiness stops early once the window has closed, before it reads the attempts.
    attempts = state.attempts if state.allowance else attempts_of(enrolment)
    open_attempt = next((a for a in attempts if a.is_open), None)
    if open_attempt is not None:
        return _finish_attempt(enrolment, open_attempt, now)
    if state.allowance is None:
        return NextStep(StepKind.WINDOW_CLOSED, "Your training window has closed", enrolment,
                        _lines(*state.needs,
                               f"Talk to your school leader at {enrolment.school.name}."))
    if not progress.complete:
        return _carry_on_with_course(enrolment, progress)
    done = [a for a in attempts if a.submitted_at is not None]
    if state.ready:
        return _take_assessment(enrolment, state, len(done))
    if done and not done[-1].passed:
        return _before_next_attempt(enrolment, progress, state, done[-1])
    return NextStep(StepKind.NOT_READY, "Before you can start the assessment", enrolment,
                    _lines(*state.needs),
                    action=_link("Go to your assessment", "assessments.assessment",
                                 enrolment_id=enrolment.id))


def _finish_attempt(enrolment: Enrolment, attempt: Attempt, now: datetime) -> NextStep:
    ids = {"enrolment_id": enrolment.id, "attempt_id": attempt.id}
    seconds = (attempt.deadline_at - now).total_seconds()
    if seconds <= 0:
        return NextStep(StepKind.FINISH_ATTEMPT, "Your assessment time is up", enrolment,
                        _lines("Time ran out, so your saved answers are submitted for you."),
                        action=_link("See your result", "assessments.review", **ids))
    items = attempt.items
    answered = sum(1 for row in items if row.selected)
    unanswered = next((row.position for row in items if not row.selected), None)
    minutes = math.ceil(seconds / 60)
    lines = _lines(f"You have answered {answered} of {attempt.total} questions.",
                   f"Time ends at {attempt.deadline_at:%H:%M} (UTC): {minutes} minute"
                   f"{'' if minutes == 1 else 's'} left.")
    if unanswered is None:
        action = _link("Check and submit your answers", "assessments.review", **ids)
    else:
        action = _link(f"Go to question {unanswered + 1}", "assessments.question",
                       position=unanswered, **ids)
    return NextStep(StepKind.FINISH_ATTEMPT, "Finish your assessment", enrolment, lines,
                    action=action)


def _carry_on_with_course(enrolment: Enrolment, progress: CourseProgress) -> NextStep:
    lesson = progress.next_lesson
    if lesson is not None:
        module = progress.module_of(lesson)
        number = progress.modules.index(module) + 1
        where = (f"Module {number} of {len(progress.modules)}: {module.module.title}. "
                 f"About {lesson.estimated_minutes} minutes.")
        target = {"enrolment_id": enrolment.id, "lesson_id": lesson.id}
        if progress.last_lesson is None:
            return NextStep(StepKind.START_COURSE, "Start your course", enrolment,
                            _lines(f"First lesson: {lesson.title}.", where),
                            action=_link("Start the first lesson", "courses.lesson", **target))
        return NextStep(StepKind.CONTINUE_LESSON, f"Continue: {lesson.title}", enrolment,
                        _lines(where), action=_link("Continue the lesson", "courses.lesson",
                                                    **target))
    # Every lesson of the open modules is done: a module check stands before the next one.
    module = next((m for m in progress.modules
                   if m.unlocked and m.lessons_complete and not m.complete), None)
    if module is None:
        return NextStep(StepKind.CONTINUE_LESSON, "Continue your course", enrolment,
                        action=_link("Go to your course", "courses.course",
                                     enrolment_id=enrolment.id))
    return NextStep(
        StepKind.TAKE_CHECK, f"Take the check: {module.module.title}", enrolment,
        _lines("You have finished this module's lessons. Pass its short check to go on; "
               "you can try it as often as you need."),
        action=_link("Take the module check", "assessments.start_check", post=True,
                     enrolment_id=enrolment.id, topic=module.module.slug))


_ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth"}


def _attempt_name(number: int) -> str:
    return f"your {_ORDINALS[number]} attempt" if number in _ORDINALS else f"attempt {number}"


def _take_assessment(enrolment: Enrolment, state: Readiness, done: int) -> NextStep:
    blueprint = BLUEPRINTS[enrolment.pathway]
    minutes = int(state.allowance.time_limit.total_seconds() // 60)
    lines = [f"{blueprint.total_items} questions; you have {minutes} minutes once you start "
             f"and need {round(blueprint.pass_mark * 100)}% to pass."]
    if done:
        lines.append(f"You have used {done} of {state.allowance.attempts} attempts.")
    title = "Take the assessment" if not done else f"Take {_attempt_name(done + 1)}"
    return NextStep(StepKind.TAKE_ASSESSMENT, title, enrolment, _lines(*lines),
                    action=_link("Go to the assessment", "assessments.assessment",
                                 enrolment_id=enrolment.id))


def _before_next_attempt(enrolment: Enrolment, progress: CourseProgress, state: Readiness,
                         last: Attempt) -> NextStep:
    """Every need as a line; a need that names a flagged lesson links to that lesson, and the
    first of them is the button."""
    titles = set(lessons_to_revisit(progress, last))
    revisit: dict[str, Link] = {}
    for lesson in progress.version.lessons:
        if lesson.title in titles:
            revisit.setdefault(lesson.title, _link(f"Revisit “{lesson.title}”", "courses.lesson",
                                                   enrolment_id=enrolment.id,
                                                   lesson_id=lesson.id))
    lines = tuple(Line(need, next((link for title, link in revisit.items()
                                   if f"“{title}”" in need), None)) for need in state.needs)
    results = _link("See your results by topic", "assessments.result",
                    enrolment_id=enrolment.id, attempt_id=last.id)
    first = next((line.link for line in lines if line.link), None)
    return NextStep(StepKind.BEFORE_NEXT_ATTEMPT, f"Before {_attempt_name(last.number + 1)}",
                    enrolment, lines, action=first or results,
                    links=(results,) if first else ())


# --- after the window closed --------------------------------------------------------------


def _downloads(endorsement: Endorsement) -> tuple[Link, ...]:
    return (
        _link("Download the signed credential (JSON)", "credentials.credential_json",
              public_id=endorsement.public_id, download=1),
        _link("Download a printable certificate (PDF)", "credentials.credential_certificate",
              public_id=endorsement.public_id, download=1),
    )


def _after_a_pass(user: User, enrolment: Enrolment, now: datetime) -> NextStep:
    endorsement = next((e for e in endorsements_of(user) if e.enrolment_id == enrolment.id),
                       None)
    if endorsement is None:
        return NextStep(
            StepKind.ENDORSEMENT_PENDING, "Your endorsement is being prepared", enrolment,
            _lines("You passed the assessment. Your endorsement is issued within a few "
                   "seconds; refresh this page to see it."),
            action=_link("Go to your endorsements", "credentials.my_endorsements"))
    status = public_status(endorsement, now)
    title = ("Download your endorsement" if status.valid
             else f"Your endorsement is {status.headline.lower()}")
    return NextStep(
        StepKind.ENDORSED, title, enrolment, _lines(status.detail),
        action=_link("See and share your endorsement", "credentials.my_endorsements"),
        links=_downloads(endorsement), endorsement=endorsement, endorsement_status=status)


def _after_training_ended(user: User, enrolment: Enrolment, now: datetime) -> NextStep:
    """Failed, lapsed or withdrawn: say so plainly, and who can start it again."""
    if enrolment.status == EnrolmentStatus.FAILED:
        why = "You did not pass the assessment within the attempts allowed."
    elif enrolment.status == EnrolmentStatus.LAPSED:
        why = (f"Your training window closed on {enrolment.deadline_at:%-d %B %Y} "
               "before you passed the assessment.")
    else:
        when = enrolment.closed_at or now
        why = f"You were withdrawn from training on {when:%-d %B %Y}."
    lines = [why, _talk_to_leader(enrolment)]
    held = endorsements_of(user)
    endorsement = next((e for e in held if public_status(e, now).valid), held[0] if held
                       else None)
    if endorsement is None:
        return NextStep(StepKind.TRAINING_ENDED, "Your training has ended", enrolment,
                        _lines(*lines))
    status = public_status(endorsement, now)
    lines.append(f"Your earlier endorsement is still yours. {status.detail}")
    return NextStep(
        StepKind.TRAINING_ENDED, "Your training has ended", enrolment, _lines(*lines),
        action=_link("See your endorsements", "credentials.my_endorsements"),
        links=_downloads(endorsement),
        endorsement=endorsement, endorsement_status=status)


def _talk_to_leader(enrolment: Enrolment) -> str:
    return (f"Talk to your school leader at {enrolment.school.name}: "
            "they can nominate you to train again.")


__all__ = ["Line", "Link", "NextStep", "StepKind", "next_step"]
