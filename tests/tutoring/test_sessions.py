"""Logging sessions: only approved tutors, attendance for every pupil, dosage from
attendance."""

from datetime import timedelta

import pytest

from lms.platform import clock
from lms.platform.errors import DomainError
from lms.tutoring import sessions
from tests.factories import make_school
from tests.tutoring_factory import log_delivered, make_group


def test_a_delivered_session_counts_minutes_only_for_pupils_who_came(db_session):
    group = make_group(make_school(), pupil_count=3)
    absent = group.places[0].pupil_id
    session = log_delivered(group, absent=(absent,), minutes=50)
    minutes = {a.pupil_id: a.minutes for a in session.attendance}
    assert minutes[absent] == 0
    assert sorted(minutes.values()) == [0, 50, 50]


def test_cost_per_tutor_hour_counts_only_delivered_minutes(db_session):
    from sqlalchemy import select

    from lms.platform.extensions import db
    from lms.tutoring.costs import group_costs
    from tests.tutoring_factory import log_cancelled, make_programme

    school = make_school()
    programme = make_programme(school.trust, rate_pence=3000, cost_model="per_tutor_hour")
    group = make_group(school, programme=programme)
    today = clock.today()
    log_delivered(group, today - timedelta(days=7), minutes=60)
    log_delivered(group, today, minutes=30)
    log_cancelled(group, today - timedelta(days=14))
    rows = db.session.execute(group_costs(today - timedelta(days=30), today)).all()
    assert [(r.group_id, r.cost_pence) for r in rows] == [(group.id, 4500)]
