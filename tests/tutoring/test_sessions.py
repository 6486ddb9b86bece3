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


def _marks(group, status="present", **extra):
    return {p.pupil_id: sessions.PupilMark(status, **extra)
            for p in sessions.pupils_on(group, clock.today())}


def _log(group, **overrides):
    values = {"held_on": clock.today(), "status": "delivered", "marks": _marks(group),
              **overrides}
    return sessions.log_session(group, sessions.SessionLog(**values), actor=None)


def test_every_pupil_needs_a_mark_and_every_absence_a_reason(db_session):
    group = make_group(make_school(), pupil_count=2)
    first, second = (p.pupil for p in group.places)
    with pytest.raises(DomainError) as refused:
        _log(group, marks={first.id: sessions.PupilMark("absent")})
    assert f"Say why {first.display_name} was absent" in refused.value.message
    assert f"Say whether {second.display_name} was present" in refused.value.message


def test_a_session_nobody_attended_is_logged_as_cancelled_not_delivered(db_session):
    group = make_group(make_school())
    with pytest.raises(DomainError, match="log the session as cancelled"):
        _log(group, marks=_marks(group, "absent", absence_reason="ill"))


def test_sessions_cannot_be_logged_ahead_or_twice(db_session):
    group = make_group(make_school())
    with pytest.raises(DomainError, match="not before"):
        _log(group, held_on=clock.today() + timedelta(days=1))
    _log(group)
    with pytest.raises(DomainError, match="already logged"):
        _log(group)


def test_a_cancelled_session_needs_a_reason_and_counts_no_minutes(db_session):
    group = make_group(make_school())
    with pytest.raises(DomainError, match="Say why the session was cancelled"):
        _log(group, status="cancelled", marks={})
    session = _log(group, status="cancelled", cancel_reason="tutor_absent", marks={})
    assert session.minutes_delivered == 0 and session.attendance == []


def test_the_note_is_short_and_not_for_welfare_concerns(db_session):
    group = make_group(make_school())
    with pytest.raises(DomainError, match="safeguarding lead"):
        _log(group, note="x" * 281)


def test_engagement_is_rated_one_to_five(db_session):
    group = make_group(make_school(), pupil_count=1)
    with pytest.raises(DomainError, match="from 1 to 5"):
        _log(group, marks=_marks(group, engagement=6))


def test_the_tutor_may_edit_for_seven_days_then_the_lead_with_a_reason(db_session):
    group = make_group(make_school(), pupil_count=1)
    session = _log(group, minutes_delivered=60)
    log = sessions.SessionLog(held_on=session.held_on, status="delivered",
                              minutes_delivered=45, marks=_marks(group))
    sessions.edit_session(session, log, actor=None, as_school=False)
    assert session.minutes_delivered == 45 and session.attendance[0].minutes == 45
    clock.travel(timedelta(days=8))
    log.minutes_delivered = 40
    with pytest.raises(DomainError, match="Ask the school's tutoring lead"):
        sessions.edit_session(session, log, actor=None, as_school=False)
    with pytest.raises(DomainError, match="Say why"):
        sessions.edit_session(session, log, actor=None, as_school=True)
    sessions.edit_session(session, log, actor=None, as_school=True, reason="Register corrected")
    assert session.minutes_delivered == 40


def test_the_tutors_home_lists_the_slots_to_log_and_paused_groups(db_session):
    group = make_group(make_school(), weekday=clock.today().weekday())
    due = sessions.sessions_due(group.tutor)
    assert [(d.day, d.logged, d.paused) for d in due][:1] == [(clock.today(), False, False)]
    log_delivered(group)
    assert sessions.sessions_due(group.tutor)[0].logged
