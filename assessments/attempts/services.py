"""Summative attempts: readiness, drawing, autosave, grading, retakes and adjustments.

Grading happens here only; keys never leave the server. Papers and checks store the option
order they showed, and the browser sends back positions, never the bank's own indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, insert, select, true, update
from sqlalchemy.orm.util import identity_key

from assessments.attempts.events import attempt_passed
from assessments.attempts.models import (
    Adjustment,
    AdjustmentKind,
    Attempt,
    AttemptItem,
    AttemptStatus,
)
from assessments.bank.blueprints import BLUEPRINTS
from assessments.bank.models import ItemVersion
from assessments.bank.papers import draw_paper, new_seed
from assessments.bank.services import current_bank, is_correct, option_positions
from courses.services import CourseProgress, course_progress, flag_for_revisit, seconds_needed
from lms.audit import services as audit
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import Enrolment, EnrolmentStatus

#: A topic counts as secure when at least this share of its items were right.
TOPIC_SECURE = 0.8


# --- summative attempts -------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """What the blueprint allows this tutor, with the central team's adjustments added."""

    attempts: int
    time_limit: timedelta


def allowance(enrolment: Enrolment) -> Allowance:
    """Extra attempts add up; of several extra-time adjustments, the largest applies."""
    blueprint = BLUEPRINTS[enrolment.pathway]
    added = case((Adjustment.kind == AdjustmentKind.EXTRA_TIME, func.max(Adjustment.value)),
                 else_=func.sum(Adjustment.value))
    extra = dict(db.session.execute(
        select(Adjustment.kind, added).where(Adjustment.enrolment_id == enrolment.id)
        .group_by(Adjustment.kind)).all())
    return Allowance(
        attempts=blueprint.attempts + int(extra.get(AdjustmentKind.EXTRA_ATTEMPT, 0)),
        time_limit=blueprint.time_limit * (1 + int(extra.get(AdjustmentKind.EXTRA_TIME, 0)) / 100),
    )


def attempts_of(enrolment: Enrolment) -> list[Attempt]:
    return list(db.session.scalars(select(Attempt).where(
        Attempt.enrolment_id == enrolment.id).order_by(Attempt.number)))


@dataclass(frozen=True)
class Readiness:
    """Whether the tutor may start an attempt now, and if not, everything still needed."""

    needs: list[str]
    opens_at: datetime | None = None
    #: The tutor's attempts so far, and what they are allowed (when it came to checking them).
    attempts: list[Attempt] = field(default_factory=list)
    allowance: Allowance | None = None
    #: The needs that name a flagged lesson still to revisit (also in ``needs``).
    revisits: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.needs

    @property
    def other_needs(self) -> list[str]:
        """Every need but the lessons to revisit (a page that links those lists them apart)."""
        return [need for need in self.needs if need not in self.revisits]


def readiness(enrolment: Enrolment, now: datetime | None = None,
              progress: CourseProgress | None = None) -> Readiness:
    """Everything still needed before an attempt may start (``progress`` if the caller has
    already worked it out)."""
    now = now or clock.now()
    blueprint = BLUEPRINTS[enrolment.pathway]
    needs: list[str] = []
    revisits: list[str] = []
    opens_at = None
    if not enrolment.is_active:
        return Readiness([f"Your training is {enrolment.status.label.lower()}."])
    if now >= enrolment.deadline_at:
        return Readiness(["Your training window has closed."])
    progress = progress or course_progress(enrolment)
    if not all(m.lessons_complete for m in progress.modules):
        needs.append("Finish every lesson of the course.")
    missing = [m.module.title for m in progress.modules if m.check_required
               and not m.check_passed]
    if missing:
        needs.append("Pass the check at the end of: " + "; ".join(missing) + ".")
    attempts = attempts_of(enrolment)
    allowed = allowance(enrolment)
    if any(a.is_open for a in attempts):
        needs.append("Finish the attempt you have started.")
    if len(attempts) >= allowed.attempts:
        needs.append("You have used all your attempts.")
    elif attempts and attempts[-1].submitted_at is not None:
        last = attempts[-1]
        opens_at = last.submitted_at + blueprint.cool_off
        if now < opens_at:
            needs.append(f"Wait until {opens_at:%-d %B %Y at %H:%M} (UTC) before trying again.")
        if blueprint.revisit_flagged_lessons:
            revisits = [f"Revisit the lesson “{lesson}”."
                        for lesson in lessons_to_revisit(progress, last)]
            needs += revisits
        if opens_at >= enrolment.deadline_at:
            needs.append("There is not enough time left in your window for another attempt.")
    return Readiness(needs, opens_at, attempts, allowed, revisits)


def lessons_to_revisit(progress: CourseProgress, attempt: Attempt) -> list[str]:
    """Titles of flagged lessons the tutor has not yet stayed with since the attempt was
    submitted: opening one is not enough, they spend the share of its minutes a first reading
    needs (``courses.services.seconds_needed``)."""
    flagged = flagged_lessons(attempt)
    titles = []
    for module in progress.modules:
        for lesson in module.module.lessons:
            if (module.module.slug, lesson.slug) not in flagged:
                continue
            seen = module.done.get(lesson.id)
            if (seen is None or seen.revisit_since is None
                    or seen.revisit_since < attempt.submitted_at
                    or seen.revisit_seconds < seconds_needed(lesson)):
                titles.append(lesson.title)
    return titles


def start_attempt(enrolment: Enrolment, *, now: datetime | None = None) -> Attempt:
    now = now or clock.now()
    state = readiness(enrolment, now)
    if not state.ready:
        raise DomainError(" ".join(state.needs))
    blueprint = BLUEPRINTS[enrolment.pathway]
    snapshot = current_bank()
    seed = new_seed()
    paper = draw_paper(snapshot.for_pathway(enrolment.pathway.value), blueprint, seed)
    attempt = Attempt(
        enrolment_id=enrolment.id, number=len(state.attempts) + 1, seed=seed,
        started_at=now, deadline_at=now + state.allowance.time_limit,
        total=len(paper), status=AttemptStatus.IN_PROGRESS,
    )
    db.session.add(attempt)
    db.session.flush()
    db.session.execute(insert(AttemptItem), [
        {"attempt_id": attempt.id, "position": position,
         "item_version_id": snapshot.ids[item.key], "option_order": list(item.option_order)}
        for position, item in enumerate(paper)
    ])
    audit.record("attempt.started", attempt, actor=enrolment.user, trust_id=enrolment.trust_id,
                 changes={"number": (None, attempt.number)})
    return attempt


@dataclass(frozen=True)
class SavedAnswer:
    position: int
    selected: list[int]
    saved_at: datetime


def save_answer(attempt: Attempt, position: int, selected, *, now: datetime | None = None
                ) -> SavedAnswer:
    """Autosave one answer. Refused once the attempt is submitted or its time is up.

    One statement saves it, and only while the attempt is still open, holding the attempt row
    so that a submit from another tab waits for the save, or the save sees the submit: an
    answer can never change after its paper was graded. It is the busiest request of an
    assessment, so it goes straight to the table.
    """
    now = now or clock.now()
    _refuse_if_closed(attempt, now)
    positions = option_positions(selected, None)
    still_open = select(Attempt.id).where(
        Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS,
        Attempt.deadline_at > now).with_for_update(read=True)
    items = AttemptItem.__table__
    fits = (func.json_array_length(items.c.option_order) > max(positions)
            if positions else true())
    saved = db.session.execute(
        update(items)
        .where(items.c.attempt_id.in_(still_open), items.c.position == position, fits)
        .values(selected=positions, saved_at=now)
        .returning(items.c.id)
    ).first()
    if saved is None:
        _explain_unsaved(attempt, position, now)
    stale = db.session.identity_map.get(identity_key(AttemptItem, saved.id))
    if stale is not None:
        db.session.expire(stale, ["selected", "saved_at"])
    return SavedAnswer(position, positions, now)


def _refuse_if_closed(attempt: Attempt, now: datetime) -> None:
    if not attempt.is_open:
        raise DomainError("This attempt has been submitted; answers can no longer change.")
    if now >= attempt.deadline_at:
        raise DomainError("Time is up. Your saved answers have been submitted.")


def _explain_unsaved(attempt: Attempt, position: int, now: datetime) -> None:
    """Say why an answer was not saved: the attempt closed meanwhile, or a bad question or
    option number."""
    db.session.refresh(attempt)
    _refuse_if_closed(attempt, now)
    exists = db.session.scalar(select(AttemptItem.id).where(
        AttemptItem.attempt_id == attempt.id, AttemptItem.position == position))
    if exists is None:
        raise DomainError("That question is not part of this attempt.")
    raise DomainError("Choose one of the options shown")


def submit_attempt(attempt: Attempt, *, now: datetime | None = None, auto: bool = False
                   ) -> Attempt:
    """Grade an attempt once. A second submit (another tab, a double click) changes nothing;
    a submit after the time limit is refused, because the sweep submits what was saved."""
    now = now or clock.now()
    if not attempt.is_open:
        return attempt
    # Hold the attempt row: a second tab submitting at the same moment waits here, then finds
    # the attempt already graded and changes nothing.
    db.session.refresh(attempt, with_for_update=True)
    if not attempt.is_open:
        return attempt
    if not auto and now > attempt.deadline_at:
        raise DomainError("Time is up, so this attempt was submitted with your saved answers.")
    rows = db.session.execute(
        select(AttemptItem.position, AttemptItem.option_order, AttemptItem.selected,
               ItemVersion.topic, ItemVersion.lesson, ItemVersion.options)
        .join(ItemVersion, ItemVersion.id == AttemptItem.item_version_id)
        .where(AttemptItem.attempt_id == attempt.id).order_by(AttemptItem.position)).all()
    by_topic: dict[str, dict] = {}
    right: list[int] = []
    for row in rows:
        ok = is_correct(row.options, row.option_order, row.selected)
        if ok:
            right.append(row.position)
        result = by_topic.setdefault(row.topic, {"correct": 0, "total": 0, "lessons": []})
        result["total"] += 1
        result["correct"] += ok
        if not ok and row.lesson not in result["lessons"]:
            result["lessons"].append(row.lesson)
    correct = len(right)
    db.session.execute(update(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
                       .values(is_correct=AttemptItem.position.in_(right)))
    for result in by_topic.values():
        result["secure"] = result["correct"] >= TOPIC_SECURE * result["total"]
    blueprint = BLUEPRINTS[_enrolment(attempt).pathway]
    attempt.correct = correct
    attempt.passed = correct >= blueprint.pass_mark * attempt.total
    attempt.topic_results = by_topic
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = min(now, attempt.deadline_at) if auto else now
    attempt.auto_submitted = auto
    enrolment = _enrolment(attempt)
    audit.record("attempt.submitted", attempt, actor=None if auto else enrolment.user,
                 trust_id=enrolment.trust_id,
                 changes={"correct": (None, correct), "passed": (None, attempt.passed),
                          "auto_submitted": (None, auto)})
    if attempt.passed:
        enrolment.move_to(EnrolmentStatus.PASSED, "Passed the assessment.")
        audit.record("enrolment.passed", enrolment, actor=None,
                     changes={"status": ("active", "passed")})
        attempt_passed.send(enrolment)
    elif attempt.number >= allowance(enrolment).attempts:
        enrolment.move_to(EnrolmentStatus.FAILED, "Did not pass within the attempts allowed.")
        audit.record("enrolment.failed", enrolment, actor=None,
                     changes={"status": ("active", "failed")})
        _tell_school_leaders(enrolment)
    else:
        flag_for_revisit(enrolment, flagged_lessons(attempt), since=attempt.submitted_at)
    return attempt


def flagged_lessons(attempt: Attempt) -> set[tuple[str, str]]:
    """(module slug, lesson slug) of every lesson a topic not yet secure sends the tutor to."""
    return {(topic, lesson) for topic, result in (attempt.topic_results or {}).items()
            if not result["secure"] for lesson in result["lessons"]}


def _tell_school_leaders(enrolment: Enrolment) -> None:
    from lms.notifications.services import send_email
    from lms.organisations.queries import school_leaders

    for leader in school_leaders(enrolment.school_id):
        send_email(leader.email, "A tutor did not pass the assessment", "enrolment_failed",
                   leader=leader, enrolment=enrolment)


def _enrolment(attempt: Attempt) -> Enrolment:
    return db.session.get(Enrolment, attempt.enrolment_id)


def submit_timed_out(now: datetime | None = None) -> int:
    """Submit, with what was saved, every attempt whose time is up. Safe to repeat."""
    now = now or clock.now()
    due = db.session.scalars(select(Attempt).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at <= now)).all()
    for attempt in due:
        submit_attempt(attempt, now=now, auto=True)
    return len(due)


def grant_adjustment(enrolment: Enrolment, kind: AdjustmentKind | str, value: int, *,
                     reason: str, actor) -> Adjustment:
    kind = AdjustmentKind(kind)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for the adjustment", field="reason")
    limits = {AdjustmentKind.EXTRA_TIME: (5, 100), AdjustmentKind.EXTRA_ATTEMPT: (1, 2)}
    low, high = limits[kind]
    if not isinstance(value, int) or not low <= value <= high:
        raise DomainError(f"Choose a value between {low} and {high}", field="value")
    adjustment = Adjustment(enrolment_id=enrolment.id, kind=kind, value=value, reason=reason,
                            granted_by_id=getattr(actor, "id", None))
    db.session.add(adjustment)
    db.session.flush()
    audit.record("adjustment.granted", adjustment, actor=actor, reason=reason,
                 trust_id=enrolment.trust_id,
                 changes={"kind": (None, kind.value), "value": (None, value)})
    return adjustment
