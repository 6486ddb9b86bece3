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
