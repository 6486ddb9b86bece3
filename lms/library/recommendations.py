"""Units recommended to a tutor from the evidence, each with the reasons in plain words:

- **assessment**: the topics of their passing summative attempt on which they scored under
  70% (lowest share first) recommend the units that follow on from those topics;
- **observations**: the rubric criteria their latest observation scored under 3 of 4
  recommend the units that strengthen those practices;
- **their pupils** (the groups they tutor now): attendance under 80% over each group's last
  4 delivered sessions, or a pupil who missed 3 sessions in a row, recommends units with the
  ``attendance`` signal; pupils below the progress expected towards their target recommend
  ``progress``; pupils with SEND recommend ``send``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from assessments.attempts.models import Attempt
from courses.models import CourseModule
from lms.library.content import PRACTICES
from lms.library.models import LibraryUnit
from lms.library.queries import progress_by_unit
from lms.platform.extensions import db
from lms.programme.models import Enrolment
from lms.tutoring.models import (
    GroupPupil,
    GroupState,
    GroupStatus,
    PlaceState,
    Pupil,
    TutoringGroup,
)

#: A topic scored under this share correct is a weak one.
WEAK_TOPIC_SHARE = 0.7
#: A criterion scored under this (of 4) is one to work on.
WEAK_PRACTICE_SCORE = 3
#: Attendance over the groups' recent sessions under this share is low.
LOW_ATTENDANCE_SHARE = 0.8
#: Absences in a row that count as a pupil missing sessions.
MISSED_IN_A_ROW = 3
#: A pupil is judged against their target once they have been in the group this long...
PROGRESS_AFTER = timedelta(weeks=6)
#: ...and is below the progress expected if they have made under half the planned gain.
EXPECTED_SHARE_OF_GAIN = 0.5

_NUMBERS = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine",
            "Ten"]


def _your_pupils(n: int) -> str:
    """"Two of your pupils"."""
    return f"{_NUMBERS[n] if n < len(_NUMBERS) else n} of your pupils"


@dataclass
class Recommendation:
    unit: LibraryUnit
    reasons: list[str] = field(default_factory=list)


def observation_scores(tutor_ids: set[int]) -> dict[int, dict[str, float]]:
    """Per tutor, per rubric criterion, their latest observation's scores (owned by the
    observations domain)."""
    from lms.observations.queries import latest_scores

    return latest_scores(tutor_ids)


def _module_titles(slugs) -> dict[str, str]:
    if not slugs:
        return {}
    return dict(db.session.execute(select(CourseModule.slug, func.max(CourseModule.title))
                                   .where(CourseModule.slug.in_(slugs))
                                   .group_by(CourseModule.slug)).all())


def weak_topics(user_id: int) -> list[tuple[str, int, int]]:
    """The topics of the tutor's latest passing attempt scored under 70%: (topic, correct,
    total), weakest first."""
    results = db.session.scalar(
        select(Attempt.topic_results).join(Enrolment, Enrolment.id == Attempt.enrolment_id)
        .where(Enrolment.user_id == user_id, Attempt.passed.is_(True))
        .order_by(Attempt.submitted_at.desc(), Attempt.id.desc()).limit(1)) or {}
    weak = []
    for topic, result in results.items():
        total = int(result.get("total") or 0)
        correct = int(result.get("correct") or 0)
        if total and correct / total < WEAK_TOPIC_SHARE:
            weak.append((topic, correct, total))
    return sorted(weak, key=lambda t: (t[1] / t[2], t[0]))


def _assessment_reasons(user_id: int) -> dict[str, list[str]]:
    weak = weak_topics(user_id)
    titles = _module_titles([t for t, _, _ in weak])
    return {topic: [f"You scored {correct} of {total} on "
                    f"{titles.get(topic, topic.replace('-', ' ').capitalize())} "
                    "in your assessment"]
            for topic, correct, total in weak}


def _observation_reasons(user_id: int) -> dict[str, list[str]]:
    scores = observation_scores({user_id}).get(user_id) or {}
    return {key: [f"Your last observation scored '{PRACTICES.get(key, key)}' {score:g} of 4"]
            for key, score in sorted(scores.items(), key=lambda kv: kv[1])
            if score < WEAK_PRACTICE_SCORE}


def _current_places(user_id: int):
    return (select(GroupPupil).join(TutoringGroup, TutoringGroup.id == GroupPupil.group_id)
            .where(TutoringGroup.tutor_id == user_id, GroupPupil.left_on.is_(None),
                   TutoringGroup.status != GroupStatus.ENDED))


def _pupil_reasons(user_id: int) -> dict[str, list[str]]:
    reasons: dict[str, list[str]] = {"attendance": [], "progress": [], "send": []}
    groups = select(TutoringGroup.id).where(TutoringGroup.tutor_id == user_id,
                                            TutoringGroup.status != GroupStatus.ENDED)
    marks, attended = db.session.execute(
        select(func.coalesce(func.sum(GroupState.recent_marks), 0),
               func.coalesce(func.sum(GroupState.recent_attended), 0))
        .where(GroupState.group_id.in_(groups))).one()
    if marks and attended / marks < LOW_ATTENDANCE_SHARE:
        reasons["attendance"].append(
            f"Your pupils attended {round(100 * attended / marks)}% of their places over "
            "your groups' last sessions")
    places = db.session.scalars(_current_places(user_id)).all()
    missed = db.session.scalar(
        select(func.count(func.distinct(PlaceState.pupil_id)))
        .join(GroupPupil, (GroupPupil.group_id == PlaceState.group_id)
              & (GroupPupil.pupil_id == PlaceState.pupil_id))
        .where(GroupPupil.id.in_([p.id for p in places]),
               PlaceState.absent_run >= MISSED_IN_A_ROW)) if places else 0
    if missed:
        reasons["attendance"].append(
            f"{_your_pupils(missed)} missed {MISSED_IN_A_ROW} sessions in a row")
    behind = {p.pupil_id for p in places if _below_expected(p)}
    if behind:
        reasons["progress"].append(
            f"{_your_pupils(len(behind))} "
            f"{'is' if len(behind) == 1 else 'are'} below the progress expected towards "
            "their target")
    send = db.session.scalar(select(func.count(func.distinct(Pupil.id))).where(
        Pupil.id.in_([p.pupil_id for p in places]), Pupil.send.is_(True))) if places else 0
    if send:
        reasons["send"].append(
            f"{_your_pupils(send)} {'has' if send == 1 else 'have'} special "
            "educational needs (SEND)")
    return {signal: found for signal, found in reasons.items() if found}


def _below_expected(place: GroupPupil) -> bool:
    if None in (place.baseline, place.target, place.current, place.current_on):
        return False
    if place.target <= place.baseline or place.current_on - place.joined_on < PROGRESS_AFTER:
        return False
    return place.current - place.baseline < EXPECTED_SHARE_OF_GAIN * (
        place.target - place.baseline)


def recommend(user, units: list[LibraryUnit]) -> list[Recommendation]:
    """The units (not yet done) the evidence points to, the most reasons first."""
    done = {slug for slug, p in progress_by_unit(user.id).items() if p.is_complete}
    by_topic = _assessment_reasons(user.id)
    by_practice = _observation_reasons(user.id)
    by_signal = _pupil_reasons(user.id)
    found = []
    for unit in units:
        if unit.slug in done:
            continue
        reasons = [r for t in unit.topics for r in by_topic.get(t, [])]
        reasons += [r for p in unit.practices for r in by_practice.get(p, [])]
        reasons += [r for s in unit.signals for r in by_signal.get(s, [])]
        if reasons:
            found.append(Recommendation(unit, list(dict.fromkeys(reasons))))
    return sorted(found, key=lambda r: (-len(r.reasons), r.unit.title))
