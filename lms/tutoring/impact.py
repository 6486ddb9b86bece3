"""The termly impact review: for each programme (and so its delivery model), what it reached,
the dosage, attendance and progress it achieved and what it cost, compared across the schools
running it; and the central team's decision on it (continue, change, stop or expand) with the
reason, audited. Decisions appear in the board report of the period they were made in.

Every figure is ``lms.tutoring.figures``'s, split by programme and by programme at each school.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.models import Trust
from lms.platform.clock import LONDON
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring.figures import (
    PROGRAMME_SCHOOL,
    Coverage,
    Period,
    Row,
    TutoringFigures,
    tutoring_figures,
)
from lms.tutoring.models import DeliveryModel, ImpactReview, Programme, ReviewDecision

MAX_REASON = 2000


@dataclass
class ProgrammeReview:
    """One programme's figures, whole and per school, and its decisions so far."""

    key: str
    name: str
    delivery_model: DeliveryModel
    overall: Row
    schools: list[Row] = field(default_factory=list)
    #: Every decision on it, newest first.
    decisions: list[ImpactReview] = field(default_factory=list)

    @property
    def latest(self) -> ImpactReview | None:
        return self.decisions[0] if self.decisions else None


@dataclass
class ImpactReviewPage:
    trust: Trust
    period: Period
    figures: TutoringFigures
    programmes: list[ProgrammeReview]


def _programmes(trust_id: int) -> dict[str, Programme]:
    """Each programme's latest version, by key."""
    latest: dict[str, Programme] = {}
    for programme in db.session.scalars(select(Programme).where(Programme.trust_id == trust_id)
                                        .order_by(Programme.key, Programme.version)):
        latest[programme.key] = programme
    return latest


def impact_review(trust: Trust, period: Period) -> ImpactReviewPage:
    """Every programme of the trust that is current or ran in the period, with its figures."""
    figures = tutoring_figures(Coverage(trust.name, trust.id), period, weeks=False,
                               splits=("programme", "delivery_model", PROGRAMME_SCHOOL))
    programmes = _programmes(trust.id)
    decisions: dict[str, list[ImpactReview]] = {}
    for review in db.session.scalars(
            select(ImpactReview).where(ImpactReview.trust_id == trust.id)
            .order_by(ImpactReview.decided_at.desc(), ImpactReview.id.desc())):
        decisions.setdefault(review.programme_key, []).append(review)
    by_key = {r.key: r for r in figures.rows("programme")}
    schools: dict[str, list[Row]] = {}
    for row in figures.rows(PROGRAMME_SCHOOL):
        schools.setdefault(row.key.split(":")[0], []).append(row)
    shown = [p for key, p in programmes.items() if p.is_current or key in by_key]
    reviews = [ProgrammeReview(p.key, p.name, p.delivery_model,
                               by_key.get(p.key) or Row(p.key, p.name),
                               schools.get(p.key, []), decisions.get(p.key, []))
               for p in shown]
    reviews.sort(key=lambda r: (r.delivery_model.label, r.name.casefold()))
    return ImpactReviewPage(trust, period, figures, reviews)


def record_decision(trust: Trust, *, programme_key: str, decision: str, reason: str,
                    period: Period, actor: User | None) -> ImpactReview:
    """Record the central team's decision on one of the trust's programmes, with the reason,
    in the audit log."""
    programme = _programmes(trust.id).get(programme_key or "")
    if programme is None:
        raise DomainError("Choose one of the trust's programmes", field="programme_key")
    try:
        chosen = ReviewDecision(decision)
    except ValueError:
        raise DomainError("Choose continue, change, stop or expand", field="decision") from None
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for the decision", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason to {MAX_REASON:,} characters", field="reason")
    review = ImpactReview(trust_id=trust.id, programme_key=programme.key,
                          programme_name=programme.name, term=period.term, decision=chosen,
                          reason=reason, decided_by_id=getattr(actor, "id", None))
    db.session.add(review)
    db.session.flush()
    audit.record("tutoring.impact_decided", review, actor=actor, reason=reason, changes={
        "programme": (None, f"{programme.name} v{programme.version}"),
        "term": (None, period.term), "decision": (None, chosen.value)})
    return review


# --- the board report's tutoring section -------------------------------------------------


@dataclass(frozen=True)
class BoardSection:
    """What the board report says about tutoring in a period: the trust's figures, its
    programmes', the period before's for comparison, and the decisions made in it."""

    current: Row
    previous: Row
    programmes: tuple[Row, ...]
    decisions: tuple[ImpactReview, ...]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def decisions_in(trust_id: int, start: date, end: date) -> list[ImpactReview]:
    """The decisions made from ``start`` to ``end`` (UK days), oldest first."""
    return list(db.session.scalars(
        select(ImpactReview).where(ImpactReview.trust_id == trust_id,
                                   ImpactReview.decided_at >= _start_of(start),
                                   ImpactReview.decided_at < _start_of(end + timedelta(days=1)))
        .order_by(ImpactReview.decided_at, ImpactReview.id)))


def board_section(trust: Trust, period: Period, previous: Period) -> BoardSection:
    coverage = Coverage(trust.name, trust.id)
    now = tutoring_figures(coverage, period, weeks=False, splits=("programme",))
    before = tutoring_figures(coverage, previous, weeks=False, splits=())
    return BoardSection(now.overall, before.overall, tuple(now.rows("programme")),
                        tuple(decisions_in(trust.id, period.start, period.end)))


__all__ = ["ProgrammeReview", "ImpactReviewPage", "impact_review", "record_decision",
           "BoardSection", "board_section", "decisions_in"]
