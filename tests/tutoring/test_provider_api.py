"""Providers log their tutors' sessions through the API: an API key, one session a request,
an Idempotency-Key so a retry never counts twice, pupils by pseudonym only, and the
register's rule as for anyone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from credentials.providers import services as providers
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring import groups as group_service
from lms.tutoring.models import (
    Attendance,
    LogSource,
    SessionAttendance,
    SessionStatus,
    TutoringSession,
)
from tests.factories import make_provider, make_school, make_user
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


def _post(client, token, body=None, key="session-1", **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    if body is not None:
        kwargs["json"] = body
    return client.post("/api/v1/sessions", headers=headers, csrf=False, **kwargs)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _sessions() -> int:
    return db.session.scalar(select(func.count(TutoringSession.id)))


# --- logging, and retrying ---------------------------------------------------------------


def test_a_delivered_session_is_logged_as_the_providers(client, delivered):
    group, provider, token = delivered
    response = _post(client, token, _body(group))
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer | {"group_id": group.id, "held_on": clock.today().isoformat(),
                     "status": "delivered", "minutes_delivered": 50, "pupils_present": 2,
                     "recorded": "created"} == answer
    session = db.session.scalars(select(TutoringSession)).one()
    assert (session.source, session.provider_id, session.id) == (
        LogSource.PROVIDER_API, provider.id, answer["id"])
    assert {a.minutes for a in session.attendance} == {50}


def test_a_retry_answers_with_the_session_already_recorded_and_counts_nothing_twice(
        client, delivered):
    group, _, token = delivered
    first = _post(client, token, _body(group))
    # The same session, its fields and pupils in another order and a default spelled out.
    body = _body(group, late_start_minutes=0, note="")
    body["attendance"].reverse()
    again = _post(client, token, dict(reversed(list(body.items()))))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == {**first.get_json(), "recorded": "already_recorded"}
    assert _sessions() == 1
    assert db.session.scalar(select(func.sum(SessionAttendance.minutes))) == 100


def test_the_same_key_with_another_body_is_a_conflict_that_changes_nothing(client, delivered):
    group, _, token = delivered
    assert _post(client, token, _body(group)).status_code == 201
    for changed in (_body(group, minutes_delivered=40),
                    _body(group, held_on=group.starts_on.isoformat())):
        body = _problem(_post(client, token, changed), 409)
        assert "new key for each new session" in body["detail"]
        assert list(body["errors"]) == ["Idempotency-Key"]
    session = db.session.scalars(select(TutoringSession)).one()
    assert (session.minutes_delivered, session.held_on) == (50, clock.today())


def test_a_key_is_the_providers_own(client, delivered):
    """Two providers may happen to use the same key: each logs their own session."""
    group, _, token = delivered
    school = make_school()
    other = make_provider()
    programme = make_programme(school.trust, delivery_model="provider", provider_id=other.id)
    theirs = make_group(school, programme=programme)
    _, other_token = providers.create_api_key(other, name="Other", actor=None)
    db.session.commit()
    assert _post(client, token, _body(group), key="monday").status_code == 201
    assert _post(client, other_token, _body(theirs), key="monday").status_code == 201
    assert _sessions() == 2


def test_a_session_needs_an_idempotency_key(client, delivered):
    group, _, token = delivered
    for key in (None, "", "x" * 81):
        body = _problem(_post(client, token, _body(group), key=key), 400)
        assert "Idempotency-Key" in body["detail"] and "Idempotency-Key" in body["errors"]
    assert _sessions() == 0


def test_a_cancelled_session_needs_its_reason_and_keeps_the_notice(client, delivered):
    group, _, token = delivered
    cancelled = {"group_id": group.id, "held_on": clock.today().isoformat(),
                 "status": "cancelled"}
    body = _problem(_post(client, token, cancelled), 422)
    assert list(body["errors"]) == ["cancel_reason"]
    response = _post(client, token, {**cancelled, "cancel_reason": "tutor_absent",
                                     "notice_hours": 3}, key="cancel-1")
    assert response.status_code == 201 and response.get_json()["minutes_delivered"] == 0
    session = db.session.scalars(select(TutoringSession)).one()
    assert (session.status, session.notice_hours, session.attendance) == (
        SessionStatus.CANCELLED, 3, [])


# --- who may log what --------------------------------------------------------------------


def test_another_providers_group_or_no_group_is_not_found(client, delivered):
    group, _, _ = delivered
    _, other_token = providers.create_api_key(make_provider(), name="Other", actor=None)
    db.session.commit()
    body = _problem(_post(client, other_token, _body(group)), 404)
    assert list(body["errors"]) == ["group_id"]
    _problem(_post(client, other_token, _body(group, group_id=999_999), key="s2"), 404)
    assert _sessions() == 0


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer tep_nope_nope"}, {"Authorization": "Basic abc"},
    {"X-API-Key": "not-a-key"}])
def test_no_valid_key_no_session(client, delivered, headers):
    group, _, _ = delivered
    response = client.post("/api/v1/sessions", json=_body(group), csrf=False,
                           headers={"Idempotency-Key": "k", **headers})
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/groups", headers=headers).status_code == 401


def test_a_revoked_key_is_refused(client, delivered):
    group, provider, token = delivered
    providers.revoke_api_key(providers.key_for(token), actor=None)
    db.session.commit()
    _problem(_post(client, token, _body(group)), 401)


def test_a_suspended_tutor_cannot_be_logged_for(client, delivered):
    group, _, token = delivered
    endorsement = db.session.scalars(select(Endorsement).where(
        Endorsement.user_id == group.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Under review", actor=None)
    db.session.commit()
    body = _problem(_post(client, token, _body(group)), 422)
    assert "cannot tutor here now" in body["detail"] and "paused" in body["detail"]
    assert body["errors"] == {"group_id": [body["detail"]]}
    assert _sessions() == 0
    listed = client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"})
    assert listed.get_json()["groups"][0]["tutor_cleared"] is False


def test_a_cover_tutor_must_have_an_account_and_be_cleared(client, delivered):
    group, _, token = delivered
    body = _problem(_post(client, token, _body(group, cover_tutor_email="no.one@example.org")),
                    422)
    assert list(body["errors"]) == ["cover_tutor_email"]
    stranger = make_user("stranger@example.org")
    db.session.commit()
    body = _problem(_post(client, token, _body(group, cover_tutor_email=stranger.email),
                          key="s2"), 422)
    assert list(body["errors"]) == ["cover_tutor_email"] and "cover tutor" in body["detail"]
    cover = make_cleared_tutor(group.school)
    db.session.commit()
    response = _post(client, token, _body(group, cover_tutor_email=cover.email.upper()),
                     key="s3")
    assert response.status_code == 201
    session = db.session.get(TutoringSession, response.get_json()["id"])
    assert (session.tutor_id, session.cover) == (cover.id, True)


# --- what is checked, and how it is said ---------------------------------------------------


def test_fields_are_checked_and_each_problem_is_named_by_its_field(client, delivered):
    group, _, token = delivered
    body = _problem(_post(client, token, _body(group, status="maybe", minutes_delivered=999,
                                               note="x" * 281)), 422)
    assert {"status", "minutes_delivered", "note"} <= set(body["errors"])
    body = _problem(_post(client, token, {"status": "delivered"}), 422)
    assert {"group_id", "held_on"} <= set(body["errors"])
    marks = [{"pupil": p.pupil.pseudonym, "status": "here", "engagement": 9}
             for p in group.current_places]
    body = _problem(_post(client, token, _body(group, attendance=marks)), 422)
    assert set(body["errors"]["attendance"]["0"]) == {"status", "engagement"}
    body = _problem(_post(client, token, _body(group, group_id="12", minutes_delivered=50.5)),
                    422)
    assert {"group_id", "minutes_delivered"} <= set(body["errors"])


def test_a_session_after_today_is_refused(client, delivered):
    group, _, token = delivered
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    body = _problem(_post(client, token, _body(group, held_on=tomorrow)), 422)
    assert list(body["errors"]) == ["held_on"]


def test_attendance_problems_name_pupils_by_pseudonym_never_by_name(client, delivered):
    group, _, token = delivered
    first, second = group.current_places
    names = [p.pupil.display_name for p in group.current_places]
    cases = [
        ([{"pupil": first.pupil.pseudonym, "status": "present"}], second.pupil.pseudonym),
        ([{"pupil": first.pupil.pseudonym, "status": "present"},
          {"pupil": second.pupil.pseudonym, "status": "absent"}], "Say why"),
        ([{"pupil": "P-00000000", "status": "present"}], "P-00000000 is not in group"),
        ([{"pupil": first.pupil.pseudonym, "status": "present"}] * 2, "marked twice"),
    ]
    for n, (attendance, said) in enumerate(cases):
        response = _post(client, token, _body(group, attendance=attendance), key=f"k{n}")
        body = _problem(response, 422)
        assert said in body["detail"] and list(body["errors"]) == ["attendance"]
        assert not any(name in response.get_data(as_text=True) for name in names)
    assert _sessions() == 0


@pytest.mark.parametrize("data, content_type, status", [
    ("{not json", "application/json", 400),
    ("", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("null", "application/json", 400),
    ('{"group_id": 1}', "text/plain", 400),
    ("[" * 50_000 + "]" * 50_000, "application/json", 400),
    (json.dumps({"note": "x" * 300_000}), "application/json", 413),
])
def test_a_body_that_is_not_one_json_session_is_refused(client, delivered, data,
                                                        content_type, status):
    _, _, token = delivered
    response = _post(client, token, data=data, content_type=content_type)
    _problem(response, status)
    assert _sessions() == 0


# --- the groups, and the document -------------------------------------------------------


def test_the_groups_list_is_the_providers_active_groups_with_pupils_by_pseudonym(
        client, delivered):
    group, provider, token = delivered
    programme = make_programme(group.school.trust, delivery_model="provider",
                               provider_id=provider.id)
    ended = make_group(group.school, programme=programme)
    group_service.end_group(ended)
    make_group(make_school())  # someone else's
    db.session.commit()
    response = client.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [listed] = response.get_json()["groups"]
    assert listed | {"id": group.id, "school": group.school.name,
                     "school_urn": group.school.urn, "programme": group.programme.name,
                     "tutor": group.tutor.name, "starts_at": "09:00",
                     "tutor_cleared": True} == listed
    assert listed["pupils"] == [{"pupil": p.pupil.pseudonym, "year_group": p.pupil.year_label}
                                for p in group.current_places]
    text = response.get_data(as_text=True)
    assert not any(p.pupil.display_name in text or p.pupil.reference in text
                   for p in group.current_places)


def test_the_openapi_document_describes_the_session_endpoints(client, db_session):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert {"/verifications", "/groups", "/sessions"} <= set(paths)
    post = paths["/sessions"]["post"]
    [parameter] = post["parameters"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == (
        "Idempotency-Key", "header", True)
    assert {"200", "201", "400", "401", "404", "409", "413", "422", "429"} <= set(
        post["responses"])
    assert post["requestBody"]["content"]["application/json"]["example"]["attendance"]
    assert {"SessionRequest", "SessionResult", "GroupList", "Problem"} <= set(
        document["components"]["schemas"])
    request = document["components"]["schemas"]["SessionRequest"]
    assert set(request["required"]) == {"group_id", "held_on", "status"}
    pupil = document["components"]["schemas"]["GroupPupil"]
    assert set(pupil["properties"]) == {"pupil", "year_group"}  # never a name


def test_marks_say_who_was_there(client, delivered):
    group, _, token = delivered
    first, second = group.current_places
    attendance = [{"pupil": first.pupil.pseudonym, "status": "late", "engagement": 2},
                  {"pupil": second.pupil.pseudonym, "status": "absent",
                   "absence_reason": "ill", "engagement": 5}]
    response = _post(client, token, _body(group, attendance=attendance))
    assert response.status_code == 201 and response.get_json()["pupils_present"] == 1
    marks = {a.pupil_id: (a.status, a.engagement, a.minutes)
             for a in db.session.scalars(select(SessionAttendance))}
    assert marks == {first.pupil_id: (Attendance.LATE, 2, 50),
                     second.pupil_id: (Attendance.ABSENT, None, 0)}


def test_the_same_session_sent_twice_at_the_same_moment_is_recorded_once(
        client, delivered, monkeypatch):
    """The second request checked before the first had saved: the database refuses the
    second insert, and the second request is answered with the first's session."""
    from lms.tutoring import provider_logs, sessions

    group, _, token = delivered
    first = _post(client, token, _body(group))
    real_recorded, real_session_on = provider_logs.recorded, sessions.session_on
    blind = {"recorded": 1, "session_on": 1}

    def not_yet(name, real):
        def look(*args):
            if blind[name]:
                blind[name] -= 1
                return None
            return real(*args)
        return look

    monkeypatch.setattr(provider_logs, "recorded", not_yet("recorded", real_recorded))
    monkeypatch.setattr(sessions, "session_on", not_yet("session_on", real_session_on))
    again = _post(client, token, _body(group))
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"] and _sessions() == 1
