"""The approved-tutor register: entries, DBS checks, safeguarding training, policies and provider
access."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import Provider, School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column


class ProviderAccess(db.Model):
    """A trust lets a provider see its approved-tutor register status (not only whether an
    endorsement is valid). Withdrawn grants stay as history."""

    __tablename__ = "provider_access"
    __table_args__ = (
        Index("uq_provider_access_open", "trust_id", "provider_id", unique=True,
              postgresql_where=text("revoked_at IS NULL"),
              sqlite_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    trust: Mapped[Trust] = relationship()
    provider: Mapped[Provider] = relationship()


# --- DBS checks, safeguarding training and the approved-tutor register -------------------


class DbsLevel(enum.StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    ENHANCED = "enhanced"
    ENHANCED_BARRED = "enhanced_barred"

    @property
    def label(self) -> str:
        return {"enhanced_barred": "Enhanced with barred list checks"}.get(
            self.value, self.value.capitalize())


class DbsWorkforce(enum.StrEnum):
    CHILD = "child"
    ADULT = "adult"
    CHILD_AND_ADULT = "child_and_adult"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"child": "Child workforce", "adult": "Adult workforce",
                "child_and_adult": "Child and adult workforce", "other": "Other workforce"}[
            self.value]


class StatusCheckResult(enum.StrEnum):
    NO_NEW_INFORMATION = "no_new_information"
    NEW_INFORMATION = "new_information"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RiskDecision(enum.StrEnum):
    SUITABLE = "suitable"
    NOT_SUITABLE = "not_suitable"

    @property
    def label(self) -> str:
        return {"suitable": "Suitable to work with children",
                "not_suitable": "Not suitable to work with children"}[self.value]


class DbsCheck(db.Model):
    """A DBS certificate a trust has seen for a person. Never any conviction or disclosure
    detail: only that the certificate showed information and who decided what about it."""

    __tablename__ = "dbs_checks"
    __table_args__ = (Index("ix_dbs_checks_trust_user", "trust_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Each trust keeps its own record, even of a person another trust has checked.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    #: The 12-digit certificate number, encrypted under ENCRYPTION_KEY.
    certificate_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: A keyed hash of the number: finds a certificate by exact number, reveals nothing.
    certificate_number_lookup: Mapped[str] = mapped_column(String(64), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    level: Mapped[DbsLevel] = mapped_column(enum_column(DbsLevel, "dbs_level"))
    workforce: Mapped[DbsWorkforce] = mapped_column(enum_column(DbsWorkforce, "dbs_workforce"))
    #: Which barred lists were checked: "children", "adults".
    barred_lists: Mapped[list] = mapped_column(JSON, default=list)
    original_seen_by: Mapped[str] = mapped_column(String(200))
    original_seen_on: Mapped[date] = mapped_column(Date)
    update_service: Mapped[bool] = mapped_column(default=False)
    #: The certificate showed information (what it was is never recorded here).
    showed_information: Mapped[bool] = mapped_column(default=False)
    risk_decision: Mapped[RiskDecision | None] = mapped_column(
        enum_column(RiskDecision, "risk_decision"))
    risk_decision_on: Mapped[date | None] = mapped_column(Date)
    risk_decision_by: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    status_checks: Mapped[list[DbsStatusCheck]] = relationship(
        back_populates="dbs_check", order_by="DbsStatusCheck.checked_on")


class DbsStatusCheck(db.Model):
    """An online DBS Update Service status check of a subscribed certificate."""

    __tablename__ = "dbs_status_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    dbs_check_id: Mapped[int] = mapped_column(ForeignKey("dbs_checks.id"), index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[StatusCheckResult] = mapped_column(
        enum_column(StatusCheckResult, "status_check_result"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    dbs_check: Mapped[DbsCheck] = relationship(back_populates="status_checks")
    checked_by: Mapped[User | None] = relationship()


class DbsRenewal(enum.StrEnum):
    CERTIFICATE = "certificate"
    UPDATE_SERVICE = "update_service"


class RegisterPolicy(db.Model):
    """How often a trust asks for a new DBS certificate, an Update Service status check, and
    safeguarding training. A trust without a row uses the defaults."""

    __tablename__ = "register_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), unique=True)
    #: certificate: a new certificate every ``certificate_years``; update_service: for people
    #: subscribed, a status check every ``status_check_months`` (others need new certificates).
    dbs_renewal: Mapped[DbsRenewal] = mapped_column(enum_column(DbsRenewal, "dbs_renewal"),
                                                    default=DbsRenewal.CERTIFICATE)
    certificate_years: Mapped[int] = mapped_column(default=3)
    status_check_months: Mapped[int] = mapped_column(default=12)
    training_months: Mapped[int] = mapped_column(default=12)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class SafeguardingTraining(db.Model):
    """A date a school recorded for a person's safeguarding training."""

    __tablename__ = "safeguarding_training"
    __table_args__ = (Index("ix_safeguarding_training_trust_user", "trust_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    completed_on: Mapped[date] = mapped_column(Date)
    course: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class RegisterStatus(enum.StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    SUSPENDED = "suspended"
    REMOVED = "removed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


register_entry_schools = Table(
    "register_entry_schools",
    db.metadata,
    Column("entry_id", ForeignKey("register_entries.id", ondelete="CASCADE"),
           primary_key=True),
    Column("school_id", ForeignKey("schools.id"), primary_key=True, index=True),
)


class RegisterEntry(db.Model):
    """One tutor on one trust's approved-tutor register. Its status is derived from the facts
    (endorsement, DBS check, safeguarding training), never typed in; only removal is a
    person's decision."""

    __tablename__ = "register_entries"
    __table_args__ = (
        UniqueConstraint("trust_id", "user_id"),
        Index("ix_register_entries_trust_status", "trust_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: What the tutor tutors (from their nomination), for searching.
    subject: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[RegisterStatus] = mapped_column(
        enum_column(RegisterStatus, "register_status"), default=RegisterStatus.PENDING)
    status_since: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: What is missing or lapsed, in words, as the derivation last found it.
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    #: The earliest date something must be (or had to be) renewed: DBS check, training,
    #: endorsement. On or before today means overdue.
    next_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: When the DBS check (one covering work with children) and the safeguarding training
    #: are next due, as the derivation last found them.
    dbs_due_on: Mapped[date | None] = mapped_column(Date)
    training_due_on: Mapped[date | None] = mapped_column(Date)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_reason: Mapped[str | None] = mapped_column(Text)
    #: Set while the tutor is suspended pending the review of an allegation: a person's
    #: decision, like removal, and ended only by reinstatement or removal.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    trust: Mapped[Trust] = relationship()
    schools: Mapped[list[School]] = relationship(secondary=register_entry_schools,
                                                 order_by="School.name")

