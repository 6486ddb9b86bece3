"""A trust's tutoring dashboard keeps its figures for at most ``DASHBOARD_MAX_AGE_SECONDS``
(``lms.tutoring.snapshots``): read back exactly as worked out, worked out again once too old,
kept warm by the beat, and never kept when the maximum age is 0."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring import action_list, figures, snapshots
from lms.tutoring.figures import Coverage
from lms.tutoring.models import DashboardSnapshot
from tests.factories import make_member, make_school
from tests.tutoring_factory import log_delivered, make_group


@pytest.fixture
def kept_for_two_minutes(app):
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 120
    yield
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0
    clock.reset()


def _trust_with_a_session():
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=clock.today() - timedelta(days=14))
    log_delivered(group, clock.today() - timedelta(days=7), absent=(group.places[1].pupil_id,))
    return school, group


def test_figures_read_back_are_the_figures_worked_out(db_session, kept_for_two_minutes):
    school, _ = _trust_with_a_session()
    coverage, period = Coverage("Trust", school.trust_id), figures.this_term()
    first = snapshots.dashboard(coverage, period)
    again = snapshots.dashboard(coverage, period)
    assert again.figures == first.figures and again.lists == first.lists
    assert again.computed_at == first.computed_at
    assert first.figures == figures.tutoring_figures(coverage, period)
    assert first.lists == action_list.action_lists(coverage)


def test_a_session_shows_once_the_figures_are_older_than_the_maximum_age(
        db_session, kept_for_two_minutes):
    school, group = _trust_with_a_session()
    coverage, period = Coverage("Trust", school.trust_id), figures.this_term()
    assert snapshots.dashboard(coverage, period).figures.overall.delivered == 1
    log_delivered(group, clock.today())
    assert snapshots.dashboard(coverage, period).figures.overall.delivered == 1  # kept
    clock.travel(timedelta(seconds=121))
    assert snapshots.dashboard(figures.Coverage("Trust", school.trust_id),
                               period).figures.overall.delivered == 2


def test_the_beat_works_out_again_what_was_viewed_before_it_is_due(db_session,
                                                                   kept_for_two_minutes):
    school, group = _trust_with_a_session()
    coverage, period = Coverage("Trust", school.trust_id), figures.this_term()
    snapshots.dashboard(coverage, period)
    log_delivered(group, clock.today())
    assert snapshots.refresh_viewed() == 0  # not half its age yet
    clock.travel(timedelta(seconds=61))
    assert snapshots.refresh_viewed() == 1
    assert snapshots.dashboard(coverage, period).figures.overall.delivered == 2
    clock.travel(timedelta(days=2))
    snapshots.refresh_viewed()  # nobody looked for a day: dropped
    assert db.session.scalar(select(func.count()).select_from(DashboardSnapshot)) == 0


def test_with_no_maximum_age_nothing_is_kept(db_session):
    school, _ = _trust_with_a_session()
    snapshots.dashboard(Coverage("Trust", school.trust_id), figures.this_term())
    assert db.session.scalar(select(func.count()).select_from(DashboardSnapshot)) == 0


def test_the_trust_dashboard_says_when_its_figures_were_worked_out(db_session, client, sign_in,
                                                                   kept_for_two_minutes):
    school, _ = _trust_with_a_session()
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    db_session.commit()
    sign_in(central)
    page = client.get(f"/trusts/{school.trust_id}/tutoring/dashboard").get_data(as_text=True)
    assert 'id="as-of"' in page and "at least every 2 minutes" in page
    school_page = client.get(f"/schools/{school.id}/tutoring/dashboard").get_data(as_text=True)
    assert 'id="as-of"' not in school_page  # a school's own is always worked out afresh


def test_a_cluster_and_the_whole_trust_are_kept_apart(db_session, kept_for_two_minutes):
    school, _ = _trust_with_a_session()
    other = make_school(school.trust)
    log_delivered(make_group(other, starts_on=clock.today() - timedelta(days=7)),
                  clock.today())
    whole = snapshots.dashboard(Coverage("Trust", school.trust_id), figures.this_term())
    part = snapshots.dashboard(Coverage("North", school.trust_id, frozenset({other.id})),
                               figures.this_term())
    assert (whole.figures.overall.delivered, part.figures.overall.delivered) == (2, 1)
