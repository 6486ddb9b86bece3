"""Tutoring programmes: defined by the trust's central team, versioned on every change."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select

from lms.audit import services as audit
from lms.organisations.models import Provider, Trust
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.validation import required
from lms.tutoring.models import (
    MAX_GROUP_SIZE,
    CostModel,
    DeliveryModel,
    EvidenceSource,
    MeasureScale,
    Programme,
    Subject,
)


@dataclass
class ProgrammeTerms:
    """What the central team sets for a programme (everything a version holds)."""

    name: str
    subject: str
    delivery_model: str
    max_group_size: int = 3
    planned_sessions: int = 15
    session_minutes: int = 60
    cost_model: str = CostModel.PER_TUTOR_HOUR.value
    rate_pence: int = 0
    school_contribution_percent: int = 0
    provider_id: int | None = None
    measure_scale: str = MeasureScale.SCORE.value
    evidence_source: str = EvidenceSource.TEACHER_ASSESSMENT.value
    sla_notice_hours: int = 24
    sla_report_hours: int = 48
    sla_late_minutes: int = 5
    sla_cover_required: bool = True

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeTerms:
        return cls(**{f.name: getattr(programme, f.name) for f in fields(cls)})


def _choice(kind: type, value, field: str, what: str):
    try:
        return kind(value)
    except ValueError:
        raise DomainError(f"Choose {what}", field=field) from None


def _whole(value, field: str, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(f"{label} must be a whole number from {low} to {high}", field=field)
    return value


def _checked(trust: Trust, terms: ProgrammeTerms) -> dict:
    model = _choice(DeliveryModel, terms.delivery_model, "delivery_model", "a delivery model")
    size = _whole(terms.max_group_size, "max_group_size", "Maximum group size", 1,
                  MAX_GROUP_SIZE)
    if model == DeliveryModel.ONE_TO_ONE and size != 1:
        raise DomainError("A one-to-one programme has a maximum group size of 1",
                          field="max_group_size")
    provider = None
    if terms.provider_id is not None:
        provider = db.session.get(Provider, terms.provider_id)
        if provider is None:
            raise DomainError("Choose a provider from the list", field="provider_id")
    if model == DeliveryModel.PROVIDER and provider is None:
        raise DomainError("Choose the provider that delivers this programme",
                          field="provider_id")
    return {
        "name": required(terms.name, "name", "programme name", 120),
        "subject": _choice(Subject, terms.subject, "subject", "a subject"),
        "delivery_model": model,
        "max_group_size": size,
        "planned_sessions": _whole(terms.planned_sessions, "planned_sessions",
                                   "Planned sessions", 1, 100),
        "session_minutes": _whole(terms.session_minutes, "session_minutes",
                                  "Session length", 10, 180),
        "cost_model": _choice(CostModel, terms.cost_model, "cost_model", "a cost model"),
        "rate_pence": _whole(terms.rate_pence, "rate_pence", "Rate", 0, 10_000_000),
        "school_contribution_percent": _whole(terms.school_contribution_percent,
                                              "school_contribution_percent",
                                              "School contribution", 0, 100),
        "provider_id": provider.id if provider else None,
        "measure_scale": _choice(MeasureScale, terms.measure_scale, "measure_scale",
                                 "the scale progress is measured on"),
        "evidence_source": _choice(EvidenceSource, terms.evidence_source, "evidence_source",
                                   "where the evidence of progress comes from"),
        "sla_notice_hours": _whole(terms.sla_notice_hours, "sla_notice_hours",
                                   "Cancellation notice", 0, 336),
        "sla_report_hours": _whole(terms.sla_report_hours, "sla_report_hours",
                                   "Report within", 1, 336),
        "sla_late_minutes": _whole(terms.sla_late_minutes, "sla_late_minutes",
                                   "Late start after", 0, 60),
        "sla_cover_required": bool(terms.sla_cover_required),
    }


def _name_taken(trust: Trust, name: str, key: str | None) -> bool:
    query = select(Programme.id).where(Programme.trust_id == trust.id,
                                       Programme.superseded_at.is_(None),
                                       Programme.name == name)
    if key is not None:
        query = query.where(Programme.key != key)
    return db.session.scalar(query.limit(1)) is not None


def create_programme(trust: Trust, terms: ProgrammeTerms, *, actor=None) -> Programme:
    values = _checked(trust, terms)
    if _name_taken(trust, values["name"], None):
        raise DomainError("The trust already has a programme of that name", field="name")
    programme = Programme(key=Programme.new_key(), version=1, trust_id=trust.id,
                          created_by_id=getattr(actor, "id", None), **values)
    db.session.add(programme)
    db.session.flush()
    audit.record("tutoring.programme_created", programme, actor=actor,
                 changes={k: (None, v) for k, v in values.items()})
    return programme


def change_programme(programme: Programme, terms: ProgrammeTerms, *, actor=None) -> Programme:
    """Save the new terms as the next version. Groups already running keep the version they
    started on; new groups take this one."""
    if not programme.is_current:
        raise DomainError("This is an earlier version; change the current one")
    trust = programme.trust
    values = _checked(trust, terms)
    if _name_taken(trust, values["name"], programme.key):
        raise DomainError("The trust already has a programme of that name", field="name")
    changes = {k: (getattr(programme, k), v) for k, v in values.items()
               if getattr(programme, k) != v}
    if not changes:
        return programme
    programme.superseded_at = clock.now()
    db.session.flush()
    successor = Programme(key=programme.key, version=programme.version + 1,
                          trust_id=programme.trust_id,
                          created_by_id=getattr(actor, "id", None), **values)
    db.session.add(successor)
    db.session.flush()
    audit.record("tutoring.programme_changed", successor, actor=actor, changes=changes,
                 reason=f"Version {successor.version}")
    return successor


def current_programmes(trust_id: int) -> list[Programme]:
    return list(db.session.scalars(
        select(Programme).where(Programme.trust_id == trust_id,
                                Programme.superseded_at.is_(None)).order_by(Programme.name)))


def versions_of(programme: Programme) -> list[Programme]:
    return list(db.session.scalars(
        select(Programme).where(Programme.key == programme.key)
        .order_by(Programme.version.desc())))
