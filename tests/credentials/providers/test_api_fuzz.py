"""The provider API fuzzed from its own OpenAPI document (schemathesis, in-process WSGI, no
network): whatever is sent, the answer is never a server error, every refusal is a problem
document saying what to fix, and every answer matches the document."""

from __future__ import annotations

import io
import json

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from credentials.providers import services as providers
from lms.platform.extensions import db
from tests.factories import make_endorsement, make_provider

pytestmark = pytest.mark.once

API = "/api/v1/verifications"
#: Enough to find what the fuzzer can find here in well under a minute, every run the same.
EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), print_blob=False)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


def problem_document(ctx, response, case) -> None:
    """Every 4xx is ``application/problem+json`` with a title, the status and a detail."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.split(";")[0].strip() == "application/problem+json", (
        f"{response.status_code} answered as {content_type!r}")
    body = json.loads(response.content)
    assert body["status"] == response.status_code, body
    assert isinstance(body["title"], str) and body["title"].strip(), body
    assert isinstance(body["detail"], str) and len(body["detail"].split()) >= 3, body
    return None


@pytest.fixture
def fuzzing(app, monkeypatch):
    """The app's own OpenAPI document, loaded in-process, and a real provider key."""
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 100_000)
    _, token = providers.create_api_key(make_provider(), name="Fuzzer", actor=None)
    make_endorsement()
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    [operation] = [op for op in (result.ok() for result in schema.get_all_operations())
                   if op.path == "/verifications"]
    return operation, {"Authorization": f"Bearer {token}"}


def _send(case, headers: dict | None, checks=CHECKS):
    g.__dict__.clear()  # each request starts with an empty ``g``, as in production
    response = case.call(headers=headers)
    case.validate_response(response, checks=checks, additional_checks=[problem_document],
                           headers=headers)
    db.session.rollback()
    return response


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_with_a_key_never_fail_and_always_say_what_to_fix(
        fuzzing, mode):
    operation, auth = fuzzing
    accepted = negative_data_rejection if mode == GenerationMode.NEGATIVE \
        else positive_data_acceptance

    @FUZZ
    @given(case=operation.as_strategy(mode))
    def run(case):
        _send(case, auth, [*CHECKS, accepted])

    run()


def test_fuzzed_requests_without_a_key_are_refused_with_a_problem_document(fuzzing):
    operation, _ = fuzzing

    @FUZZ
    @given(case=operation.as_strategy(GenerationMode.POSITIVE))
    def run(case):
        case.headers = {k: v for k, v in (case.headers or {}).items()
                        if k.lower() != "authorization"}
        assert _send(case, None).status_code == 401

    run()


# --- what a generator from the document would not send ------------------------------------


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and len(body["detail"].split()) >= 3
    return body


@pytest.fixture
def token(app, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 100_000)
    _, token = providers.create_api_key(make_provider(), name="Abuser", actor=None)
    db.session.commit()
    return token


def _post(client, token: str | None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(API, headers=headers, csrf=False, **kwargs)


@pytest.mark.parametrize("data", [
    "[" * 100_000 + "]" * 100_000,
    '{"credential": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001,
    '{"credential_ids": ' + "[" * 20_000 + "]" * 20_001,
])
def test_deeply_nested_json_is_refused_not_a_crash(client, db_session, token, data):
    response = _post(client, token, data=data, content_type="application/json")
    assert response.status_code in (400, 413, 422), response.status_code
    _problem(response, response.status_code)


def test_an_unauthenticated_request_is_refused_before_its_body_is_read(client, db_session):
    response = _post(client, None, data="[" * 100_000, content_type="application/json")
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ('{"credential_id": "a",}', "application/json"),
    ("", "application/json"),
    ("null", "application/json"),
    ('"credential_id"', "application/json"),
    ("[1, 2]", "application/json"),
    (b"\xff\xfe\x00\xd8{\x00", "application/json"),
    (b'{"credential_id": "\xc3\x28"}', "application/json"),
    ('{"credential_id": "abc"}', "text/plain"),
    ('{"credential_id": "abc"}', "application/xml"),
    ('{"credential_id": "abc"}', None),
    ("credential_id=abc", "application/x-www-form-urlencoded"),
    ("<credential_id>abc</credential_id>", "text/xml"),
])
def test_malformed_json_or_the_wrong_content_type_is_refused(client, db_session, token, data,
                                                             content_type):
    kwargs = {"data": data}
    if content_type:
        kwargs["content_type"] = content_type
    body = _problem(_post(client, token, **kwargs), 400)
    assert "Content-Type: application/json" in body["detail"]


def test_a_multipart_upload_is_refused(client, db_session, token):
    response = _post(client, token, data={"file": (io.BytesIO(b'{"credential_id": "a"}'),
                                                   "ids.json")})
    _problem(response, 400)


def test_a_huge_body_is_refused_whether_or_not_it_says_its_length(client, db_session, token):
    big = json.dumps({"credential_id": "a", "padding": "x" * (2 * 1024 * 1024)})
    _problem(_post(client, token, data=big, content_type="application/json"), 413)
    # Sent in chunks, without a Content-Length: read only as far as the limit.
    stream = io.BytesIO(big.encode())
    environ = EnvironBuilder(path=API, method="POST", content_type="application/json",
                             headers={"Authorization": f"Bearer {token}"}).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": stream, "wsgi.input_terminated": True})
    body = _problem(client.open(Request(environ)), 413)
    assert "256 KiB" in body["detail"]
    assert stream.tell() <= 256 * 1024 + 64 * 1024, "read far past the limit"


def test_a_body_over_the_whole_apps_limit_is_a_problem_document_too(app, client, db_session,
                                                                    token):
    big = b'{"credential_id": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1) + b'"}'
    _problem(_post(client, token, data=big, content_type="application/json"), 413)


@pytest.mark.parametrize("count", [501, 1000, 5000])
def test_more_than_500_ids_are_refused(client, db_session, token, count):
    body = _problem(_post(client, token, json={"credential_ids": ["a"] * count}), 422)
    assert body["detail"] == "credential_ids: Send between 1 and 500 ids."


@pytest.mark.parametrize("body", [
    {"credential_id": 7}, {"credential_id": 7.5}, {"credential_id": True},
    {"credential_id": None}, {"credential_id": ["a"]}, {"credential_id": {"id": "a"}},
    {"credential_ids": [1, 2, 3]}, {"credential_ids": ["a", None]}, {"credential_ids": [["a"]]},
    {"credential_ids": [{"id": "a"}]}, {"credential_ids": None}, {"credential_ids": {"a": 1}},
    {"credential": None}, {"credential": []}, {"credential": 12}, {"credential": "{}"},
    {"credential_id": "x" * 65}, {"credential_ids": ["x" * 65]},
    {"credential_id": "a", "credential_ids": ["a"], "credential": {}},
    {"CREDENTIAL_ID": "a"}, {"": "a"},
])
def test_ids_that_are_not_strings_or_fields_of_the_wrong_shape_are_refused(
        client, db_session, token, body):
    problem = _problem(_post(client, token, json=body), 422)
    assert problem["errors"]
    field = problem["detail"].split(":", 1)[0]
    assert field in {*body, "Send exactly one of credential_id, credential_ids or credential."}


@pytest.mark.parametrize("odd", ["a\x00b", "\x00", "\ud800", "a\udfffb", "é" * 20, " ",
                                 "../../etc/passwd", "' OR 1=1 --", "%00", "\u202e", "🙂"])
def test_any_text_as_an_id_is_simply_not_found(client, db_session, token, odd):
    endorsement = make_endorsement()
    db.session.commit()
    for body in ({"credential_id": odd}, {"credential_ids": [odd, endorsement.public_id]}):
        response = _post(client, token, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        results = response.get_json()["results"]
        assert results[0] == {**results[0], "credential_id": odd, "status": "not_found",
                              "valid": False, "tutor_name": None}
    assert results[1]["status"] == "valid"


@pytest.mark.parametrize("credential", [
    {"id": "http://localhost/credentials/\x00", "type": ["VerifiableCredential",
                                                       "OpenBadgeCredential"]},
    {"id": "\ud800", "type": "\ud800", "proof": {"verificationMethod": "\x00"}},
    {"id": ["not", "a", "string"], "type": {"a": 1}, "proof": [None, 1, "x"]},
    {"@context": ["https://evil.example/context"], "type": ["VerifiableCredential",
                                                            "OpenBadgeCredential"]},
    {"credentialStatus": {"statusListCredential": "http://localhost/status/\x00"}},
    {"a": [[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]},
    {str(n): n for n in range(5000)},
])
def test_a_whole_credential_of_any_shape_is_invalid_not_a_crash(client, db_session, token,
                                                                 credential):
    response = _post(client, token, data=json.dumps(credential),
                     content_type="application/json")
    response = _post(client, token, data=json.dumps({"credential": credential}),
                     content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [result] = response.get_json()["results"]
    assert (result["status"], result["valid"]) == ("invalid", False)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_method_is_a_problem_document(client, db_session, token, method):
    response = client.open(API, method=method, headers={"Authorization": f"Bearer {token}"},
                           json={"credential_id": "a"})
    body = _problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert body["detail"] == "This address takes POST requests only."


@pytest.mark.parametrize("header", [
    "Bearer " + "tep_" + "\x00" * 10 + "_x", "Bearer tep_é_é", "Bearer tep__", "bearer",
    "Bearer tep_" + "a" * 5000, "Token abc", "Bearer  tep_a_b  ",
])
def test_a_malformed_authorization_header_is_refused(client, db_session, token, header):
    response = client.post(API, json={"credential_id": "a"}, csrf=False,
                           headers={"Authorization": header})
    _problem(response, 401)


@pytest.mark.parametrize("path", [
    "/credentials/a%00b", "/credentials/a%00b.json", "/credentials/a%00b/qr.svg",
    "/credentials/a%00b/certificate.pdf", "/credentials/%ED%A0%80", "/credentials/" + "x" * 5000,
    "/credentials/..%2F..%2Fetc%2Fpasswd", "/status/a%00b", "/status/%ED%A0%80",
    "/achievements/a%00b",
])
def test_the_public_addresses_answer_odd_ids_with_not_found(client, db_session, path):
    make_endorsement()
    db.session.commit()
    for accept in ("text/html", "application/vc+ld+json"):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 404, (path, response.status_code)


def test_a_refusal_for_too_many_requests_matches_the_document(app, fuzzing, monkeypatch):
    operation, auth = fuzzing
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 1)
    case = operation.Case(body={"credential_id": "abc"}, media_type="application/json")
    assert _send(case, auth).status_code == 200
    refused = _send(operation.Case(body={"credential_id": "abc"},
                                   media_type="application/json"), auth)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"][0]) <= 60
