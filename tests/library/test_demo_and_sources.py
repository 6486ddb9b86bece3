"""The demo's library, and the observation scores read from the observations domain."""

import sys
import types

from sqlalchemy import select

from lms.library import queries
from lms.library.demo import load_demo
from lms.library.models import UnitProgress
from lms.library.recommendations import observation_scores as read_observation_scores
from lms.platform import clock
from lms.platform.extensions import db
from tests.factories import make_school, make_trust
from tests.library_factory import UNITS, make_endorsed_tutor


def test_the_demo_records_progress_and_completions_in_the_past(db_session):
    trust = make_trust()
    tutors = [make_endorsed_tutor(make_school(trust)) for _ in range(3)]
    outsider = make_endorsed_tutor(make_school(make_trust()))
    before = clock.now()
    completed = load_demo(trust, UNITS)
    assert completed == 4  # the first and third tutor, two units each
    assert abs((clock.now() - before).total_seconds()) < 60  # the clock is back
    rows = db.session.scalars(select(UnitProgress)).all()
    assert {r.user_id for r in rows} == {t.id for t in tutors}
    assert all(r.started_at < before for r in rows)
    assert all(r.completed_at < before for r in rows if r.completed_at)
    assert queries.completed_units_by_tutor() == {tutors[0].id: 2, tutors[2].id: 2}
    assert queries.cpd_minutes(tutors[1].id) == 0 and queries.cpd_minutes(outsider.id) == 0
    assert queries.completed_units_by_tutor(set()) == {}


def test_observation_scores_come_from_the_observations_latest_scores(monkeypatch):
    asked = []
    fake = types.ModuleType("lms.observations.queries")
    fake.latest_scores = lambda ids: asked.append(ids) or {7: {"manages_time": 2.0}}
    monkeypatch.setitem(sys.modules, "lms.observations.queries", fake)
    assert read_observation_scores({7}) == {7: {"manages_time": 2.0}}
    assert asked == [{7}]


def test_a_tutor_never_observed_has_no_observation_reasons(db_session, monkeypatch):
    """The real observations read: no observation, no reason."""
    from lms.library.recommendations import recommend

    monkeypatch.undo()
    from tests.library_factory import load_test_units

    load_test_units()
    tutor = make_endorsed_tutor()
    assert recommend(tutor, queries.current_units()) == []
