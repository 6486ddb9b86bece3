"""The impact report is kept for at most ``DASHBOARD_MAX_AGE_SECONDS``
(``lms.research.impact_snapshots``): read back exactly as worked out, worked out again once
too old, never kept when the maximum age is 0, and the page says when it was worked out."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.research import impact
from lms.research.impact_snapshots import ImpactSnapshot, kept_report
from tests.factories import make_member, make_school
from tests.research_factory import make_trained_tutor, make_tutored_group


@pytest.fixture(autouse=True)
def _practice_and_library(monkeypatch):
    monkeypatch.setattr(impact, "observation_scores", lambda ids: {})
    monkeypatch.setattr(impact, "units_completed", lambda ids: {})


@pytest.fixture
def kept_for_two_minutes(app):
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 120
    yield
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0
    clock.reset()


def _school_with_tutors(count: int = 5):
    school = make_school()
    for n in range(count):
        tutor = make_trained_tutor(school, score=60 + 5 * n, weeks_ago=n)
        make_tutored_group(school, tutor, pupils=2, sessions=2, absent_first=n % 2)
    return school


def test_the_report_read_back_is_the_report_worked_out(db_session, kept_for_two_minutes):
    school = _school_with_tutors()
    first = kept_report("Trust", school.trust_id, "score_band")
    again = kept_report("Trust", school.trust_id, "score_band")
    assert again.report == first.report and again.computed_at == first.computed_at
    assert first.report == impact.impact_report("Trust", school.trust_id, "score_band")
    assert kept_report("All", None, "weeks").report == impact.impact_report("All", None,
                                                                            "weeks")


def test_a_new_tutor_shows_once_the_report_is_older_than_the_maximum_age(
        db_session, kept_for_two_minutes):
    school = _school_with_tutors(2)
    first = kept_report("Trust", school.trust_id, "pathway")
    assert first.report.overall.tutors == 2
    make_trained_tutor(school)
    assert kept_report("Trust", school.trust_id, "pathway").report.overall.tutors == 2  # kept
    assert kept_report("Trust", school.trust_id, "weeks").report.overall.tutors == 3
    clock.travel(timedelta(seconds=121))
    fresh = kept_report("Trust", school.trust_id, "pathway")
    assert fresh.report.overall.tutors == 3
    assert fresh.computed_at > first.computed_at + timedelta(seconds=120)


def test_nothing_is_kept_when_the_maximum_age_is_0(db_session):
    school = _school_with_tutors(1)
    kept_report("Trust", school.trust_id, "pathway")
    assert db.session.scalar(select(func.count()).select_from(ImpactSnapshot)) == 0


def test_the_page_says_when_its_figures_were_worked_out(db_session, sign_in,
                                                         kept_for_two_minutes):
    school = _school_with_tutors(1)
    client = sign_in(make_member(Role.CENTRAL_TEAM, trust=school.trust))
    page = client.get(f"/trusts/{school.trust_id}/impact-report").get_data(as_text=True)
    assert "Figures worked out at" in page and "more than 2 minutes old" in page
    assert db.session.scalar(select(func.count()).select_from(ImpactSnapshot)) == 1
