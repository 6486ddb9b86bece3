"""School leaders are asked about a tutor's training a set time after the endorsement (the
trust's choice, 6 weeks unless changed): once per leader per endorsement, by email, on a
survey only they can answer, once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from credentials.endorsements.models import EndorsementStatus
from lms.feedback import services, surveys
from lms.feedback.models import LeaderSurvey
from lms.feedback.tasks import send_leader_surveys
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from tests.factories import make_member, make_school
from tests.feedback_factory import endorsed_with_leaders


def _surveys(db_session) -> list[LeaderSurvey]:
    return list(db_session.scalars(select(LeaderSurvey).order_by(LeaderSurvey.id)))


def _emails_to(db_session, address: str) -> list[OutboxEmail]:
    return list(db_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)))


def test_nothing_is_sent_before_six_weeks_and_each_leader_is_asked_after(db_session):
    endorsement, (first, second) = endorsed_with_leaders(leaders=2)
    clock.travel(timedelta(weeks=6) - timedelta(hours=1))
    assert send_leader_surveys() == 0
    clock.travel(timedelta(hours=1))
    assert send_leader_surveys() == 2
    sent = _surveys(db_session)
    assert {s.leader_id for s in sent} == {first.id, second.id}
    assert {s.endorsement_id for s in sent} == {endorsement.id}
    email = _emails_to(db_session, first.email)[-1]
    assert f"/feedback/surveys/{sent[0].id}" in email.body_text
    assert "Has their practice changed?" in email.body_text


def test_running_again_sends_nothing_twice(db_session):
    _endorsement, (leader,) = endorsed_with_leaders()
    clock.travel(timedelta(weeks=6, days=1))
    assert send_leader_surveys() == 1
    assert send_leader_surveys() == 0
    clock.travel(timedelta(days=1))
    assert send_leader_surveys() == 0
    assert len(_surveys(db_session)) == 1 and len(_emails_to(db_session, leader.email)) == 1


def test_a_leader_who_joins_later_is_still_asked_once(db_session):
    endorsement, _ = endorsed_with_leaders()
    clock.travel(timedelta(weeks=6))
    send_leader_surveys()
    from lms.organisations.models import School

    newcomer = make_member(Role.SCHOOL_LEADER, school=db_session.get(School,
                                                                     endorsement.school_id))
    db_session.commit()
    assert send_leader_surveys() == 1
    assert send_leader_surveys() == 0
    assert newcomer.id in {s.leader_id for s in _surveys(db_session)}


def test_the_trust_chooses_the_delay(db_session):
    endorsement, _ = endorsed_with_leaders()
    admin = make_member(Role.CENTRAL_TEAM, trust=endorsement.trust)
    services.set_survey_weeks(endorsement.trust_id, 10, actor=admin)
    db_session.commit()
    clock.travel(timedelta(weeks=6))
    assert send_leader_surveys() == 0
    clock.travel(timedelta(weeks=4))
    assert send_leader_surveys() == 1


@pytest.mark.parametrize("weeks", [None, 1, 27])
def test_the_delay_is_between_2_and_26_weeks(db_session, weeks):
    endorsement, _ = endorsed_with_leaders()
    with pytest.raises(DomainError, match="between 2 and 26 weeks"):
        services.set_survey_weeks(endorsement.trust_id, weeks,
                                  actor=make_member(Role.CENTRAL_TEAM))
    assert services.survey_weeks(endorsement.trust_id) == 6


def test_only_leaders_of_the_school_that_nominated_the_tutor_are_asked(db_session):
    endorsement, (leader,) = endorsed_with_leaders()
    elsewhere = make_member(Role.SCHOOL_LEADER, school=make_school(endorsement.trust))
    from lms.organisations.models import School

    make_member(Role.TUTORING_LEAD, school=db_session.get(School, endorsement.school_id))
    db_session.commit()
    clock.travel(timedelta(weeks=6))
    send_leader_surveys()
    assert [s.leader_id for s in _surveys(db_session)] == [leader.id]
    assert _emails_to(db_session, elsewhere.email) == []


def test_long_past_and_revoked_endorsements_are_not_surveyed(db_session):
    old, _ = endorsed_with_leaders()
    clock.travel(timedelta(weeks=6) + surveys.SURVEY_WINDOW + timedelta(days=1))
    revoked, _ = endorsed_with_leaders()
    revoked.status = EndorsementStatus.REVOKED
    db_session.commit()
    clock.travel(timedelta(weeks=6))
    assert send_leader_surveys() == 0
    assert _surveys(db_session) == []
    assert old.id != revoked.id


def test_the_beat_runs_the_survey_task_daily(app):
    entry = app.config["CELERY"]["beat_schedule"]["send-leader-surveys"]
    assert entry["task"] == "feedback.tasks.send_leader_surveys"
    assert entry["schedule"].hour == {9}


# --- the survey page ------------------------------------------------------------------------


@pytest.fixture
def sent(db_session):
    _endorsement, (leader, colleague) = endorsed_with_leaders(leaders=2)
    clock.travel(timedelta(weeks=6))
    send_leader_surveys()
    survey = next(s for s in _surveys(db_session) if s.leader_id == leader.id)
    return survey, leader, colleague


def test_the_leader_answers_the_survey_once(db_session, sent, sign_in):
    survey, leader, _ = sent
    client = sign_in(leader)
    page = client.get(f"/feedback/surveys/{survey.id}").get_data(as_text=True)
    assert "Has their practice changed?" in page and "Would you nominate others" in page
    response = client.post(f"/feedback/surveys/{survey.id}", data={
        "practice_changed": "4", "missing": "More on working with the class teacher.",
        "would_nominate": "yes"})
    assert response.status_code == 302
    db_session.refresh(survey)
    assert (survey.practice_changed, survey.would_nominate) == (4, True)
    assert survey.missing == "More on working with the class teacher."
    assert survey.answered_at is not None
    again = client.post(f"/feedback/surveys/{survey.id}", data={
        "practice_changed": "1", "missing": "", "would_nominate": "no"})
    assert again.status_code == 400
    assert "already answered" in again.get_data(as_text=True)
    db_session.refresh(survey)
    assert survey.practice_changed == 4
    assert "You answered this survey" in client.get(
        f"/feedback/surveys/{survey.id}").get_data(as_text=True)


def test_bad_answers_are_explained_and_what_was_written_is_kept(db_session, sent, sign_in):
    survey, leader, _ = sent
    client = sign_in(leader)
    response = client.post(f"/feedback/surveys/{survey.id}", data={
        "practice_changed": "7", "missing": "Phonics routines", "would_nominate": "yes"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a number from 1 to 5" in page and "Phonics routines" in page
    response = client.post(f"/feedback/surveys/{survey.id}", data={"practice_changed": "3"})
    assert "Say whether you would nominate others" in response.get_data(as_text=True)
    db_session.refresh(survey)
    assert survey.answered_at is None


def test_only_the_leader_it_was_sent_to_can_open_it(db_session, sent, sign_in):
    survey, _leader, colleague = sent
    client = sign_in(colleague)
    assert client.get(f"/feedback/surveys/{survey.id}").status_code == 404
    assert client.post(f"/feedback/surveys/{survey.id}", data={
        "practice_changed": "5", "would_nominate": "yes"}).status_code == 404
    with pytest.raises(DomainError, match="someone else"):
        surveys.answer(survey, colleague, practice_changed=5, missing="", would_nominate="yes")
    db_session.refresh(survey)
    assert survey.answered_at is None


def test_the_survey_needs_signing_in(db_session, sent, client):
    survey, _, _ = sent
    response = client.get(f"/feedback/surveys/{survey.id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_central_team_sets_the_delay_on_a_page(db_session, sign_in, app):
    endorsement, (leader,) = endorsed_with_leaders()
    central = make_member(Role.CENTRAL_TEAM, trust=endorsement.trust)
    db_session.commit()
    client = sign_in(central)
    url = f"/trusts/{endorsement.trust_id}/feedback/settings"
    assert client.post(url, data={"survey_weeks": "30"}).status_code == 400
    assert client.post(url, data={"survey_weeks": "8"}).status_code == 302
    assert services.survey_weeks(endorsement.trust_id) == 8
    client.post("/sign-out")
    other = sign_in(leader)
    assert other.get(url).status_code == 404
    assert db_session.scalar(select(func.count(LeaderSurvey.id))) == 0


@pytest.mark.parametrize("erased", ["tutor", "leader"])
def test_erasing_the_tutor_or_the_leader_keeps_the_answers_and_drops_the_words(
        db_session, sent, erased):
    from lms.privacy.services import erase_person

    survey, leader, _ = sent
    surveys.answer(survey, leader, practice_changed="4", missing="Struggles with Year 9 set 4",
                   would_nominate="yes")
    person = survey.tutor if erased == "tutor" else leader
    erase_person(person, reason="Request 7", actor=make_member(Role.PROGRAMME_ADMIN))
    db_session.refresh(survey)
    assert survey.missing == "" and survey.practice_changed == 4 and survey.would_nominate
