"""Recording an observation: every rule in one place, every problem reported at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lms.accounts.models import User
from lms.audit import services as audit
from lms.observations.models import Observation, ObservationScore
from lms.observations.policies import may_record
from lms.observations.rubric import (
    COMMENT_MAX,
    NEXT_STEP_MAX,
    NOTE_MAX,
    RUBRIC,
    SCORES,
)
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring.models import SessionStatus, TutoringGroup, TutoringSession


@dataclass
class ObservationRecord:
    """What the observer wrote: a score (1-4) for every criterion key, optional notes."""

    observed_on: date | None
    scores: dict[str, int | None]
    notes: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    next_step: str = ""
    session: TutoringSession | None = None


class ObservationRefused(DomainError):
    """One or more rules refused the observation; ``problems`` holds each, with its field."""

    def __init__(self, problems: list[DomainError]):
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems


def score_field(key: str) -> str:
    return f"{key}_score"


def note_field(key: str) -> str:
    return f"{key}_note"


def observed_tutor_id(group: TutoringGroup, session: TutoringSession | None) -> int:
    """Who was observed: the session's tutor (a cover tutor, perhaps), else the group's."""
    return session.tutor_id if session is not None else group.tutor_id


def problems(group: TutoringGroup, record: ObservationRecord, observer: User
             ) -> list[DomainError]:
    """Everything wrong with ``record``, each on its field, in the form's order."""
    found: list[DomainError] = []
    session = record.session
    if session is not None and session.group_id != group.id:
        found.append(DomainError("Choose a session of this group", field="session_id"))
        session = None
    elif session is not None and session.status != SessionStatus.DELIVERED:
        found.append(DomainError("That session was cancelled: choose a delivered session, "
                                 "or none", field="session_id"))
    if observer is not None and observer.id == observed_tutor_id(group, session):
        found.append(DomainError("You cannot observe your own tutoring: ask another school "
                                 "leader or the tutoring lead", field="session_id"))
    found.extend(_date_problems(group, record.observed_on, session))
    for criterion in RUBRIC.criteria:
        score = record.scores.get(criterion.key)
        if score is None:
            found.append(DomainError(f"Choose a score for “{criterion.label}”",
                                     field=score_field(criterion.key)))
        elif score not in SCORES:
            found.append(DomainError(f"The score for “{criterion.label}” must be 1, 2, 3 or 4",
                                     field=score_field(criterion.key)))
        if len(record.notes.get(criterion.key) or "") > NOTE_MAX:
            found.append(DomainError(f"The note on “{criterion.label}” must be {NOTE_MAX} "
                                     "characters or fewer", field=note_field(criterion.key)))
    unknown = set(record.scores) - set(RUBRIC.keys)
    if unknown:
        found.append(DomainError(f"Not a criterion of the rubric: {', '.join(sorted(unknown))}"))
    if len(record.comment or "") > COMMENT_MAX:
        found.append(DomainError(f"The comment must be {COMMENT_MAX} characters or fewer",
                                 field="comment"))
    next_step = (record.next_step or "").strip()
    if not next_step:
        found.append(DomainError("Give the tutor one next step", field="next_step"))
    elif len(next_step) > NEXT_STEP_MAX:
        found.append(DomainError(f"The next step must be {NEXT_STEP_MAX} characters or fewer",
                                 field="next_step"))
    return found


def _date_problems(group: TutoringGroup, observed_on: date | None,
                   session: TutoringSession | None) -> list[DomainError]:
    if observed_on is None:
        return [DomainError("Enter the date of the session you observed", field="observed_on")]
    if observed_on > clock.today():
        return [DomainError("The date of the observation cannot be in the future",
                            field="observed_on")]
    if observed_on < group.starts_on:
        return [DomainError(f"The date cannot be before the group started, on "
                            f"{group.starts_on:%-d %B %Y}", field="observed_on")]
    if group.ended_on is not None and observed_on > group.ended_on:
        return [DomainError(f"The date cannot be after the group ended, on "
                            f"{group.ended_on:%-d %B %Y}", field="observed_on")]
    if session is not None and session.held_on != observed_on:
        return [DomainError(f"The session you chose was on {session.held_on:%-d %B %Y}: "
                            "enter that date, or choose no session", field="observed_on")]
    return []


def record_observation(group: TutoringGroup, record: ObservationRecord, *, observer: User
                       ) -> Observation:
    """Save the observation with its eight scores and audit it (without its notes, comment or
    next step: the log names what was scored, not what was written)."""
    if not may_record(observer, group):
        raise DomainError("Only a school leader or tutoring lead at the group's school may "
                          "record an observation, and never of themselves")
    found = problems(group, record, observer)
    if found:
        raise ObservationRefused(found)
    scores = {key: int(record.scores[key]) for key in RUBRIC.keys}
    observation = Observation(
        trust_id=group.trust_id, school_id=group.school_id, group_id=group.id,
        session_id=record.session.id if record.session else None,
        tutor_id=observed_tutor_id(group, record.session), observer_id=observer.id,
        observed_on=record.observed_on, rubric_version=RUBRIC.version,
        mean_score=round(sum(scores.values()) / len(scores), 4),
        comment=(record.comment or "").strip(), next_step=record.next_step.strip())
    observation.scores = [
        ObservationScore(criterion=key, score=score,
                         note=(record.notes.get(key) or "").strip())
        for key, score in scores.items()]
    db.session.add(observation)
    db.session.flush()
    audit.record("observations.observation_recorded", observation, actor=observer, changes={
        "tutor_id": (None, observation.tutor_id), "group_id": (None, group.id),
        "session_id": (None, observation.session_id),
        "observed_on": (None, observation.observed_on),
        "rubric_version": (None, observation.rubric_version),
        "scores": (None, scores), "mean_score": (None, observation.mean_score)})
    return observation
