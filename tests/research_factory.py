"""Research worlds: tutors trained (their passing attempt's score and number, when they
were endorsed), their groups, sessions and pupils' progress, built through the real services
where there is one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from assessments.attempts.models import Attempt, AttemptStatus
from credentials.endorsements.models import Endorsement
from lms.accounts.models import User
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring.models import TutoringGroup
from tests.tutoring_factory import log_delivered, make_cleared_tutor, make_group

ATTEMPT_ITEMS = 40


def _attempt(enrolment_id: int, number: int, *, correct: int, passed: bool) -> Attempt:
    when = clock.now() - timedelta(days=120 - number)
    attempt = Attempt(enrolment_id=enrolment_id, number=number, seed=number,
                      status=AttemptStatus.SUBMITTED, started_at=when,
                      deadline_at=when + timedelta(hours=2), submitted_at=when,
                      correct=correct, total=ATTEMPT_ITEMS, passed=passed, topic_results={})
    db.session.add(attempt)
    return attempt


def make_trained_tutor(school: School, *, score: float = 75, attempts: int = 1,
                       weeks_ago: int = 2, phase: str = "primary", **overrides) -> User:
    """A tutor endorsed ``weeks_ago`` weeks ago who passed on attempt ``attempts`` with
    ``score`` percent (the attempts before it failed), approved on the register for
    ``school``."""
    tutor = make_cleared_tutor(school, tutoring_phase=phase, **overrides)
    endorsement = db.session.scalars(select(Endorsement).where(
        Endorsement.user_id == tutor.id).order_by(Endorsement.id.desc())).first()
    for number in range(1, attempts):
        _attempt(endorsement.enrolment_id, number, correct=ATTEMPT_ITEMS // 2, passed=False)
    _attempt(endorsement.enrolment_id, attempts, correct=round(ATTEMPT_ITEMS * score / 100),
             passed=True)
    endorsement.issued_at = clock.now() - timedelta(weeks=weeks_ago, hours=1)
    db.session.flush()
    return tutor


def make_tutored_group(school: School, tutor: User, *, pupils: int = 2, sessions: int = 2,
                       absent_first: int = 0, progress: tuple[float, float, float] | None
                       = (40, 50, 45), programme=None) -> TutoringGroup:
    """A group of ``tutor``'s with ``sessions`` delivered (the first ``absent_first`` pupils
    absent from the first), and each pupil's baseline, target and current as ``progress``."""
    group = make_group(school, tutor=tutor, pupil_count=pupils, programme=programme,
                       starts_on=clock.today() - timedelta(weeks=sessions + 1))
    absent = tuple(place.pupil_id for place in group.places[:absent_first])
    for week in range(sessions, 0, -1):
        log_delivered(group, clock.today() - timedelta(weeks=week),
                      absent=absent if week == sessions else ())
    if progress is not None:
        baseline, target, current = progress
        for place in group.places:
            place.baseline, place.target, place.current = baseline, target, current
            place.current_on = clock.today()
    db.session.flush()
    return group


# --- pilots and the research export ------------------------------------------------------


def give_research_consent(school: School, actor: User | None = None):
    """Consent for research use recorded for ``school`` (by a leader of it, made if not
    given)."""
    from lms.platform.roles import Role
    from lms.research.export import record_consent
    from tests.factories import make_member

    actor = actor or make_member(Role.SCHOOL_LEADER, school=school)
    return record_consent(school, actor=actor)


def make_pilot(trust, programme, *, comparison_programme=None, comparison_schools=(),
               schools=(), outcome: str = "attendance_percent", days: int = 60,
               ends_in_days: int = -1, **overrides):
    """A pilot of ``programme`` against another programme (or some schools), ending
    ``ends_in_days`` from today (already ended by default)."""
    from lms.research.pilots import PilotTerms, create_pilot

    ends_on = clock.today() + timedelta(days=ends_in_days)
    terms = PilotTerms(
        name=overrides.pop("name", "Small-group maths pilot"), programme_key=programme.key,
        comparison_kind="programme" if comparison_programme is not None else "schools",
        comparison_programme_key=comparison_programme.key if comparison_programme else None,
        comparison_school_ids=[s.id for s in comparison_schools],
        school_ids=[s.id for s in schools], starts_on=ends_on - timedelta(days=days),
        ends_on=ends_on, outcome=outcome, **overrides)
    return create_pilot(trust, terms)
