"""The tutoring pages as their users meet them: a tutoring lead sets up a group, a tutor logs
a session on their phone, the trust sees pseudonyms."""

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from lms.platform import clock
from lms.platform.roles import Role
from lms.tutoring.models import Pupil, TutoringGroup, TutoringSession
from tests.factories import make_endorsement, make_member, make_school
from tests.tutoring_factory import make_cleared_tutor, make_group, make_programme, make_pupil

TUTOR_PASSWORD = "tutor password 2026"


def _lead(school):
    return make_member(Role.TUTORING_LEAD, school=school)


def test_a_tutoring_lead_starts_a_group_with_an_approved_tutor(db_session, client, sign_in):
    school = make_school()
    programme = make_programme(school.trust, name="Reading Boost")
    tutor = make_cleared_tutor(school, name="Tia Tutor")
    uncleared = make_endorsement(school, name="Una Pending").user
    pupils = [make_pupil(school) for _ in range(2)]
    lead = _lead(school)
    db_session.commit()
    sign_in(lead)
    page = client.get(f"/schools/{school.id}/groups/new").get_data(as_text=True)
    assert "Tia Tutor" in page and "Una Pending" not in page
    response = client.post(f"/schools/{school.id}/groups/new", data={
        "name": "Y5 reading", "programme_id": str(programme.id), "tutor_id": str(uncleared.id),
        "weekday": "1", "starts_at": "09:15", "starts_on": clock.today().isoformat()})
    assert response.status_code == 400
    assert "Choose a tutor from the list" in response.get_data(as_text=True)
    response = client.post(f"/schools/{school.id}/groups/new", data={
        "name": "Y5 reading", "programme_id": str(programme.id), "tutor_id": str(tutor.id),
        "weekday": "1", "starts_at": "09:15", "starts_on": clock.today().isoformat(),
        "pupil_ids": [str(p.id) for p in pupils]})
    assert response.status_code == 302
    group = db_session.scalars(select(TutoringGroup)).one()
    assert len(group.current_places) == 2 and group.tutor_id == tutor.id


def test_a_form_with_several_problems_shows_them_all(db_session, client, sign_in):
    school = make_school()
    lead = _lead(school)
    db_session.commit()
    sign_in(lead)
    response = client.post(f"/schools/{school.id}/groups/new", data={"starts_on": "31/02"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter a name for the group", "Choose a programme", "Choose a tutor",
                    "must be a real date"):
        assert message in body


def _session_form(group, **marks):
    data = {"status": "delivered", "minutes_delivered": "55", "note": "Fractions on a line"}
    for place in group.current_places:
        data[f"pupil-{place.pupil_id}-status"] = marks.get("status", "present")
        data[f"pupil-{place.pupil_id}-engagement"] = "4"
    return data


def test_a_tutor_logs_todays_session_from_their_home_page(db_session, client, sign_in):
    group = make_group(make_school(), weekday=clock.today().weekday())
    db_session.commit()
    sign_in(group.tutor, TUTOR_PASSWORD)
    home = client.get("/").get_data(as_text=True)
    url = f"/groups/{group.id}/sessions/{clock.today().isoformat()}"
    assert url in home and "Log the session" in home
    page = client.get(url).get_data(as_text=True)
    assert "<script" not in page.split("<main", 1)[-1]  # one page, no JavaScript needed
    assert group.places[0].pupil.display_name in page
    response = client.post(url, data=_session_form(group))
    assert response.status_code == 302
    session = db_session.scalars(select(TutoringSession)).one()
    assert session.minutes_delivered == 55 and {a.minutes for a in session.attendance} == {55}
    assert "Logged" in client.get("/").get_data(as_text=True)


def test_a_bad_session_log_keeps_what_was_typed_and_saves_nothing(db_session, client, sign_in):
    group = make_group(make_school(), pupil_count=1)
    db_session.commit()
    sign_in(group.tutor, TUTOR_PASSWORD)
    url = f"/groups/{group.id}/sessions/{clock.today().isoformat()}"
    data = _session_form(group, status="absent")
    response = client.post(url, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Say why" in body
    assert 'value="absent" checked' in body and "Fractions on a line" in body
    assert db_session.scalar(select(func.count(TutoringSession.id))) == 0


def test_a_suspended_tutor_cannot_log_and_is_told_why(db_session, client, sign_in):
    group = make_group(make_school(), pupil_count=1)
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == group.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Under review", actor=None)
    db_session.commit()
    sign_in(group.tutor, TUTOR_PASSWORD)
    assert "Paused" in client.get("/").get_data(as_text=True)
    response = client.post(f"/groups/{group.id}/sessions/{clock.today().isoformat()}",
                           data=_session_form(group))
    assert response.status_code == 400 and "paused" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count(TutoringSession.id))) == 0


def test_another_tutors_group_is_not_found(db_session, client, sign_in):
    school = make_school()
    group = make_group(school)
    other = make_cleared_tutor(school)
    db_session.commit()
    sign_in(other, TUTOR_PASSWORD)
    assert client.get(f"/groups/{group.id}").status_code == 404
    assert client.get(f"/groups/{group.id}/sessions/{clock.today().isoformat()}"
                      ).status_code == 404


def test_the_trust_sees_pseudonyms_and_the_school_sees_names(db_session, client, sign_in):
    school = make_school()
    group = make_group(school, pupil_count=1)
    pupil = group.places[0].pupil
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    lead = _lead(school)
    db_session.commit()
    sign_in(central)
    page = client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert pupil.pseudonym in page and pupil.display_name not in page
    assert client.get(f"/schools/{school.id}/pupils").status_code == 403
    client.post("/sign-out")
    sign_in(lead)
    assert pupil.display_name in client.get(f"/groups/{group.id}").get_data(as_text=True)


def test_the_lead_corrects_an_old_session_with_a_reason(db_session, client, sign_in):
    group = make_group(make_school(), pupil_count=1)
    from tests.tutoring_factory import log_delivered

    day = clock.today() - timedelta(days=10)
    log_delivered(group, day)
    lead = _lead(group.school)
    db_session.commit()
    sign_in(lead)
    url = f"/groups/{group.id}/sessions/{day.isoformat()}"
    data = _session_form(group)
    assert "Say why the session is being changed" in client.post(url, data=data).get_data(
        as_text=True)
    assert client.post(url, data={**data, "reason": "Register was wrong"}).status_code == 302
    assert db_session.scalars(select(TutoringSession)).one().minutes_delivered == 55


def test_pupils_upload_reports_every_bad_row(db_session, client, sign_in):
    school = make_school()
    lead = _lead(school)
    db_session.commit()
    sign_in(lead)
    raw = b"display_name,reference,year_group\nA,ADM1,5\nB,ADM2,15\nC,,3\n"
    response = client.post(f"/schools/{school.id}/pupils/import", data={
        "file": (io.BytesIO(raw), "pupils.csv")}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Line 3" in body and "Line 4" in body
    assert db_session.scalar(select(func.count(Pupil.id))) == 0
    assert re.search(r"No pupils were added: 2 of 3 rows", body)
