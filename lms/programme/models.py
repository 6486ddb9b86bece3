"""Nominations, enrolments and their training window, deadline extensions, reminders sent and
CSV imports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column

# --- nominations and the training window ---------------------------------------------------


class Pathway(enum.StrEnum):
    QTS_REFRESHER = "qts_refresher"
    PRIMARY = "primary"
    SECONDARY = "secondary"

    @property
    def label(self) -> str:
        return PATHWAY_LABELS[self]

    @property
    def short_label(self) -> str:
        return {"qts_refresher": "QTS refresher"}.get(self.value, self.value.capitalize())


PATHWAY_LABELS = {
    Pathway.QTS_REFRESHER: "QTS refresher (about 2 hours)",
    Pathway.PRIMARY: "Primary tutoring course (about 11 hours)",
    Pathway.SECONDARY: "Secondary tutoring course (about 11 hours)",
}


class TutoringPhase(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class RoleInSchool(enum.StrEnum):
    TEACHER = "teacher"
    TEACHING_ASSISTANT = "teaching_assistant"
    SUPPORT_STAFF = "support_staff"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class NominationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"submitted": "Awaiting approval"}.get(self.value, self.value.capitalize())


#: A nomination in one of these states still holds its candidate: no second one may be made.
OPEN_NOMINATION_STATUSES = (
    NominationStatus.SUBMITTED,
    NominationStatus.APPROVED,
    NominationStatus.INVITED,
)


class Nomination(db.Model):
    """A school leader's proposal that a person trains as a tutor."""

    __tablename__ = "nominations"
    __table_args__ = (
        Index(
            "uq_nominations_open_candidate",
            "candidate_email",
            unique=True,
            postgresql_where=text("status IN ('submitted', 'approved', 'invited')"),
            sqlite_where=text("status IN ('submitted', 'approved', 'invited')"),
        ),
        CheckConstraint("holds_qts = false OR trn IS NOT NULL", name="qts_needs_trn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The school's trust when nominated; kept so the nomination stays with that trust.
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    candidate_name: Mapped[str] = mapped_column(String(200))
    candidate_email: Mapped[str] = mapped_column(String(254), index=True)
    role_in_school: Mapped[RoleInSchool] = mapped_column(
        enum_column(RoleInSchool, "role_in_school")
    )
    holds_qts: Mapped[bool] = mapped_column(default=False)
    #: Teacher reference number: 7 digits, for QTS holders.
    trn: Mapped[str | None] = mapped_column(String(7))
    tutoring_phase: Mapped[TutoringPhase] = mapped_column(
        enum_column(TutoringPhase, "tutoring_phase")
    )
    subject_focus: Mapped[str] = mapped_column(String(200), default="")
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    status: Mapped[NominationStatus] = mapped_column(
        enum_column(NominationStatus, "nomination_status"), default=NominationStatus.SUBMITTED
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Bumped on every (re)send, so only the newest invitation link works.
    invitation_version: Mapped[int] = mapped_column(default=0)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    privacy_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    import_id: Mapped[int | None] = mapped_column(ForeignKey("nomination_imports.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)

    school: Mapped[School] = relationship()
    trust: Mapped[Trust] = relationship()
    nominated_by: Mapped[User | None] = relationship(foreign_keys=[nominated_by_id])
    enrolment: Mapped[Enrolment | None] = relationship(back_populates="nomination")

    TRANSITIONS = {
        NominationStatus.SUBMITTED: {NominationStatus.APPROVED, NominationStatus.REJECTED,
                                     NominationStatus.INVITED, NominationStatus.WITHDRAWN},
        NominationStatus.APPROVED: {NominationStatus.INVITED, NominationStatus.WITHDRAWN},
        NominationStatus.INVITED: {NominationStatus.INVITED, NominationStatus.ACCEPTED,
                                   NominationStatus.DECLINED, NominationStatus.EXPIRED,
                                   NominationStatus.WITHDRAWN},
    }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_NOMINATION_STATUSES

    def move_to(self, status: NominationStatus) -> None:
        """Change state, refusing any move its lifecycle does not allow."""
        from lms.platform.errors import InvalidTransition

        if status not in self.TRANSITIONS.get(self.status, set()):
            raise InvalidTransition(
                f"A nomination that is {self.status.label.lower()} cannot become {status.value}"
            )
        self.status = status
        if status not in OPEN_NOMINATION_STATUSES and status != NominationStatus.ACCEPTED:
            self.closed_at = clock.now()


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    PASSED = "passed"
    FAILED = "failed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"active": "In training"}.get(self.value, self.value.capitalize())


class Enrolment(db.Model):
    """A tutor's training window: opened when they accept, closed by a pass, a fail, a lapse
    or a withdrawal."""

    __tablename__ = "enrolments"
    __table_args__ = (
        Index(
            "uq_enrolments_active_tutor",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_enrolments_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    #: The course content version the tutor started on; content fixes never move them.
    course_version: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Opened + the programme's window + every extension granted.
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ACTIVE
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    school: Mapped[School] = relationship()
    nomination: Mapped[Nomination] = relationship(back_populates="enrolment")
    extensions: Mapped[list[DeadlineExtension]] = relationship(
        back_populates="enrolment", order_by="DeadlineExtension.created_at"
    )

    TRANSITIONS = {
        EnrolmentStatus.ACTIVE: {EnrolmentStatus.PASSED, EnrolmentStatus.FAILED,
                                 EnrolmentStatus.LAPSED, EnrolmentStatus.WITHDRAWN},
    }

    @hybrid_property
    def is_active(self) -> bool:
        return self.status == EnrolmentStatus.ACTIVE

    def days_left(self, at: datetime | None = None) -> int:
        """Whole days until the deadline, counting part of a day as a day; 0 once past."""
        remaining = self.deadline_at - (at or clock.now())
        if remaining.total_seconds() <= 0:
            return 0
        return remaining.days + (1 if remaining.seconds or remaining.microseconds else 0)

    def move_to(self, status: EnrolmentStatus, reason: str | None = None) -> None:
        from lms.platform.errors import InvalidTransition

        if status not in self.TRANSITIONS.get(self.status, set()):
            raise InvalidTransition(
                f"An enrolment that is {self.status.label.lower()} cannot become {status.value}"
            )
        self.status = status
        self.closed_at = clock.now()
        self.close_reason = reason


class DeadlineExtension(db.Model):
    __tablename__ = "deadline_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    enrolment: Mapped[Enrolment] = relationship(back_populates="extensions")


class SentReminder(db.Model):
    """A reminder that has gone out; the unique key makes every reminder job idempotent."""

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("kind", "subject_type", "subject_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    #: What makes this reminder distinct, e.g. the deadline it was about or the digest day.
    key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ImportStatus(enum.StrEnum):
    VALIDATING = "validating"
    INVALID = "invalid"
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"


class NominationImport(db.Model):
    """A CSV of nominations, checked row by row and imported by a background job."""

    __tablename__ = "nomination_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    #: The uploaded file, kept so the job (possibly on another machine) can read it.
    content: Mapped[str] = mapped_column(Text)
    #: Import the valid rows even though others are bad (the leader chose this explicitly).
    good_rows_only: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ImportStatus] = mapped_column(
        enum_column(ImportStatus, "import_status"), default=ImportStatus.VALIDATING
    )
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    imported_rows: Mapped[int] = mapped_column(default=0)
    #: ``[{"line": 3, "reason": "..."}]`` for every bad row, in file order.
    row_errors: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship()
