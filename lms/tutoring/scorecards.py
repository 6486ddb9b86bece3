"""The procurement scorecard: providers scored 1 to 5 on six criteria, weighted by the trust.

The trust's central team sets how much each criterion counts (whole percentages adding up to
100; ``TutoringPolicy.scorecard_weights``, the defaults until it does). A reviewer scores a
provider on every criterion, with an optional comment; each review is kept, and the latest
one counts. A provider's weighted score is the weighted mean of its latest scores, on the same
1 to 5 scale, so a change of weights re-ranks every provider at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.audit import services as audit
from lms.organisations.models import Provider, Trust
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.tutoring.models import ProviderScorecard, TutoringPolicy
from lms.tutoring.service_levels import ProviderFigures, provider_figures


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    hint: str


CRITERIA = (
    Criterion("safeguarding", "Safeguarding",
              "Vetting, training, reporting concerns, and how the provider's tutors keep to "
              "the trust's approved-tutor register."),
    Criterion("curriculum_fit", "Curriculum fit",
              "How well the sessions follow what pupils are taught in class."),
    Criterion("impact", "Evidence of impact",
              "Independent or robust evidence that pupils make more progress."),
    Criterion("scalability", "Scalability",
              "Whether the provider can supply tutors for more schools and pupils, and cover."),
    Criterion("reporting", "Reporting",
              "Session reports on time, attendance and progress data the trust can use."),
    Criterion("cost", "Cost", "Value for money: cost per attended hour against the others."),
)

CRITERION_KEYS = tuple(c.key for c in CRITERIA)
LABELS = {c.key: c.label for c in CRITERIA}

#: Near-equal weights adding up to 100, until the trust sets its own.
DEFAULT_WEIGHTS = {"safeguarding": 17, "curriculum_fit": 17, "impact": 17,
                   "scalability": 17, "reporting": 16, "cost": 16}

LOWEST, HIGHEST = 1, 5
MAX_COMMENT = 2000


# --- weights --------------------------------------------------------------------------------


def _complete(values: Mapping) -> bool:
    return set(values or {}) == set(CRITERION_KEYS) and sum(values.values()) == 100


def weights(trust_id: int) -> dict[str, int]:
    """The trust's weights by criterion, in percent (the defaults until it sets its own)."""
    saved = db.session.scalar(select(TutoringPolicy.scorecard_weights)
                              .where(TutoringPolicy.trust_id == trust_id))
    if saved and _complete(saved):
        return {key: int(saved[key]) for key in CRITERION_KEYS}
    return dict(DEFAULT_WEIGHTS)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def total_message(total: int) -> str:
    return f"The weights must add up to 100%; these add up to {total}%"


def check_weights(values: Mapping[str, int]) -> dict[str, int]:
    """The weights in criterion order, or the refusal: a whole percentage from 0 to 100 for
    every criterion, adding up to 100."""
    unknown = set(values) - set(CRITERION_KEYS)
    if unknown:
        raise DomainError("Weight only the scorecard's criteria")
    for criterion in CRITERIA:
        value = values.get(criterion.key)
        if value is None:
            raise DomainError(f"Enter the weight for {criterion.label.lower()}",
                              field=criterion.key)
        if not _whole(value) or not 0 <= value <= 100:
            raise DomainError(f"The weight for {criterion.label.lower()} must be a whole "
                              "number from 0 to 100", field=criterion.key)
    total = sum(values[key] for key in CRITERION_KEYS)
    if total != 100:
        raise DomainError(total_message(total))
    return {key: values[key] for key in CRITERION_KEYS}


def set_weights(trust: Trust, values: Mapping[str, int], *, actor=None) -> TutoringPolicy:
    """Save the trust's weights (audited when they change)."""
    checked = check_weights(values)
    policy = db.session.scalar(select(TutoringPolicy).where(TutoringPolicy.trust_id == trust.id))
    if policy is None:
        policy = TutoringPolicy(trust_id=trust.id, scorecard_weights={})
        db.session.add(policy)
        db.session.flush()
    before = weights(trust.id)
    if checked == before and _complete(policy.scorecard_weights or {}):
        return policy
    policy.scorecard_weights = checked
    policy.updated_by_id, policy.updated_at = getattr(actor, "id", None), clock.now()
    audit.record("tutoring.scorecard_weights_set", policy, actor=actor, trust_id=trust.id,
                 changes={key: (before[key], checked[key]) for key in CRITERION_KEYS
                          if before[key] != checked[key]} or {"weights": (None, checked)})
    return policy


# --- scores ---------------------------------------------------------------------------------


def check_scores(scores: Mapping[str, int]) -> dict[str, int]:
    """A whole score from 1 to 5 for every criterion, in criterion order."""
    unknown = set(scores) - set(CRITERION_KEYS)
    if unknown:
        raise DomainError("Score only the scorecard's criteria")
    for criterion in CRITERIA:
        value = scores.get(criterion.key)
        if value is None:
            raise DomainError(f"Score {criterion.label.lower()} from 1 to 5",
                              field=criterion.key)
        if not _whole(value) or not LOWEST <= value <= HIGHEST:
            raise DomainError(f"The score for {criterion.label.lower()} must be a whole "
                              "number from 1 to 5", field=criterion.key)
    return {key: scores[key] for key in CRITERION_KEYS}


def record_scores(trust: Trust, provider: Provider, scores: Mapping[str, int], *,
                  comment: str = "", actor=None) -> ProviderScorecard:
    """Save a review of a provider: it becomes the one that counts; earlier ones are kept."""
    checked = check_scores(scores)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(f"Keep the comment to {MAX_COMMENT:,} characters (it has "
                          f"{len(comment):,})", field="comment")
    previous = latest_scorecards(trust.id).get(provider.id)
    scorecard = ProviderScorecard(trust_id=trust.id, provider_id=provider.id, scores=checked,
                                  comment=comment, reviewed_by_id=getattr(actor, "id", None),
                                  reviewed_at=clock.now())
    db.session.add(scorecard)
    db.session.flush()
    before = previous.scores if previous is not None else {}
    changes = {key: (before.get(key), checked[key]) for key in CRITERION_KEYS}
    if comment:
        changes["comment"] = (previous.comment if previous is not None else None, comment)
    audit.record("tutoring.provider_scored", scorecard, actor=actor, trust_id=trust.id,
                 changes={"provider": (None, provider.name), **changes})
    return scorecard


def latest_scorecards(trust_id: int) -> dict[int, ProviderScorecard]:
    """The review that counts for each provider the trust scored: its latest."""
    latest = (select(func.max(ProviderScorecard.id))
              .where(ProviderScorecard.trust_id == trust_id)
              .group_by(ProviderScorecard.provider_id))
    return {s.provider_id: s for s in db.session.scalars(
        select(ProviderScorecard).where(ProviderScorecard.id.in_(latest))
        .options(selectinload(ProviderScorecard.provider),
                 selectinload(ProviderScorecard.reviewed_by)))}


def scorecard_history(trust_id: int, provider_id: int) -> list[ProviderScorecard]:
    """Every review of a provider by the trust, newest first."""
    return list(db.session.scalars(
        select(ProviderScorecard).where(ProviderScorecard.trust_id == trust_id,
                                        ProviderScorecard.provider_id == provider_id)
        .options(selectinload(ProviderScorecard.reviewed_by))
        .order_by(ProviderScorecard.id.desc())))


def weighted_score(scores: Mapping[str, int], weights: Mapping[str, int]) -> float | None:
    """The weighted mean of the scores, from 1 to 5 (``None`` unless every criterion is
    scored)."""
    if any(not _whole(scores.get(key)) for key in CRITERION_KEYS):
        return None
    total = sum(weights[key] for key in CRITERION_KEYS)
    if not total:
        return None
    return sum(scores[key] * weights[key] for key in CRITERION_KEYS) / total


# --- the ranking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    provider: Provider
    #: 1 for the highest weighted score; providers with equal scores share a rank. ``None``
    #: for a provider not scored yet.
    rank: int | None
    score: float | None
    scorecard: ProviderScorecard | None
    #: The measured service-level figures for the period, shown beside the scores.
    figures: ProviderFigures | None


def ranking(trust_id: int, start: date, end: date,
            figures: list[ProviderFigures] | None = None) -> list[Ranked]:
    """The trust's providers by weighted score, highest first (equal scores by name), the
    providers not scored yet last; each with its service-level figures for the period."""
    figures = provider_figures(trust_id, start, end) if figures is None else figures
    by_provider = {f.provider.id: f for f in figures}
    latest = latest_scorecards(trust_id)
    current = weights(trust_id)
    providers = {f.provider.id: f.provider for f in figures}
    providers.update({pid: s.provider for pid, s in latest.items()})
    scored = []
    for pid, provider in providers.items():
        card = latest.get(pid)
        scored.append((weighted_score(card.scores, current) if card else None, provider, card))
    scored.sort(key=lambda r: (r[0] is None, -(r[0] or 0), r[1].name.lower()))
    rows, rank, last = [], 0, None
    for position, (score, provider, card) in enumerate(scored, start=1):
        if score is not None and (last is None or round(score, 6) != round(last, 6)):
            rank, last = position, score
        rows.append(Ranked(provider, rank if score is not None else None, score, card,
                           by_provider.get(provider.id)))
    return rows
