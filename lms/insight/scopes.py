"""What a dashboard covers (programme, trust, cluster or school) and its filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.insight.models import PipelineRecord, PipelineStage
from lms.organisations.models import Cluster, School, Trust
from lms.organisations.policies import cluster_ids_for, is_admin
from lms.platform.authz import Action, can
from lms.platform.extensions import db
from lms.programme.models import Pathway, TutoringPhase

#: Stages a candidate is still training in, and stages that mean they were endorsed.
TRAINING_STAGES = (PipelineStage.IN_TRAINING, PipelineStage.READY_FOR_ASSESSMENT,
                   PipelineStage.FAILED_FIRST_ATTEMPT)
ENDORSED_STAGES = (PipelineStage.ENDORSED, PipelineStage.APPROVED)
#: The action list's rule: a deadline this close with less than this share of the course done.
DEADLINE_SOON = timedelta(days=7)
BEHIND_PERCENT = 70
EXPIRY_SOON = timedelta(days=60)
DUE_SOON_DAYS = 30
#: The most items of one action list read at once (a download holds this many).
ACTION_LIST_LIMIT = 1_000


# --- who sees what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What one person's dashboard covers."""

    title: str
    #: The trusts covered; ``None`` for the whole programme.
    trust_ids: frozenset[int] | None
    #: The schools covered within them; ``None`` for all of their schools.
    school_ids: frozenset[int] | None
    #: The comparison table's rows: "school" within a trust, "trust" across the programme.
    by: str = "school"
    trust: Trust | None = None
    school: School | None = None

    @property
    def is_programme(self) -> bool:
        return self.trust_ids is None


def programme_scope(user: User) -> Scope | None:
    return Scope("All trusts", None, None, by="trust") if is_admin(user) else None


def trust_scope(user: User, trust: Trust) -> Scope | None:
    """A trust's dashboard: all of it for its central team, trustees and programme admins;
    a cluster lead's clusters; ``None`` for anyone else."""
    if can(user, Action.VIEW, trust):
        return Scope(trust.name, frozenset({trust.id}), None, trust=trust)
    clusters = {c for c in cluster_ids_for(user)}
    schools = frozenset(db.session.scalars(select(School.id).where(
        School.trust_id == trust.id, School.cluster_id.in_(clusters)))) if clusters else None
    if not schools:
        return None
    names = db.session.scalars(select(Cluster.name).where(
        Cluster.id.in_(clusters), Cluster.trust_id == trust.id).order_by(Cluster.name)).all()
    return Scope(f"{', '.join(names)} ({trust.name})", frozenset({trust.id}), schools,
                 trust=trust)


def school_scope(user: User, school: School) -> Scope | None:
    """One school's dashboard, for its school leaders and anyone who sees its trust or
    cluster."""
    if not can(user, Action.VIEW, school):
        return None
    return Scope(school.name, frozenset({school.trust_id}), frozenset({school.id}),
                 trust=school.trust, school=school)


@dataclass(frozen=True)
class Filters:
    school_id: int | None = None
    cluster_id: int | None = None
    trust_id: int | None = None
    pathway: Pathway | None = None
    phase: TutoringPhase | None = None
    #: Candidates nominated on or after / on or before these days (UK dates).
    nominated_from: date | None = None
    nominated_to: date | None = None

    def is_empty(self) -> bool:
        return self == Filters()


def _start_of(day: date) -> datetime:
    from lms.platform.clock import LONDON

    return datetime.combine(day, time(), tzinfo=LONDON).astimezone(UTC)


def on_uk_days(column, first: date | None, last: date | None) -> list:
    """``column`` (a UTC time) falls on or after the UK date ``first`` and on or before
    ``last`` (either may be open): days as every report and search counts them."""
    found = []
    if first is not None:
        found.append(column >= _start_of(first))
    if last is not None:
        found.append(column < _start_of(last + timedelta(days=1)))
    return found


def record_conditions(scope: Scope, filters: Filters) -> list:
    """The pipeline records a scope covers, filtered."""
    found = []
    if scope.trust_ids is not None:
        found.append(PipelineRecord.trust_id.in_(scope.trust_ids))
    if scope.school_ids is not None:
        found.append(PipelineRecord.school_id.in_(scope.school_ids))
    if filters.trust_id is not None:
        found.append(PipelineRecord.trust_id == filters.trust_id)
    if filters.school_id is not None:
        found.append(PipelineRecord.school_id == filters.school_id)
    if filters.cluster_id is not None:
        found.append(PipelineRecord.cluster_id == filters.cluster_id)
    if filters.pathway is not None:
        found.append(PipelineRecord.pathway == filters.pathway)
    if filters.phase is not None:
        found.append(PipelineRecord.phase == filters.phase)
    found += on_uk_days(PipelineRecord.nominated_at, filters.nominated_from, filters.nominated_to)
    return found


def trust_ids_of(scope: Scope, filters: Filters) -> set[int] | None:
    """The trusts whose records a dashboard reads (to keep them fresh)."""
    if filters.trust_id is not None:
        return {filters.trust_id} if scope.trust_ids is None or filters.trust_id in \
            scope.trust_ids else set()
    return set(scope.trust_ids) if scope.trust_ids is not None else None

