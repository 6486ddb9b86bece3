"""Trusts, clusters, schools and providers: creating, changing and moving them.

Each function stages its change, writes an audit entry, flushes and returns the object; the
caller (a view, a CLI command, a task) commits once.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit import services as audit
from lms.organisations.events import trust_created
from lms.organisations.models import (
    Cluster,
    Membership,
    Phase,
    Provider,
    School,
    SchoolAffiliation,
    Trust,
)
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.validation import required

#: ASCII digits only: ``\d`` would also accept other scripts' digits (e.g. "١٢٣٤٥٦").
URN_PATTERN = re.compile(r"[0-9]{6}")
POSTCODE_PATTERN = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")


def normalise_urn(urn: str) -> str:
    urn = (urn or "").strip()
    if not URN_PATTERN.fullmatch(urn):
        raise DomainError("URN must be exactly 6 digits, for example 123456", field="urn")
    return urn


def normalise_postcode(postcode: str) -> str:
    compact = re.sub(r"\s+", "", (postcode or "").upper())
    if not POSTCODE_PATTERN.fullmatch(compact):
        raise DomainError("Enter a real UK postcode, for example SW1A 1AA", field="postcode")
    return f"{compact[:-3]} {compact[-3:]}"


# --- organisations ----------------------------------------------------------------------


def create_trust(name: str, *, actor: User | None) -> Trust:
    name = required(name, "name", "trust name")
    if db.session.scalar(select(Trust.id).where(func.lower(Trust.name) == name.lower())):
        raise DomainError(f"A trust called {name} already exists", field="name")
    trust = Trust(name=name)
    db.session.add(trust)
    db.session.flush()
    audit.record("trust.created", trust, actor=actor, changes={"name": (None, name)})
    trust_created.send(trust, trust=trust)
    return trust


def add_cluster(trust: Trust, name: str, *, actor: User | None) -> Cluster:
    name = required(name, "name", "cluster name")
    if any(c.name.lower() == name.lower() for c in trust.clusters):
        raise DomainError(f"{trust.name} already has a cluster called {name}", field="name")
    cluster = Cluster(trust=trust, name=name)
    db.session.add(cluster)
    db.session.flush()
    audit.record("cluster.created", cluster, actor=actor, changes={"name": (None, name)})
    return cluster


def _check_cluster(trust: Trust, cluster: Cluster | None) -> None:
    if cluster is not None and cluster.trust_id != trust.id:
        raise DomainError("That cluster belongs to another trust", field="cluster_id")


def add_school(
    trust: Trust,
    *,
    urn: str,
    name: str,
    phase: Phase | str,
    local_authority: str,
    postcode: str,
    cluster: Cluster | None = None,
    actor: User | None,
) -> School:
    urn = normalise_urn(urn)
    if db.session.scalar(select(School.id).where(School.urn == urn)):
        raise DomainError(f"A school with URN {urn} is already on the platform", field="urn")
    _check_cluster(trust, cluster)
    try:
        phase = Phase(phase)
    except ValueError as exc:
        raise DomainError("Choose the school's phase", field="phase") from exc
    school = School(
        urn=urn,
        name=required(name, "name", "school name"),
        phase=phase,
        local_authority=required(local_authority, "local_authority", "local authority", 120),
        postcode=normalise_postcode(postcode),
        trust=trust,
        cluster=cluster,
    )
    db.session.add(school)
    db.session.flush()
    db.session.add(SchoolAffiliation(school=school, trust=trust, cluster=cluster))
    audit.record(
        "school.created",
        school,
        actor=actor,
        changes={"urn": (None, urn), "name": (None, school.name), "trust_id": (None, trust.id)},
    )
    return school


def update_school(
    school: School,
    *,
    name: str,
    phase: Phase | str,
    local_authority: str,
    postcode: str,
    actor: User | None,
) -> School:
    try:
        phase = Phase(phase)
    except ValueError as exc:
        raise DomainError("Choose the school's phase", field="phase") from exc
    changes = audit.diff(
        school,
        name=required(name, "name", "school name"),
        phase=phase,
        local_authority=required(local_authority, "local_authority", "local authority", 120),
        postcode=normalise_postcode(postcode),
    )
    if changes:
        audit.record("school.updated", school, actor=actor, changes=changes)
    return school


def move_school(
    school: School,
    *,
    trust: Trust,
    cluster: Cluster | None,
    actor: User | None,
    reason: str | None = None,
) -> School:
    """Move a school to another cluster or trust, closing its current affiliation."""
    _check_cluster(trust, cluster)
    if school.trust_id == trust.id and school.cluster_id == (cluster.id if cluster else None):
        raise DomainError("The school is already there", field="cluster_id")
    now = clock.now()
    current = next((a for a in school.affiliations if a.ended_at is None), None)
    if current is not None:
        current.ended_at = now
    old_trust_id = school.trust_id
    changes = audit.diff(school, trust_id=trust.id, cluster_id=cluster.id if cluster else None)
    school.trust = trust
    school.cluster = cluster
    db.session.add(SchoolAffiliation(school=school, trust=trust, cluster=cluster, started_at=now))
    if old_trust_id != trust.id:
        for membership in _active_memberships_at_school(school):
            membership.trust_id = trust.id
        # The trust it left keeps the record too: its auditors would otherwise see a school
        # vanish with no entry in their own log.
        audit.record("school.moved", school, actor=actor, changes=changes, reason=reason,
                     trust_id=old_trust_id)
    audit.record("school.moved", school, actor=actor, changes=changes, reason=reason)
    return school


def _active_memberships_at_school(school: School) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership).where(
                Membership.school_id == school.id, Membership.ended_at.is_(None)
            )
        )
    )


def set_nomination_approval(trust: Trust, required: bool, *, actor: User | None) -> Trust:
    """Whether the trust's central team approves each nomination before it is sent."""
    changes = audit.diff(trust, requires_nomination_approval=bool(required))
    if changes:
        audit.record("trust.settings_changed", trust, actor=actor, changes=changes)
    return trust


def create_provider(name: str, *, actor: User | None) -> Provider:
    name = required(name, "name", "provider name")
    if db.session.scalar(select(Provider.id).where(func.lower(Provider.name) == name.lower())):
        raise DomainError(f"A provider called {name} already exists", field="name")
    provider = Provider(name=name)
    db.session.add(provider)
    db.session.flush()
    audit.record("provider.created", provider, actor=actor)
    return provider
