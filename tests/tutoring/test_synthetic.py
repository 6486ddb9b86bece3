"""Synthetic tutoring (``flask data generate``): facts that agree as the services leave them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from credentials.register.models import RegisterEntry, RegisterStatus
from lms.insight.synthetic import Scale, generate
from lms.platform import clock
from lms.tutoring.clearance import cleared_pairs
from lms.tutoring.models import (
    Attendance,
    DeliveryModel,
    GroupPupil,
    Programme,
    Pupil,
    SessionAttendance,
    SessionStatus,
    TutoringGroup,
    TutoringSession,
)


@pytest.fixture
def made(db_session):
    made = generate(Scale(trusts=2, schools=8, tutors=300, pupils=240, sessions=3_000), seed=3)
    db_session.commit()
    return made


def test_sizes_follow_the_scale(made, db_session):
    assert db_session.scalar(select(func.count(Pupil.id))) == made["pupils"] == 240
    sessions = db_session.scalar(select(func.count(TutoringSession.id)))
    assert sessions == made["tutoring_sessions"] and 2_700 <= sessions <= 3_000
    models = set(db_session.scalars(select(Programme.delivery_model)))
    assert models == set(DeliveryModel)
    assert Scale().pupil_count == 150_000 and Scale().session_count == 2_000_000


def test_groups_are_tutored_by_tutors_the_register_lists_for_the_school(made, db_session):
    groups = db_session.scalars(select(TutoringGroup)).all()
    listed = {(e.user_id, s.id) for e in db_session.scalars(select(RegisterEntry).where(
        RegisterEntry.status.in_([RegisterStatus.APPROVED, RegisterStatus.SUSPENDED])))
        for s in e.schools}
    assert all((g.tutor_id, g.school_id) in listed for g in groups)
    cleared = cleared_pairs({g.trust_id for g in groups})
    assert any((g.tutor_id, g.school_id) in cleared for g in groups)
    places = db_session.scalars(select(GroupPupil)).all()
    open_places = [(p.programme_key, p.pupil_id) for p in places if p.left_on is None]
    assert len(open_places) == len(set(open_places))
    sizes = {}
    for place in places:
        sizes[place.group_id] = sizes.get(place.group_id, 0) + 1
    assert all(sizes[g.id] <= g.programme.max_group_size for g in groups)


def test_sessions_agree_with_their_attendance(made, db_session):
    today = clock.today()
    for session in db_session.scalars(select(TutoringSession)):
        assert session.held_on < today and session.held_on.weekday() == session.group.weekday
        if session.status == SessionStatus.CANCELLED:
            assert session.cancel_reason is not None and not session.attendance
            assert session.minutes_delivered == 0
        else:
            assert any(a.status != Attendance.ABSENT for a in session.attendance)
    absent_minutes = db_session.scalar(select(func.sum(SessionAttendance.minutes)).where(
        SessionAttendance.status == Attendance.ABSENT))
    assert not absent_minutes


def test_no_tutoring_without_a_derived_register(db_session):
    made = generate(Scale(trusts=1, schools=2, tutors=50), derive_register=False)
    assert made["pupils"] == 0 and made["tutoring_sessions"] == 0
