"""The provider API's session shapes (explicit fields, nothing implicit)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from lms.tutoring.models import AbsenceReason, Attendance, CancelReason, SessionStatus
from lms.tutoring.sessions import MAX_NOTE

MAX_IDEMPOTENCY_KEY = 80


def _values(kind) -> list[str]:
    return [m.value for m in kind]


class MarkSchema(Schema):
    pupil = fields.String(required=True, validate=validate.Length(1, 12), metadata={
        "description": "The pupil's pseudonymous reference, as GET /groups lists it.",
        "example": "P-1A2B3C4D"})
    status = fields.String(required=True, validate=validate.OneOf(_values(Attendance)))
    absence_reason = fields.String(allow_none=True,
                                   validate=validate.OneOf(_values(AbsenceReason)),
                                   metadata={"description": "Needed when status is absent."})
    engagement = fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, 5))


class SessionRequestSchema(Schema):
    group_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    held_on = fields.Date(required=True, metadata={"example": "2026-12-07"})
    status = fields.String(required=True, validate=validate.OneOf(_values(SessionStatus)))
    cancel_reason = fields.String(allow_none=True, validate=validate.OneOf(_values(CancelReason)),
                                  metadata={"description": "Needed when status is cancelled."})
    notice_hours = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 2000),
                                  metadata={"description": "How long before the session it "
                                                           "was called off."})
    minutes_delivered = fields.Integer(allow_none=True, strict=True,
                                       validate=validate.Range(1, 240), metadata={
                                           "description": "Left out: the planned minutes."})
    late_start_minutes = fields.Integer(load_default=0, strict=True,
                                        validate=validate.Range(0, 240))
    cover_tutor_email = fields.Email(allow_none=True, validate=validate.Length(max=254),
                                     metadata={"description": "When a cover tutor tutored: "
                                                              "their account's email. They "
                                                              "must be cleared too."})
    attendance = fields.List(fields.Nested(MarkSchema), load_default=list,
                             validate=validate.Length(max=6))
    note = fields.String(load_default="", validate=validate.Length(max=MAX_NOTE), metadata={
        "description": "About the session only, never about a pupil's welfare."})


class SessionResultSchema(Schema):
    id = fields.Integer(required=True)
    group_id = fields.Integer(required=True)
    held_on = fields.Date(required=True)
    status = fields.String(required=True)
    minutes_delivered = fields.Integer(required=True)
    pupils_present = fields.Integer(required=True)
    recorded = fields.String(required=True, metadata={
        "description": "created, or already_recorded when this Idempotency-Key was seen "
                       "before (nothing is counted twice)."})


class GroupPupilSchema(Schema):
    pupil = fields.String(required=True, metadata={"description": "Pseudonymous reference."})
    year_group = fields.String(required=True)


class GroupSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    school = fields.String(required=True)
    school_urn = fields.String(required=True)
    programme = fields.String(required=True)
    tutor = fields.String(required=True)
    weekday = fields.String(required=True)
    starts_at = fields.String(required=True)
    session_minutes = fields.Integer(required=True)
    tutor_cleared = fields.Boolean(required=True, metadata={
        "description": "Whether the trust's register approves the tutor for this school now; "
                       "sessions cannot be logged while it does not."})
    pupils = fields.List(fields.Nested(GroupPupilSchema), required=True)


class GroupListSchema(Schema):
    groups = fields.List(fields.Nested(GroupSchema), required=True)
