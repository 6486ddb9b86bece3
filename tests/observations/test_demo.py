"""The demo trust's observations (``demo load`` records them): some of its tutors with groups
observed over time by their school's leaders, through the real service, dated on their
sessions, the clock put back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lms import demo
from lms.observations import queries
from lms.observations.demo import TUTORS_OBSERVED
from lms.observations.models import Observation
from lms.organisations.models import Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring.policies import runs_tutoring_at


def test_the_demo_trust_has_tutors_observed_over_time(db_session):
    demo.load("demo password 2026")
    trust = db.session.query(Trust).filter_by(name=demo.DEMO_TRUST).one()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)  # the clock is back
    made = db.session.query(Observation).filter_by(trust_id=trust.id).all()
    tutors = {o.tutor_id for o in made}
    assert len(tutors) == TUTORS_OBSERVED and 7 <= len(made) <= 9
    for observation in made:
        assert observation.session is not None
        assert observation.observed_on == observation.session.held_on < clock.today()
        assert observation.created_at.date() == observation.observed_on
        assert observation.observer_id != observation.tutor_id
        assert runs_tutoring_at(observation.observer, observation.school_id)
    for tutor_id in tutors:
        history = queries.over_time(queries.observations_of(tutor_id))
        assert len(history) >= 2 and history[-1].change > 0
    assert set(queries.mean_score_by_tutor()) == tutors
