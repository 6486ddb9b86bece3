"""The verification API for tutoring providers: their API keys, checking endorsements by id or
whole, what the tutor's trust lets them see, the rate limit, and the OpenAPI document."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from credentials.endorsements import services
from credentials.endorsements.models import Endorsement, VerificationCheck
from credentials.providers import services as providers
from credentials.providers.models import ApiKey
from credentials.providers.schemas import MAX_BATCH
from credentials.register.models import ProviderAccess
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from tests.factories import make_endorsement, make_member, make_provider, make_school

API = "/api/v1/verifications"
TUTOR_PASSWORD = "tutor password 2026"


def _key(provider=None, name: str = "Bookings system") -> tuple[ApiKey, str]:
    key, token = providers.create_api_key(provider or make_provider(), name=name, actor=None)
    db.session.commit()
    return key, token


def _ask(client, token: str | None, body=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        kwargs["json"] = body
    return client.post(API, headers=headers, csrf=False, **kwargs)


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["results"]


def _problem(response, status: int) -> dict:
    """An error response: a problem document with a title, the status and what to do."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _grant(trust, provider) -> ProviderAccess:
    access = ProviderAccess(trust_id=trust.id, provider_id=provider.id)
    db.session.add(access)
    db.session.commit()
    return access


# --- API keys -----------------------------------------------------------------------------


def test_a_providers_staff_make_a_key_that_is_shown_once_and_stored_only_as_a_hash(
        client, db_session, sign_in):
    provider = make_provider("Bright Futures Tutoring")
    staff = make_member(Role.PROVIDER, provider=provider)
    db_session.commit()
    sign_in(staff)
    page = f"/providers/{provider.id}/keys"
    assert "No keys yet." in client.get(page).get_data(as_text=True)
    made = client.post(page, data={"name": "Bookings system"})
    assert made.status_code == 200
    key = db_session.scalars(select(ApiKey)).one()
    text = made.get_data(as_text=True)
    token = text.split('id="new-key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert token.startswith(f"tep_{key.prefix}_") and "it will not be shown again" in text
    assert key.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    again = client.get(page).get_data(as_text=True)
    assert token not in again and f"tep_{key.prefix}" in again and "Bookings system" in again
    secret = token.rsplit("_", 1)[1]
    for table in db.metadata.sorted_tables:
        for row in db_session.execute(select(table)):
            assert secret not in repr(tuple(row)), f"the secret is stored in {table.name}"
    assert _results(_ask(client, token, {"credential_id": "nothing"}))[0]["status"] == \
        "not_found"


def test_a_key_needs_a_name(client, db_session, sign_in):
    provider = make_provider()
    staff = make_member(Role.PROVIDER, provider=provider)
    db_session.commit()
    sign_in(staff)
    refused = client.post(f"/providers/{provider.id}/keys", data={"name": ""})
    assert refused.status_code == 400 and "Name the key" in refused.get_data(as_text=True)
    assert db_session.scalars(select(ApiKey)).all() == []


def test_a_revoked_key_is_refused(client, db_session, sign_in):
    provider = make_provider()
    staff = make_member(Role.PROVIDER, provider=provider)
    key, token = _key(provider)
    sign_in(staff)
    done = client.post(f"/providers/{provider.id}/keys/{key.id}/revoke")
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(ApiKey, key.id).revoked_at is not None
    assert "Revoked" in client.get(f"/providers/{provider.id}/keys").get_data(as_text=True)
    body = _problem(_ask(client, token, {"credential_id": "x"}), 401)
    assert "unrevoked" in body["detail"]


def test_another_providers_staff_cannot_see_or_revoke_its_keys(client, db_session, sign_in):
    provider = make_provider()
    key, _ = _key(provider)
    outsider = make_member(Role.PROVIDER)
    db_session.commit()
    sign_in(outsider)
    assert client.get(f"/providers/{provider.id}/keys").status_code == 404
    assert client.post(f"/providers/{provider.id}/keys",
                       data={"name": "Mine now"}).status_code == 404
    assert client.post(f"/providers/{provider.id}/keys/{key.id}/revoke").status_code == 404
    db_session.expire_all()
    assert db_session.get(ApiKey, key.id).is_active


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer tep_", "Bearer tep_abc_def",
                                    "Basic dXNlcjpwYXNz", "Bearer " + "tep_x_" + "y" * 300])
def test_no_key_or_a_malformed_key_is_refused(client, db_session, header):
    _key()
    response = client.post(API, json={"credential_id": "x"}, csrf=False,
                           headers={"Authorization": header} if header else {})
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_refused(client, db_session):
    key, _ = _key()
    _problem(_ask(client, f"tep_{key.prefix}_{'A' * 43}", {"credential_id": "x"}), 401)


def test_the_key_records_when_it_was_last_used(client, db_session):
    key, token = _key()
    assert key.last_used_at is None
    clock.travel(timedelta(days=3))
    _results(_ask(client, token, {"credential_id": "x"}))
    db_session.expire_all()
    used = db_session.get(ApiKey, key.id).last_used_at
    assert used is not None and abs(used - clock.now()) < timedelta(minutes=1)


# --- checking by id -----------------------------------------------------------------------


def test_one_id_gives_the_live_status_and_what_the_endorsement_is(client, db_session):
    endorsement = make_endorsement(name="Grace Okoro", tutoring_phase="secondary")
    _, token = _key()
    response = _ask(client, token, {"credential_id": endorsement.public_id})
    assert response.headers["Cache-Control"] == "no-store"
    [result] = _results(response)
    assert result["credential_id"] == endorsement.public_id
    assert (result["status"], result["valid"]) == ("valid", True)
    assert result["tutor_name"] == "Grace Okoro" and result["phase"] == "secondary"
    assert result["pathway"] == endorsement.pathway.value
    assert result["page_url"] == services.credential_url(endorsement.public_id)
    assert result["reason"].startswith("Valid until ")
    assert "register" not in result


def test_a_list_keeps_its_order_and_says_which_ids_are_unknown(client, db_session):
    first, second = make_endorsement(), make_endorsement()
    _, token = _key()
    ids = [second.public_id, "no-such-id", first.public_id, second.public_id, "x" * 40]
    results = _results(_ask(client, token, {"credential_ids": ids}))
    assert [r["credential_id"] for r in results] == ids
    assert [r["status"] for r in results] == ["valid", "not_found", "valid", "valid",
                                              "not_found"]
    assert results[1]["valid"] is False and results[1]["tutor_name"] is None
    checks = db_session.scalars(select(VerificationCheck)).all()
    assert sorted(c.endorsement_id for c in checks) == sorted([first.id, second.id]), \
        "a duplicate is one check"


def test_up_to_500_ids_are_checked_at_once_and_501_are_refused(client, db_session):
    endorsement = make_endorsement()
    _, token = _key()
    ids = [endorsement.public_id] + [f"missing-{n}" for n in range(MAX_BATCH - 1)]
    assert len(_results(_ask(client, token, {"credential_ids": ids}))) == MAX_BATCH
    body = _problem(_ask(client, token, {"credential_ids": [*ids, "one-more"]}), 422)
    assert body["errors"] == {"credential_ids": ["Send between 1 and 500 ids."]}
    assert body["detail"] == "credential_ids: Send between 1 and 500 ids."


@pytest.mark.parametrize("body", [
    {}, {"credential_id": "a", "credential_ids": ["b"]},
    {"credential_id": "a", "credential": {"id": "b"}},
])
def test_exactly_one_of_the_fields_is_needed(client, db_session, body):
    _, token = _key()
    problem = _problem(_ask(client, token, body), 422)
    assert problem["errors"]["_schema"] == [
        "Send exactly one of credential_id, credential_ids or credential."]


@pytest.mark.parametrize("body", [{"credential_id": ""}, {"credential_id": 7},
                                  {"credential_ids": []}, {"credential_ids": "abc"},
                                  {"credential": "abc"}, {"credential_id": "a", "extra": 1}])
def test_fields_of_the_wrong_shape_are_refused_with_what_is_wrong(client, db_session, body):
    _, token = _key()
    problem = _problem(_ask(client, token, body), 422)
    assert problem["errors"]


@pytest.mark.parametrize("kwargs", [
    {"data": "credential_id=abc", "content_type": "application/x-www-form-urlencoded"},
    {"data": "{not json", "content_type": "application/json"},
    {"data": "[1, 2]", "content_type": "application/json"},
    {},
])
def test_a_body_that_is_not_a_json_object_is_refused(client, db_session, kwargs):
    _, token = _key()
    body = _problem(_ask(client, token, **kwargs), 400)
    assert "Content-Type: application/json" in body["detail"]


def test_a_request_that_is_too_large_is_refused(client, db_session):
    _, token = _key()
    padding = "x" * (300 * 1024)
    body = _problem(_ask(client, token, {"credential_id": "a", "padding": padding}), 413)
    assert "256 KiB" in body["detail"]


def test_a_wrong_method_or_address_is_a_problem_document_too(client, db_session):
    _problem(client.get(API), 405)
    _problem(client.post("/api/v1/nothing-here", csrf=False), 404)


def test_each_status_is_reported(client, db_session):
    valid, suspended, revoked, expired = (make_endorsement() for _ in range(4))
    services.suspend_endorsement(suspended, reason="Allegation", actor=None)
    services.revoke_endorsement(revoked, reason="Barred", actor=None)
    expired.valid_until = clock.now() + timedelta(days=1)
    _, token = _key()
    clock.travel(timedelta(days=2))
    results = _results(_ask(client, token, {"credential_ids": [
        e.public_id for e in (valid, suspended, revoked, expired)]}))
    assert [(r["status"], r["valid"]) for r in results] == [
        ("valid", True), ("suspended", False), ("revoked", False), ("expired", False)]
    assert results[1]["reason"].startswith("Suspended since ")
    assert results[2]["reason"].startswith("Revoked on ")
    assert results[3]["reason"].startswith("Expired on ")


# --- checking a whole credential ----------------------------------------------------------


def test_a_whole_credential_is_verified_and_then_given_its_live_status(client, db_session):
    endorsement = make_endorsement()
    _, token = _key()
    [result] = _results(_ask(client, token, {"credential": json.loads(endorsement.credential)}))
    assert result["credential_id"] == endorsement.public_id
    assert (result["status"], result["valid"]) == ("valid", True)
    assert db_session.scalars(select(VerificationCheck)).one().endorsement_id == endorsement.id


def test_a_tampered_credential_is_invalid_and_says_why(client, db_session):
    endorsement = make_endorsement()
    _, token = _key()
    credential = json.loads(endorsement.credential)
    credential["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    [result] = _results(_ask(client, token, {"credential": credential}))
    assert (result["status"], result["valid"]) == ("invalid", False)
    assert result["reason"] == "the credential has been altered or was not signed by this key"
    # A forgery pointing at a real endorsement learns nothing about its tutor.
    assert result["tutor_name"] is None and result["pathway"] is None


@pytest.mark.parametrize("credential, reason", [
    ({"id": "x", "type": ["VerifiableCredential"]}, "it is not an Open Badges 3.0 credential"),
    ({"a": json.loads("[" * 13 + "1" + "]" * 13)}, "the document is nested more than 12"),
])
def test_a_whole_credential_that_is_not_one_is_invalid(client, db_session, credential,
                                                        reason):
    _, token = _key()
    [result] = _results(_ask(client, token, {"credential": credential}))
    assert (result["status"], result["valid"]) == ("invalid", False)
    assert result["reason"].startswith(reason)
    assert db_session.scalars(select(VerificationCheck)).all() == []


def test_a_whole_credential_from_another_issuer_is_invalid(client, db_session):
    endorsement = make_endorsement()
    _, token = _key()
    credential = json.loads(endorsement.credential)
    credential["proof"][0]["verificationMethod"] = "did:web:elsewhere.example#z6MkNotOurs"
    [result] = _results(_ask(client, token, {"credential": credential}))
    assert (result["status"], result["valid"]) == ("invalid", False)
    assert "is not known" in result["reason"]


def test_a_whole_credential_that_is_suspended_or_revoked_says_which(client, db_session):
    suspended, revoked = make_endorsement(), make_endorsement()
    services.suspend_endorsement(suspended, reason="Allegation", actor=None)
    services.revoke_endorsement(revoked, reason="Barred", actor=None)
    _, token = _key()
    for endorsement, expected in ((suspended, "suspended"), (revoked, "revoked")):
        [result] = _results(_ask(client, token,
                                 {"credential": json.loads(endorsement.credential)}))
        assert (result["status"], result["valid"]) == (expected, False)
        assert result["credential_id"] == endorsement.public_id


def test_a_whole_credential_past_its_date_has_expired(client, db_session):
    endorsement = make_endorsement()
    _, token = _key()
    clock.travel_to(endorsement.valid_until + timedelta(days=1))
    [result] = _results(_ask(client, token, {"credential": json.loads(endorsement.credential)}))
    assert (result["status"], result["valid"]) == ("expired", False)


# --- what the tutor's trust lets a provider see -------------------------------------------


def test_the_register_is_shown_only_for_tutors_of_a_trust_that_granted_access(client,
                                                                              db_session):
    granting, other = make_endorsement(school=make_school()), make_endorsement()
    provider = make_provider()
    _, token = _key(provider)
    body = {"credential_ids": [granting.public_id, other.public_id]}
    assert all("register" not in r for r in _results(_ask(client, token, body)))
    access = _grant(granting.trust, provider)
    with_access, without = _results(_ask(client, token, body))
    assert with_access["register"]["trust"] == granting.trust.name
    assert with_access["register"]["status"] and "schools" in with_access["register"]
    assert "register" not in without
    _, stranger = _key()
    assert all("register" not in r for r in _results(_ask(client, stranger, body)))
    access.revoked_at = clock.now()
    db_session.commit()
    assert all("register" not in r for r in _results(_ask(client, token, body)))


# --- the rate limit -----------------------------------------------------------------------


def test_a_key_over_its_rate_limit_is_told_when_to_retry_and_others_are_not(
        app, client, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 3)
    _, busy = _key()
    _, quiet = _key()
    for _ in range(3):
        _results(_ask(client, busy, {"credential_id": "x"}))
    refused = _ask(client, busy, {"credential_id": "x"})
    body = _problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 requests a minute" in body["detail"]
    _results(_ask(client, quiet, {"credential_id": "x"}))
    clock.travel(timedelta(seconds=61))
    _results(_ask(client, busy, {"credential_id": "x"}))


# --- the tutor sees who checked -----------------------------------------------------------


def test_each_check_is_logged_and_shown_to_the_tutor(client, db_session, sign_in):
    endorsement = make_endorsement()
    provider = make_provider("Bright Futures Tutoring")
    key, token = _key(provider)
    _results(_ask(client, token, {"credential_id": endorsement.public_id}))
    _results(_ask(client, token, {"credential_ids": [endorsement.public_id]}))
    checks = db_session.scalars(select(VerificationCheck)).all()
    assert len(checks) == 2
    assert {(c.endorsement_id, c.provider_id, c.api_key_id) for c in checks} == {
        (endorsement.id, provider.id, key.id)}
    sign_in(db_session.get(Endorsement, endorsement.id).user, TUTOR_PASSWORD)
    page = client.get("/my/endorsements").get_data(as_text=True)
    assert page.count("Bright Futures Tutoring, ") == 2
    assert "No tutoring provider has checked it" not in page


def test_a_refused_request_is_not_logged(client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    _ask(client, None, {"credential_id": endorsement.public_id})
    assert db_session.scalars(select(VerificationCheck)).all() == []


# --- the OpenAPI document -----------------------------------------------------------------


def _resolve(document: dict, ref: dict) -> dict:
    assert ref["$ref"].startswith("#/")
    node = document
    for part in ref["$ref"][2:].split("/"):
        node = node[part]
    return node


def test_the_openapi_document_describes_the_api(client, db_session):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        validate(document)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "http://localhost/api/v1"}]
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "bearer"}
    post = document["paths"]["/verifications"]["post"]
    assert post["security"] == [{"apiKey": []}]
    request_schema = _resolve(
        document, post["requestBody"]["content"]["application/json"]["schema"])
    assert set(request_schema["properties"]) == {"credential_id", "credential_ids",
                                                 "credential"}
    assert request_schema["properties"]["credential_ids"]["maxItems"] == MAX_BATCH
    ok = _resolve(document, post["responses"]["200"]["content"]["application/json"]["schema"])
    result = _resolve(document, ok["properties"]["results"]["items"])
    assert {"credential_id", "status", "valid", "reason", "register"} <= set(
        result["properties"])
    assert result["properties"]["status"]["enum"] == [
        "valid", "suspended", "revoked", "expired", "not_found", "invalid"]
    for code in ("400", "401", "413", "422", "429"):
        problem = _resolve(document, post["responses"][code]["content"][
            "application/problem+json"]["schema"])
        assert {"title", "status", "detail"} <= set(problem["required"])
    for schema in document["components"]["schemas"].values():
        assert schema["type"] == "object"
        for prop in schema["properties"].values():
            assert "$ref" in prop or "type" in prop or "allOf" in prop, prop
