"""Providers log their tutors' sessions through the API: an API key, one session a request,
an Idempotency-Key so a retry never counts twice, the register's rule as for anyone."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from credentials.providers import services as providers
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring.models import LogSource, SessionAttendance, TutoringSession
from tests.factories import make_provider, make_school
from tests.tutoring_factory import make_cleared_tutor, make_group, make_programme


@pytest.fixture
def delivered(db_session):
    """A provider's group of two pupils at a school, and the provider's API key."""
    school = make_school()
    provider = make_provider("Bright Futures Tutoring")
    programme = make_programme(school.trust, delivery_model="provider", provider_id=provider.id)
    group = make_group(school, programme=programme, tutor=make_cleared_tutor(school))
    _, token = providers.create_api_key(provider, name="Office", actor=None)
    db.session.commit()
    return group, provider, token


def _body(group, **overrides):
    return {"group_id": group.id, "held_on": clock.today().isoformat(), "status": "delivered",
            "minutes_delivered": 50,
            "attendance": [{"pupil": p.pupil.pseudonym, "status": "present", "engagement": 4}
                           for p in group.current_places], **overrides}


def _post(client, token, body, key="session-1"):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/sessions", json=body, headers=headers, csrf=False)


def _sessions() -> int:
    return db.session.scalar(select(func.count(TutoringSession.id)))


def test_a_session_is_logged_and_a_retry_counts_nothing_twice(client, delivered):
    group, provider, token = delivered
    first = _post(client, token, _body(group))
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["recorded"] == "created" and first.get_json()["pupils_present"] == 2
    again = _post(client, token, _body(group))
    assert again.status_code == 200 and again.get_json()["recorded"] == "already_recorded"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _sessions() == 1
    assert db.session.scalar(select(func.sum(SessionAttendance.minutes))) == 100
    session = db.session.scalars(select(TutoringSession)).one()
    assert (session.source, session.provider_id) == (LogSource.PROVIDER_API, provider.id)


def test_the_same_key_for_another_session_is_a_conflict(client, delivered):
    group, _, token = delivered
    assert _post(client, token, _body(group)).status_code == 201
    other_day = _body(group, held_on=group.starts_on.isoformat())
    response = _post(client, token, other_day)
    assert response.status_code == 409 and "new key" in response.get_json()["detail"]


def test_a_session_needs_an_idempotency_key(client, delivered):
    group, _, token = delivered
    response = _post(client, token, _body(group), key=None)
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["detail"]


def test_another_providers_group_is_not_found(client, delivered):
    group, _, _ = delivered
    _, other_token = providers.create_api_key(make_provider(), name="Other", actor=None)
    db.session.commit()
    assert _post(client, other_token, _body(group)).status_code == 404
    assert _sessions() == 0


def test_no_key_no_session(client, delivered):
    group, _, _ = delivered
    response = client.post("/api/v1/sessions", json=_body(group), csrf=False,
                           headers={"Idempotency-Key": "k"})
    assert response.status_code == 401


def test_a_suspended_tutor_cannot_be_logged_for(client, delivered):
    group, _, token = delivered
    endorsement = db.session.scalars(select(Endorsement).where(
        Endorsement.user_id == group.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Under review", actor=None)
    db.session.commit()
    response = _post(client, token, _body(group))
    assert response.status_code == 422 and "paused" in response.get_json()["detail"]
    assert _sessions() == 0


def test_fields_are_checked_and_named(client, delivered):
    group, _, token = delivered
    response = _post(client, token, _body(group, status="maybe", minutes_delivered=999))
    errors = response.get_json()["errors"]
    assert response.status_code == 422 and {"status", "minutes_delivered"} <= set(errors)
    missing = _body(group, attendance=[])
    response = _post(client, token, missing, key="session-2")
    assert response.status_code == 422 and "present, late or absent" in response.get_json()[
        "detail"]
    stranger = _body(group, attendance=[{"pupil": "P-00000000", "status": "present"}])
    assert "not in group" in _post(client, token, stranger, key="s3").get_json()["detail"]


def test_the_groups_list_names_pupils_by_pseudonym_only(client, delivered):
    group, _, token = delivered
    response = client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"})
    [listed] = response.get_json()["groups"]
    assert listed["id"] == group.id and listed["tutor_cleared"] is True
    assert {p["pupil"] for p in listed["pupils"]} == {
        p.pupil.pseudonym for p in group.current_places}
    assert all(p.pupil.display_name not in response.get_data(as_text=True)
               for p in group.current_places)


def test_the_openapi_document_describes_the_session_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/verifications", "/groups", "/sessions"} <= set(paths)
    parameters = paths["/sessions"]["post"]["parameters"]
    assert parameters[0]["name"] == "Idempotency-Key" and parameters[0]["required"]


# --- by CSV --------------------------------------------------------------------------------


def _csv(group, day=None, *, absent_reason="ill"):
    day = day or clock.today().isoformat()
    lines = ["group_id,held_on,status,minutes_delivered,pupil,attendance,absence_reason,"
             "engagement"]
    first, second = group.current_places
    lines.append(f"{group.id},{day},delivered,60,{first.pupil.pseudonym},present,,5")
    lines.append(f"{group.id},{day},delivered,60,{second.pupil.pseudonym},absent,"
                 f"{absent_reason},")
    return ("\n".join(lines) + "\n").encode()


def _upload(client, provider, raw):
    return client.post(f"/providers/{provider.id}/sessions", data={
        "file": (io.BytesIO(raw), "sessions.csv")}, content_type="multipart/form-data")


def test_a_csv_upload_logs_sessions_once_however_often_it_is_sent(client, sign_in, delivered):
    from lms.platform.roles import Role
    from tests.factories import make_member

    group, provider, _ = delivered
    staff = make_member(Role.PROVIDER, provider=provider)
    db.session.commit()
    sign_in(staff)
    assert "1 session logged" in _upload(client, provider, _csv(group)).get_data(as_text=True)
    page = _upload(client, provider, _csv(group)).get_data(as_text=True)
    assert "1 already logged" in page and _sessions() == 1


def test_a_csv_with_a_bad_session_saves_nothing_and_says_where(client, sign_in, delivered):
    from lms.platform.roles import Role
    from tests.factories import make_member

    group, provider, _ = delivered
    staff = make_member(Role.PROVIDER, provider=provider)
    db.session.commit()
    sign_in(staff)
    raw = _csv(group) + _csv(group, group.starts_on.isoformat(), absent_reason="")[
        len(_csv(group).split(b"\n")[0]) + 1:]
    response = _upload(client, provider, raw)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "lines 4-5" in body and "Say why" in body
    assert _sessions() == 0
