"""The verification API's request and response shapes (explicit fields, nothing implicit)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

MAX_BATCH = 500

STATUSES = ["valid", "suspended", "revoked", "expired", "not_found", "invalid"]


class VerificationRequestSchema(Schema):
    """Exactly one of: a credential id, a list of up to 500, or a whole credential."""

    credential_id = fields.String(validate=validate.Length(1, 64),
                                  metadata={"description": "The id in a verification link."})
    credential_ids = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        validate=validate.Length(1, MAX_BATCH, error=f"Send between 1 and {MAX_BATCH} ids."),
        metadata={"description": f"Up to {MAX_BATCH} ids, checked in one request."})
    credential = fields.Dict(metadata={
        "description": "A whole signed credential (JSON), checked as any verifier would: "
                       "proof, dates and status."})

    @validates_schema
    def _exactly_one(self, data: dict, **kwargs) -> None:
        given = [name for name in ("credential_id", "credential_ids", "credential")
                 if name in data]
        if len(given) != 1:
            raise ValidationError("Send exactly one of credential_id, credential_ids or "
                                  "credential.", field_name="_schema")


class RegisterStatusSchema(Schema):
    status = fields.String(required=True, metadata={
        "description": "approved, pending, suspended, removed or not_on_register"})
    trust = fields.String(required=True)
    schools = fields.List(fields.String(), required=True,
                          metadata={"description": "Schools where the tutor may tutor."})
    reasons = fields.List(fields.String(), load_default=list)


class VerificationResultSchema(Schema):
    credential_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    valid = fields.Boolean(required=True)
    reason = fields.String(required=True, metadata={"description": "The status in words."})
    tutor_name = fields.String(allow_none=True)
    pathway = fields.String(allow_none=True)
    pathway_label = fields.String(allow_none=True)
    phase = fields.String(allow_none=True)
    issued = fields.DateTime(allow_none=True)
    valid_until = fields.DateTime(allow_none=True)
    page_url = fields.String(allow_none=True)
    register = fields.Nested(RegisterStatusSchema, metadata={
        "description": "Only where the tutor's trust has given your organisation access."})


class VerificationResponseSchema(Schema):
    checked_at = fields.DateTime(required=True)
    results = fields.List(fields.Nested(VerificationResultSchema), required=True)


class ProblemSchema(Schema):
    """An error (RFC 9457 problem details)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "What was wrong with each field sent."})
