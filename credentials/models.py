"""Issuer keys, status lists, endorsements, provider API keys, verification checks and the
access trusts grant providers."""

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

from lms import clock
from lms.extensions import db
from lms.models import Enrolment, Pathway, Provider, School, Trust, TutoringPhase, User
from lms.types import UTCDateTime, enum_column

#: Bitstring Status List v1.0 asks for at least 131,072 entries (16 KiB), so that one list
#: hides which credential is which among many.
STATUS_LIST_SIZE = 131_072


class IssuerKey(db.Model):
    """An Ed25519 key the platform signs with. Every key ever used stays in the DID document so
    that credentials signed before a rotation still verify."""

    __tablename__ = "issuer_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public key as a Multikey (``z6Mk...``); also the fragment of its verification method.
    public_key_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    #: The 32-byte seed, encrypted under ENCRYPTION_KEY; erased when the key is retired.
    private_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class StatusList(db.Model):
    """One Bitstring Status List. Bit ``i`` (counting from the most significant bit of the first
    byte) is set while the credential holding index ``i`` is suspended or revoked."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its address: /status/<public_id>.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    purpose: Mapped[str] = mapped_column(String(16), default="suspension")
    size: Mapped[int] = mapped_column(default=STATUS_LIST_SIZE)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    #: How many indexes are taken: a list stops taking new credentials once half full, so
    #: picking a free index at random stays quick.
    used: Mapped[int] = mapped_column(default=0)
    #: The signed BitstringStatusListCredential as served; rebuilt after every change.
    credential: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EndorsementStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {"active": "Valid"}.get(self.value, self.value.capitalize())


class Endorsement(db.Model):
    """A tutor's endorsement: the signed credential issued when they passed, and its live
    status. It belongs to the person and stays theirs if they move school or trust."""

    __tablename__ = "endorsements"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index"),
        Index("ix_endorsements_status_valid_until", "status", "valid_until"),
    )

    TRANSITIONS = {
        EndorsementStatus.ACTIVE: {EndorsementStatus.SUSPENDED, EndorsementStatus.REVOKED,
                                   EndorsementStatus.EXPIRED},
        EndorsementStatus.SUSPENDED: {EndorsementStatus.ACTIVE, EndorsementStatus.REVOKED,
                                      EndorsementStatus.EXPIRED},
        EndorsementStatus.EXPIRED: {EndorsementStatus.REVOKED},
        EndorsementStatus.REVOKED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unguessable id in its public address, /credentials/<public_id>.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: One endorsement per pass: issuing twice for one enrolment is refused by the database.
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    #: The trust and school that nominated the tutor, at the time of issue.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    phase: Mapped[TutoringPhase] = mapped_column(enum_column(TutoringPhase, "tutoring_phase"))
    course_version: Mapped[str] = mapped_column(String(64))
    passed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[EndorsementStatus] = mapped_column(
        enum_column(EndorsementStatus, "endorsement_status"), default=EndorsementStatus.ACTIVE)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int]
    issuer_key_id: Mapped[int] = mapped_column(ForeignKey("issuer_keys.id"))
    #: The signed credential exactly as issued (the bytes a holder downloads).
    credential: Mapped[str] = mapped_column(Text)

    user: Mapped[User] = relationship()
    enrolment: Mapped[Enrolment] = relationship()
    trust: Mapped[Trust] = relationship()
    school: Mapped[School] = relationship()
    status_list: Mapped[StatusList] = relationship()

    def move_to(self, status: EndorsementStatus, reason: str | None) -> None:
        from lms.errors import InvalidTransition

        if status not in self.TRANSITIONS[self.status]:
            raise InvalidTransition(
                f"An endorsement that is {self.status.label.lower()} cannot become "
                f"{status.label.lower()}")
        self.status = status
        self.status_changed_at = clock.now()
        self.status_reason = reason

    def is_valid(self, now: datetime | None = None) -> bool:
        now = now or clock.now()
        return (self.status == EndorsementStatus.ACTIVE
                and self.valid_from <= now < self.valid_until)


class ApiKey(db.Model):
    """A provider's key for the verification API. Only a hash of the secret is kept; the key
    is shown once, when it is made."""

    __tablename__ = "provider_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The start of the key, shown to tell keys apart and used to find one quickly.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    provider: Mapped[Provider] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class VerificationCheck(db.Model):
    """A provider checked an endorsement through the API: tutors can see who looked."""

    __tablename__ = "verification_checks"
    __table_args__ = (Index("ix_verification_checks_endorsement", "endorsement_id",
                            "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endorsement_id: Mapped[int] = mapped_column(ForeignKey("endorsements.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("provider_api_keys.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    provider: Mapped[Provider] = relationship()


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

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    trust: Mapped[Trust] = relationship()
    schools: Mapped[list[School]] = relationship(secondary=register_entry_schools,
                                                 order_by="School.name")
