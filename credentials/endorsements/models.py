"""Issuer keys, status lists, endorsements, and each check made of an endorsement."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import Provider, School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column
from lms.programme.models import Enrolment, Pathway, TutoringPhase

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
        from lms.platform.errors import InvalidTransition

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
