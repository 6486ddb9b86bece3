"""The four-week window: deadline, days left, extensions, withdrawal and the scheduled jobs."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.programme.models import EnrolmentStatus, NominationStatus
from lms.programme.tasks import expire_invitations as expire_task
from lms.programme.tasks import lapse_enrolments as lapse_task
from lms.programme.tasks import send_deadline_reminders as remind_task
from lms.programme.window import (
    expire_invitations,
    extend_deadline,
    lapse_overdue_enrolments,
    send_deadline_reminders,
)
from tests.factories import make_enrolment, make_member, make_nomination, make_school


def _count_emails(db_session, subject_part: str) -> int:
    return db_session.scalar(
        select(func.count(OutboxEmail.id)).where(OutboxEmail.subject.contains(subject_part))
    )


def test_window_is_28_days_from_acceptance_and_records_the_pathway(db_session):
    enrolment = make_enrolment()
    assert enrolment.deadline_at - enrolment.opened_at == timedelta(days=28)
    assert enrolment.pathway == enrolment.nomination.pathway
    assert enrolment.days_left() == 28
    clock.travel(timedelta(days=27, hours=1))
    assert enrolment.days_left() == 1
    clock.travel(timedelta(hours=23))
    assert enrolment.days_left() == 0


def test_window_length_is_a_programme_setting(db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRAINING_WINDOW_DAYS", 35)
    enrolment = make_enrolment()
    assert enrolment.deadline_at - enrolment.opened_at == timedelta(days=35)


def test_tutor_sees_days_left_and_leader_sees_the_stage(db_session, sign_in, client):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    enrolment = make_enrolment(school)
    enrolment.user.password_hash = leader.password_hash
    db_session.commit()
    sign_in(enrolment.user)
    assert "28 days left" in client.get("/").get_data(as_text=True)
    client.post("/sign-out")
    sign_in(leader)
    page = client.get(f"/schools/{school.id}/nominations").get_data(as_text=True)
    assert enrolment.user.name in page and "In training" in page


def test_central_team_extends_with_a_reason_and_it_is_audited(db_session, sign_in):
    enrolment = make_enrolment()
    central = make_member(Role.CENTRAL_TEAM, trust=enrolment.school.trust)
    db_session.commit()
    before = enrolment.deadline_at
    client = sign_in(central)
    response = client.post(f"/enrolments/{enrolment.id}/extend",
                           data={"extend-days": "7", "extend-reason": "Long-term illness"})
    assert response.status_code == 302
    db_session.expire_all()
    assert enrolment.deadline_at == before + timedelta(days=7)
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "enrolment.extended")).one()
    assert entry.reason == "Long-term illness" and entry.actor_id == central.id


@pytest.mark.parametrize(("days", "reason"), [(0, "x"), (29, "x"), (5, " ")])
def test_extension_needs_a_sensible_length_and_a_reason(db_session, days, reason):
    enrolment = make_enrolment()
    with pytest.raises(DomainError):
        extend_deadline(enrolment, days=days, reason=reason, actor=None)


def test_a_school_leader_cannot_extend_or_withdraw(db_session, sign_in):
    school = make_school()
    enrolment = make_enrolment(school)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    db_session.commit()
    client = sign_in(leader)
    assert client.post(f"/enrolments/{enrolment.id}/extend",
                       data={"extend-days": "7", "extend-reason": "x"}).status_code == 403
    assert client.post(f"/enrolments/{enrolment.id}/withdraw",
                       data={"withdraw-reason": "x"}).status_code == 403


def test_central_team_withdraws_with_a_reason(db_session, sign_in):
    enrolment = make_enrolment()
    central = make_member(Role.CENTRAL_TEAM, trust=enrolment.school.trust)
    db_session.commit()
    client = sign_in(central)
    response = client.post(f"/enrolments/{enrolment.id}/withdraw", data={"withdraw-reason": ""})
    assert response.status_code == 400
    response = client.post(f"/enrolments/{enrolment.id}/withdraw",
                           data={"withdraw-reason": "Left the school"})
    assert response.status_code == 302
    db_session.expire_all()
    assert enrolment.status == EnrolmentStatus.WITHDRAWN
    assert enrolment.close_reason == "Left the school"


def test_reminders_go_at_7_and_2_days_and_never_twice(db_session):
    school = make_school()
    make_member(Role.SCHOOL_LEADER, school=school)
    make_enrolment(school)
    db_session.commit()
    clock.travel(timedelta(days=20))
    assert send_deadline_reminders() == 0
    clock.travel(timedelta(days=1, minutes=1))  # 7 days minus a minute left
    assert send_deadline_reminders() == 1
    assert send_deadline_reminders() == 0
    db_session.commit()
    remind_task.delay()
    assert _count_emails(db_session, "7 days left") == 1
    assert _count_emails(db_session, "deadline coming up") == 1
    clock.travel(timedelta(days=5))
    assert send_deadline_reminders() == 1
    assert send_deadline_reminders() == 0
    assert _count_emails(db_session, "2 days left") == 1


def test_lapsing_closes_overdue_enrolments_once(db_session):
    enrolment = make_enrolment()
    db_session.commit()
    clock.travel(timedelta(days=27, hours=23))
    assert lapse_overdue_enrolments() == 0
    clock.travel(timedelta(hours=1))
    assert lapse_overdue_enrolments() == 1
    db_session.commit()
    assert lapse_task.delay().get() == 0
    db_session.expire_all()
    assert enrolment.status == EnrolmentStatus.LAPSED
    assert _count_emails(db_session, "window has closed") == 1


def test_an_extension_moves_the_lapse_and_the_reminders(db_session):
    enrolment = make_enrolment()
    extend_deadline(enrolment, days=10, reason="Illness", actor=None)
    db_session.commit()
    clock.travel(timedelta(days=28, hours=1))
    assert lapse_overdue_enrolments() == 0
    clock.travel(timedelta(days=3))  # 7 days minus an hour left
    assert send_deadline_reminders() == 1


def test_invitations_expire_once(db_session):
    nomination = make_nomination()
    db_session.commit()
    clock.travel(timedelta(days=14, minutes=1))
    assert expire_invitations() == 1
    db_session.commit()
    assert expire_task.delay().get() == 0
    db_session.expire_all()
    assert nomination.status == NominationStatus.EXPIRED
