"""Library worlds: the test units loaded, endorsed tutors, their passing attempt's topic
results, and units done."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from assessments.attempts.models import Attempt, AttemptStatus
from credentials.endorsements.models import Endorsement
from lms.accounts.models import User
from lms.library import services
from lms.platform import clock
from lms.platform.extensions import db

#: Small units written for the tests (their own units/ and resources/ folders).
UNITS = Path(__file__).resolve().parent / "library" / "units"
TUTOR_PASSWORD = "tutor password 2026"


def load_test_units():
    return services.load_units(UNITS)


def endorsement_of(tutor: User) -> Endorsement:
    return db.session.scalars(select(Endorsement).where(Endorsement.user_id == tutor.id)
                              .order_by(Endorsement.id.desc())).first()


def make_endorsed_tutor(school=None, **overrides) -> User:
    from tests.factories import make_endorsement

    return make_endorsement(school, **overrides).user


def record_passing_attempt(tutor: User, topic_results: dict[str, tuple[int, int]]) -> Attempt:
    """The tutor's passing attempt, graded with ``{topic: (correct, total)}``."""
    when = clock.now() - timedelta(days=30)
    results = {topic: {"correct": c, "total": t, "secure": c / t >= 0.7, "lessons": []}
               for topic, (c, t) in topic_results.items()}
    attempt = Attempt(enrolment_id=endorsement_of(tutor).enrolment_id, number=1, seed=1,
                      status=AttemptStatus.SUBMITTED, started_at=when,
                      deadline_at=when + timedelta(hours=2), submitted_at=when,
                      correct=sum(c for c, _ in topic_results.values()),
                      total=sum(t for _, t in topic_results.values()), passed=True,
                      topic_results=results)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def complete(tutor: User, slug: str):
    return services.complete_unit(tutor, services.current_unit(slug))
