"""The figures other domains read: per tutor, their latest observation's scores and mean,
each in one statement whatever the number of tutors; and the change between a tutor's
observations over time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.observations import queries
from lms.platform import clock
from tests.observations_factory import make_observed_school, observe, scores
from tests.statements import statements_run


def _observed(world, days_ago: int, **given):
    return observe(world.group, world.leader, observed_on=clock.today() - timedelta(
        days=days_ago), given=scores(**given))


def test_latest_scores_are_of_the_most_recent_observation_by_its_date(db_session):
    world = make_observed_school()
    _observed(world, 3, default=2, manages_time=4)
    _observed(world, 20, default=1)  # recorded later, but of an earlier session
    assert queries.latest_scores({world.tutor.id}) == {
        world.tutor.id: {key: float(value) for key, value in scores(2, manages_time=4).items()}}


def test_of_two_observations_on_one_day_the_later_recorded_counts(db_session):
    world = make_observed_school()
    _observed(world, 2, default=2)
    _observed(world, 2, default=3)
    assert queries.mean_score_by_tutor({world.tutor.id}) == {world.tutor.id: 3.0}


def test_mean_score_by_tutor_is_the_latest_observations_mean(db_session):
    one, two = make_observed_school(), make_observed_school()
    _observed(one, 10, default=1)
    _observed(one, 1, default=3, specific_feedback=4, manages_time=4)
    _observed(two, 5, default=2)
    assert queries.mean_score_by_tutor({one.tutor.id}) == {one.tutor.id: pytest.approx(3.25)}
    assert queries.mean_score_by_tutor() == {one.tutor.id: pytest.approx(3.25),
                                             two.tutor.id: 2.0}


def test_tutors_without_observations_are_left_out(db_session):
    world, unobserved = make_observed_school(), make_observed_school()
    _observed(world, 1)
    assert queries.latest_scores({unobserved.tutor.id}) == {}
    assert queries.mean_score_by_tutor({unobserved.tutor.id}) == {}
    assert queries.latest_scores(set()) == {} and queries.mean_score_by_tutor(set()) == {}


def test_a_large_set_of_tutors_is_answered_in_one_statement_too(db_session):
    world = make_observed_school()
    _observed(world, 1, default=4)
    many = set(range(1_000_000, 1_020_000)) | {world.tutor.id}
    with statements_run() as run:
        means = queries.mean_score_by_tutor(many)
        latest = queries.latest_scores(many)
    assert len(run) == 2
    assert means == {world.tutor.id: 4.0} and latest[world.tutor.id]["manages_time"] == 4.0


def test_each_figure_is_one_statement_whatever_the_number_of_tutors(db_session):
    worlds = [make_observed_school() for _ in range(2)]
    for world in worlds:
        _observed(world, 3)
    few = {w.tutor.id for w in worlds}
    with statements_run() as run:
        queries.mean_score_by_tutor(few)
        queries.latest_scores(few)
    assert len(run) == 2
    worlds += [make_observed_school() for _ in range(3)]
    for world in worlds[2:]:
        _observed(world, 3)
        _observed(world, 1)
    many = {w.tutor.id for w in worlds}
    with statements_run() as run:
        assert len(queries.mean_score_by_tutor(many)) == 5
        assert len(queries.latest_scores(many)) == 5
    assert len(run) == 2


def test_change_over_time_per_criterion_and_overall(db_session):
    world = make_observed_school()
    _observed(world, 20, default=2, checks_understanding=1)
    _observed(world, 10, default=2, checks_understanding=3, manages_time=4)
    latest = _observed(world, 1, default=2, checks_understanding=3, manages_time=3)
    history = queries.over_time(queries.observations_of(world.tutor.id))
    first, second, third = history
    assert first.previous is None and first.change is None
    assert all(row.change is None for row in first.criteria)
    changes = {row.criterion.key: row.change for row in second.criteria}
    assert changes["checks_understanding"] == 2 and changes["manages_time"] == 2
    assert changes["specific_feedback"] == 0
    assert second.change == pytest.approx(0.5)
    assert {r.criterion.key: r.change for r in third.criteria}["manages_time"] == -1
    assert third.change == pytest.approx(-0.12, abs=0.01)
    alone = queries.result(latest, queries.previous_of(latest))
    assert alone.previous.id == second.observation.id and alone.change == third.change


def test_the_change_is_counted_within_the_trust(db_session):
    world, elsewhere = make_observed_school(), make_observed_school()
    from tests.tutoring_factory import clear_for, make_group

    clear_for(world.tutor, elsewhere.school)
    other_group = make_group(elsewhere.school, tutor=world.tutor,
                             starts_on=clock.today() - timedelta(weeks=4))
    _observed(world, 10, default=1)
    later = observe(other_group, elsewhere.leader, observed_on=clock.today())
    assert queries.previous_of(later) is None
