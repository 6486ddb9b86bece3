"""Trusts, their clusters and schools, providers, and the roles people hold in them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.types import UTCDateTime, enum_column


class Phase(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SPECIAL = "special"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


class Trust(db.Model):
    __tablename__ = "trusts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: Whether the central team must approve each nomination before the invitation goes out.
    requires_nomination_approval: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    clusters: Mapped[list[Cluster]] = relationship(
        back_populates="trust", order_by="Cluster.name"
    )
    schools: Mapped[list[School]] = relationship(back_populates="trust", order_by="School.name")

    def __repr__(self) -> str:
        return f"<Trust {self.id} {self.name!r}>"


class Cluster(db.Model):
    """An optional grouping of a trust's schools (a hub), led by a cluster lead."""

    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("trust_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    trust: Mapped[Trust] = relationship(back_populates="clusters")
    schools: Mapped[list[School]] = relationship(back_populates="cluster", order_by="School.name")


class School(db.Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unique Reference Number from Get Information About Schools: six digits.
    urn: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, "school_phase"))
    local_authority: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(10))
    #: Where the school belongs now; ``SchoolAffiliation`` keeps where it belonged before.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    trust: Mapped[Trust] = relationship(back_populates="schools")
    cluster: Mapped[Cluster | None] = relationship(back_populates="schools")
    affiliations: Mapped[list[SchoolAffiliation]] = relationship(
        back_populates="school", order_by="SchoolAffiliation.started_at"
    )

    def __repr__(self) -> str:
        return f"<School {self.urn} {self.name!r}>"


class SchoolAffiliation(db.Model):
    """One period in which a school belonged to a trust (and maybe a cluster)."""

    __tablename__ = "school_affiliations"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship(back_populates="affiliations")
    trust: Mapped[Trust] = relationship()
    cluster: Mapped[Cluster | None] = relationship()


class Provider(db.Model):
    """A tutoring provider organisation that verifies tutors' credentials."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Membership(db.Model):
    """A role a person holds, scoped to a trust, cluster, school, provider or the platform."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            "(role = 'programme_admin' AND trust_id IS NULL AND cluster_id IS NULL"
            " AND school_id IS NULL AND provider_id IS NULL)"
            " OR (role IN ('central_team', 'trustee', 'trust_safeguarding_lead')"
            " AND trust_id IS NOT NULL"
            " AND cluster_id IS NULL AND school_id IS NULL AND provider_id IS NULL)"
            " OR (role = 'cluster_lead' AND trust_id IS NOT NULL AND cluster_id IS NOT NULL"
            " AND school_id IS NULL AND provider_id IS NULL)"
            " OR (role IN ('school_leader', 'tutoring_lead', 'tutor', 'dsl', 'deputy_dsl')"
            " AND trust_id IS NOT NULL"
            " AND school_id IS NOT NULL AND cluster_id IS NULL AND provider_id IS NULL)"
            " OR (role = 'provider' AND provider_id IS NOT NULL AND trust_id IS NULL"
            " AND cluster_id IS NULL AND school_id IS NULL)",
            name="scope_matches_role",
        ),
        Index("ix_memberships_user_active", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "membership_role"))
    #: The trust the scope sits in (also set for cluster and school scopes, for fast filtering).
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    trust: Mapped[Trust | None] = relationship()
    cluster: Mapped[Cluster | None] = relationship()
    school: Mapped[School | None] = relationship()
    provider: Mapped[Provider | None] = relationship()

    @property
    def scope_name(self) -> str:
        if self.school is not None:
            return self.school.name
        if self.cluster is not None:
            return f"{self.cluster.name} ({self.trust.name})"
        if self.trust is not None:
            return self.trust.name
        if self.provider is not None:
            return self.provider.name
        return "Whole platform"

