"""The verification API for tutoring providers: ``/api/v1``, API keys, JSON in and out.

Every error is a problem document (``application/problem+json``) that says what to fix.
"""

from __future__ import annotations

import json
from datetime import timedelta

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from credentials.providers import services as providers
from credentials.providers.schemas import (
    MAX_BATCH,
    ProblemSchema,
    VerificationRequestSchema,
    VerificationResponseSchema,
)
from lms.platform import clock
from lms.platform.authz import Access, access
from lms.platform.counters import counters
from lms.platform.extensions import csrf, db

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

#: Larger than any honest request (500 ids, or one credential of at most 64 KiB).
MAX_REQUEST_BYTES = 256 * 1024


def problem(status: int, title: str, detail: str, errors: dict | None = None,
            headers: dict | None = None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def first_message(messages: dict) -> str:
    """The first thing to fix, in words (all of them are in ``errors``)."""
    field, problems = next(iter(messages.items()))
    while isinstance(problems, dict):
        problems = next(iter(problems.values()))
    text = problems[0] if isinstance(problems, list) and problems else str(problems)
    return text if field == "_schema" else f"{field}: {text}"


def authenticated_key(batch_hint: str) -> tuple[object | None, Response | None]:
    """The request's API key, or the problem to answer: no valid key (401) or too many
    requests for it this minute (429)."""
    key = providers.key_for(_token())
    if key is None:
        return None, problem(401, "API key needed",
                             "Send a valid, unrevoked API key as 'Authorization: Bearer <key>'.",
                             headers={"WWW-Authenticate": 'Bearer realm="api"'})
    limit = current_app.config["API_REQUESTS_PER_MINUTE"]
    allowed, retry_after = counters.hit(f"api:{key.id}", limit, timedelta(minutes=1))
    if not allowed:
        return None, problem(429, "Too many requests",
                             f"This key may make {limit} requests a minute. Try again in "
                             f"{retry_after} seconds, {batch_hint}.",
                             headers={"Retry-After": str(retry_after)})
    return key, None


#: Functions that add a higher layer's paths to the OpenAPI document (see ``extend_openapi``).
_openapi_extensions: list = []


def extend_openapi(add) -> None:
    """Register ``add(spec, problem_response)``: it adds paths and schemas to the document.
    The tutoring package documents its session endpoints this way; this package never
    imports the layers above it."""
    if add not in _openapi_extensions:
        _openapi_extensions.append(add)


def json_body() -> object | None:
    """The body as JSON, or None when it is not JSON (wrong type, bad syntax or encoding).

    Never reads more than ``MAX_REQUEST_BYTES`` (plus one, to tell), with or without a
    Content-Length: ``RequestEntityTooLarge`` past that. Nesting deeper than the parser can
    follow raises ``RecursionError``.
    """
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise RequestEntityTooLarge()
    if not request.is_json:
        return None
    request.max_content_length = MAX_REQUEST_BYTES + 1
    data = request.get_data(cache=False)
    if len(data) > MAX_REQUEST_BYTES:
        raise RequestEntityTooLarge()
    try:
        return json.loads(data)
    except ValueError:
        return None


@api_bp.post("/verifications")
@access(Access.PUBLIC)
def verifications():
    """Check endorsements: live status, pathway, phase, dates, and register status where the
    tutor's trust allows it."""
    key, refusal = authenticated_key(f"or check up to {MAX_BATCH} ids in one request")
    if refusal is not None:
        return refusal
    try:
        body = json_body()
    except RequestEntityTooLarge:
        return problem(413, "Request too large",
                       f"Send at most {MAX_REQUEST_BYTES // 1024} KiB: up to {MAX_BATCH} ids, "
                       "or one credential.")
    except RecursionError:
        return problem(400, "JSON nested too deeply",
                       "Send a JSON object with credential_id, credential_ids or credential; "
                       "a credential is nested at most 12 levels deep.")
    if not isinstance(body, dict):
        return problem(400, "Not a JSON object",
                       "Send a JSON object with credential_id, credential_ids or credential, "
                       "and 'Content-Type: application/json'.")
    try:
        data = VerificationRequestSchema().load(body)
    except ValidationError as error:
        messages = error.normalized_messages()
        return problem(422, "Invalid request", first_message(messages), errors=messages)
    now = clock.now()
    key.last_used_at = now
    if "credential" in data:
        results = [providers.verify_document(data["credential"], provider=key.provider,
                                             key=key, now=now)]
    else:
        ids = data.get("credential_ids") or [data["credential_id"]]
        results = providers.verify_ids(ids, provider=key.provider, key=key, now=now)
    payload = VerificationResponseSchema().dump(
        {"checked_at": now, "results": [result.as_dict() for result in results]})
    db.session.commit()
    response = Response(json.dumps(payload), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def openapi_document() -> dict:
    spec = APISpec(
        title="Tutor Endorsement Platform: provider API", version="1.0.0",
        openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
        info={"description": "Check School-Led Tutor endorsements, and log the tutoring "
                             "sessions your tutors deliver. Authenticate with an API "
                             "key from your organisation's page: 'Authorization: Bearer "
                             "<key>'. Each key may make a limited number of requests a "
                             "minute; a 429 response says when to try again (Retry-After)."},
        servers=[{"url": current_app.config["BASE_URL"] + "/api/v1"}],
    )
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    # "Exactly one of" is a marshmallow rule the generated schema cannot say by itself.
    spec.components.schema("VerificationRequest", {"minProperties": 1, "maxProperties": 1},
                           schema=VerificationRequestSchema)
    spec.components.schema("VerificationResponse", schema=VerificationResponseSchema)
    spec.components.schema("Problem", schema=ProblemSchema)

    def problem_response(description: str) -> dict:
        return {"description": description, "content": {
            "application/problem+json": {"schema": "Problem"}}}

    spec.path(path="/verifications", operations={"post": {
        "operationId": "verifyEndorsements",
        "summary": "Check one endorsement, up to 500 at once, or a whole credential",
        "security": [{"apiKey": []}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": "VerificationRequest"}}},
        "responses": {
            "200": {"description": "A result for each credential, in the order sent",
                    "content": {"application/json": {"schema": "VerificationResponse"}}},
            "400": problem_response("The body is not a JSON object, or is nested too deeply"),
            "401": {**problem_response("No valid API key"), "headers": {
                "WWW-Authenticate": {"description": "How to authenticate: Bearer",
                                     "schema": {"type": "string"}}}},
            "413": problem_response("The request is too large"),
            "422": problem_response("The fields are not right"),
            "429": {**problem_response("Too many requests; see Retry-After"), "headers": {
                "Retry-After": {"description": "Seconds to wait before trying again",
                                "schema": {"type": "integer", "minimum": 1}}}},
        },
    }})
    for add in _openapi_extensions:
        add(spec, problem_response)
    return spec.to_dict()


@api_bp.get("/openapi.json")
@access(Access.PUBLIC)
def openapi():
    response = Response(json.dumps(openapi_document(), indent=2), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
