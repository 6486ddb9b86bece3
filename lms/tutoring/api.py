"""The provider API's session endpoints, on the verification API's blueprint and keys:
``GET /api/v1/groups`` and ``POST /api/v1/sessions``. Every error is a problem document."""

from __future__ import annotations

import json

from flask import Response, request
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from credentials.providers.api import (
    MAX_REQUEST_BYTES,
    api_bp,
    authenticated_key,
    extend_openapi,
    first_message,
    json_body,
    problem,
)
from lms.platform import clock
from lms.platform.authz import Access, access
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring import provider_logs
from lms.tutoring.schemas import (
    MAX_IDEMPOTENCY_KEY,
    GroupListSchema,
    SessionRequestSchema,
    SessionResultSchema,
)

BATCH_HINT = "or send each session once: a retry with the same Idempotency-Key is safe"


def _json(payload: dict, status: int = 200) -> Response:
    response = Response(json.dumps(payload), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.get("/groups")
@access(Access.PUBLIC)
def groups():
    """The groups your organisation delivers, with their pupils' pseudonymous references."""
    key, refusal = authenticated_key(BATCH_HINT)
    if refusal is not None:
        return refusal
    key.last_used_at = clock.now()
    payload = GroupListSchema().dump({"groups": provider_logs.groups_listing(key.provider)})
    db.session.commit()
    return _json(payload)


@api_bp.post("/sessions")
@access(Access.PUBLIC)
def log_sessions():
    """Log one session your tutor delivered or that was cancelled: one session a request
    (no batches), each with its own Idempotency-Key, so a retry is always safe."""
    key, refusal = authenticated_key(BATCH_HINT)
    if refusal is not None:
        return refusal
    idempotency_key = (request.headers.get("Idempotency-Key") or "").strip()
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY \
            or not idempotency_key.isprintable():
        return problem(400, "Idempotency-Key needed",
                       f"Send a unique 'Idempotency-Key' header (1 to {MAX_IDEMPOTENCY_KEY} "
                       "printable characters) with each session, and the same key when you "
                       "retry it.", errors={"Idempotency-Key": ["Missing or not valid."]})
    try:
        body = json_body()
    except RequestEntityTooLarge:
        return problem(413, "Request too large",
                       f"Send at most {MAX_REQUEST_BYTES // 1024} KiB: one session.")
    except RecursionError:
        return problem(400, "JSON nested too deeply", "Send one session as a JSON object.")
    if not isinstance(body, dict):
        return problem(400, "Not a JSON object",
                       "Send one session as a JSON object with 'Content-Type: "
                       "application/json'.")
    try:
        data = SessionRequestSchema().load(body)
    except ValidationError as error:
        messages = error.normalized_messages()
        return problem(422, "Invalid request", first_message(messages), errors=messages)
    try:
        try:
            logged = provider_logs.log_provider_session(key.provider, data,
                                                        idempotency_key=idempotency_key)
        except IntegrityError:  # sent twice at once: the other request saved it first
            db.session.rollback()
            logged = provider_logs.log_provider_session(key.provider, data,
                                                        idempotency_key=idempotency_key)
    except provider_logs.NotYourGroup as error:
        db.session.rollback()
        return problem(404, "Group not found", error.message,
                       errors={"group_id": [error.message]})
    except provider_logs.KeyReused as error:
        db.session.rollback()
        return problem(409, "Idempotency-Key already used", error.message,
                       errors={"Idempotency-Key": [error.message]})
    except DomainError as error:
        db.session.rollback()
        return problem(422, "Session not logged", error.message,
                       errors={error.field or "group_id": [error.message]})
    key.last_used_at = clock.now()
    session = logged.session
    payload = SessionResultSchema().dump({
        "id": session.id, "group_id": session.group_id, "held_on": session.held_on,
        "status": session.status.value, "minutes_delivered": session.minutes_delivered,
        "pupils_present": logged.pupils_present,
        "recorded": "created" if logged.created else "already_recorded"})
    db.session.commit()
    return _json(payload, 201 if logged.created else 200)


def _document(spec, problem_response) -> None:
    spec.components.schema("SessionRequest", schema=SessionRequestSchema)
    spec.components.schema("SessionResult", schema=SessionResultSchema)
    spec.components.schema("GroupList", schema=GroupListSchema)
    common = {
        "401": problem_response("No valid API key"),
        "429": problem_response("Too many requests; see Retry-After"),
    }
    spec.path(path="/groups", operations={"get": {
        "operationId": "listGroups", "summary": "The tutoring groups your organisation delivers",
        "security": [{"apiKey": []}],
        "responses": {"200": {"description": "Your active groups",
                              "content": {"application/json": {"schema": "GroupList"}}},
                      **common}}})
    spec.path(path="/sessions", operations={"post": {
        "operationId": "logSession",
        "summary": "Log one session: delivered (with each pupil's attendance) or cancelled",
        "description": "One session a request (there is no batch form). Name each pupil by "
                       "the pseudonym GET /groups lists; every pupil in the group that day "
                       "needs a mark. Send a unique Idempotency-Key with each session: the "
                       "same key and body again answers 200 with the session already "
                       "recorded, and nothing is counted twice; the same key with another "
                       "body answers 409. A session cannot be logged while the school's "
                       "register does not approve the tutor (422). CSV files of many "
                       "sessions can be uploaded on your organisation's sessions page.",
        "security": [{"apiKey": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                        "description": "Unique per session; send the same key when you retry, "
                                       "and nothing is counted twice.",
                        "schema": {"type": "string", "minLength": 1,
                                   "maxLength": MAX_IDEMPOTENCY_KEY}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": "SessionRequest",
            "example": {"group_id": 1042, "held_on": "2026-12-07", "status": "delivered",
                        "minutes_delivered": 60, "late_start_minutes": 0,
                        "attendance": [{"pupil": "P-1A2B3C4D", "status": "present",
                                        "engagement": 4},
                                       {"pupil": "P-5E6F7A8B", "status": "absent",
                                        "absence_reason": "ill"}],
                        "note": "Place value with counters"}}}},
        "responses": {
            "201": {"description": "Logged",
                    "content": {"application/json": {"schema": "SessionResult"}}},
            "200": {"description": "Already logged under this Idempotency-Key: nothing changed",
                    "content": {"application/json": {"schema": "SessionResult"}}},
            "400": problem_response("No Idempotency-Key, or the body is not a JSON object"),
            "404": problem_response("Your organisation delivers no group with that id"),
            "413": problem_response("The request is too large"),
            "409": {**problem_response("The Idempotency-Key was used for another session"),
                    "content": {"application/problem+json": {"schema": "Problem", "example": {
                        "type": "about:blank", "title": "Idempotency-Key already used",
                        "status": 409, "detail": "This key was used on 7 December 2026 for a "
                        "session with other details (group 1042 on 2026-12-07). Send a new "
                        "key for each new session; to correct a logged session, ask the "
                        "school's tutoring lead.",
                        "errors": {"Idempotency-Key": ["This key was used ..."]}}}}},
            "422": {**problem_response("The fields are not right, or the session breaks a rule "
                                       "(the tutor is not cleared, a pupil has no mark, ...): "
                                       "errors names the field"),
                    "content": {"application/problem+json": {"schema": "Problem", "example": {
                        "type": "about:blank", "title": "Session not logged", "status": 422,
                        "detail": "This group's tutor cannot tutor here now: their register "
                        "status for this school is suspended. The group is paused until the "
                        "register approves them again.",
                        "errors": {"group_id": ["This group's tutor cannot tutor here now: "
                                                "..."]}}}}},
            **common}}})


extend_openapi(_document)
