"""Organisations, people and their roles, the audit log, and the email outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.types import UTCDateTime, enum_column


class Phase(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SPECIAL = "special"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


class Role(enum.StrEnum):
    TUTOR = "tutor"
    SCHOOL_LEADER = "school_leader"
    CENTRAL_TEAM = "central_team"
    CLUSTER_LEAD = "cluster_lead"
    TRUSTEE = "trustee"
    PROVIDER = "provider"
    PROGRAMME_ADMIN = "programme_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def scope(self) -> str:
        """The kind of organisation a membership of this role is scoped to."""
        return ROLE_SCOPES[self]


ROLE_LABELS = {
    Role.TUTOR: "Tutor",
    Role.SCHOOL_LEADER: "School leader",
    Role.CENTRAL_TEAM: "Central team",
    Role.CLUSTER_LEAD: "Cluster lead",
    Role.TRUSTEE: "Trustee / auditor",
    Role.PROVIDER: "Tutoring provider",
    Role.PROGRAMME_ADMIN: "Programme admin",
}

ROLE_SCOPES = {
    Role.TUTOR: "school",
    Role.SCHOOL_LEADER: "school",
    Role.CENTRAL_TEAM: "trust",
    Role.CLUSTER_LEAD: "cluster",
    Role.TRUSTEE: "trust",
    Role.PROVIDER: "provider",
    Role.PROGRAMME_ADMIN: "platform",
}


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


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Argon2id hash; empty until the person sets a password from an invitation.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The authenticator app's TOTP key, encrypted with ``ENCRYPTION_KEY`` ("totp-secret");
    #: set, with ``two_factor_enabled_at``, once the person has confirmed a code from the app.
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last TOTP time step accepted from this person: that code, and any older, never
    #: work again.
    totp_last_step: Mapped[int | None] = mapped_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user",
        primaryjoin="and_(User.id == Membership.user_id, Membership.ended_at.is_(None))",
        viewonly=True,
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to inactive users
        return self.deactivated_at is None

    def has_role(self, *roles: Role) -> bool:
        return any(m.role in roles for m in self.memberships)

    @property
    def is_programme_admin(self) -> bool:
        return self.has_role(Role.PROGRAMME_ADMIN)

    @property
    def two_factor_enabled(self) -> bool:
        return self.two_factor_enabled_at is not None

    @property
    def two_factor_required(self) -> bool:
        """Whether a role this person holds needs a second factor at every sign-in."""
        return self.has_role(*TWO_FACTOR_ROLES)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


#: Roles that must sign in with a second factor: they see or change every school of a trust
#: (or the platform).
TWO_FACTOR_ROLES = (Role.CENTRAL_TEAM, Role.PROGRAMME_ADMIN, Role.TRUSTEE)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its keyed hash is
    kept."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``lms.crypto.keyed_hash`` of the code as ``security.normalise_recovery_code`` gives it.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Membership(db.Model):
    """A role a person holds, scoped to a trust, cluster, school, provider or the platform."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            "(role = 'programme_admin' AND trust_id IS NULL AND cluster_id IS NULL"
            " AND school_id IS NULL AND provider_id IS NULL)"
            " OR (role IN ('central_team', 'trustee') AND trust_id IS NOT NULL"
            " AND cluster_id IS NULL AND school_id IS NULL AND provider_id IS NULL)"
            " OR (role = 'cluster_lead' AND trust_id IS NOT NULL AND cluster_id IS NOT NULL"
            " AND school_id IS NULL AND provider_id IS NULL)"
            " OR (role IN ('school_leader', 'tutor') AND trust_id IS NOT NULL"
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


class UsedToken(db.Model):
    """A signed link that has been used; its id can never be used again."""

    __tablename__ = "used_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AuditEntry(db.Model):
    """An append-only, hash-chained record of one state change.

    Entries hold ids, never personal data, so a person can be erased without breaking the chain.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain, gap-free from 1; unique so two sealers cannot fork it. Empty
    #: until the entry is sealed, moments after the transaction that wrote it commits.
    seq: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    #: The trust the object belongs to, so a trust's auditors can search their own entries.
    trust_id: Mapped[int | None] = mapped_column(index=True)
    #: ``{field: [before, after]}`` for every field the change touched.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    @property
    def is_sealed(self) -> bool:
        return self.seq is not None


class EmailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    #: Kept in the in-app outbox because no SMTP server is configured.
    OUTBOX = "outbox"
    FAILED = "failed"


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(100))
    status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status"), default=EmailStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
        from lms.errors import InvalidTransition

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
        from lms.errors import InvalidTransition

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


# --- the pipeline as the dashboards read it ------------------------------------------------


class PipelineStage(enum.StrEnum):
    """Where a nominated candidate is now. Every candidate is in exactly one stage."""

    AWAITING_APPROVAL = "awaiting_approval"
    INVITED = "invited"
    NOT_STARTED = "not_started"
    IN_TRAINING = "in_training"
    READY_FOR_ASSESSMENT = "ready_for_assessment"
    FAILED_FIRST_ATTEMPT = "failed_first_attempt"
    ENDORSED = "endorsed"
    APPROVED = "approved"
    FAILED = "failed"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return PIPELINE_STAGE_LABELS[self]


PIPELINE_STAGE_LABELS = {
    PipelineStage.AWAITING_APPROVAL: "Awaiting approval",
    PipelineStage.INVITED: "Invited",
    PipelineStage.NOT_STARTED: "Did not start",
    PipelineStage.IN_TRAINING: "In training",
    PipelineStage.READY_FOR_ASSESSMENT: "Ready for assessment",
    PipelineStage.FAILED_FIRST_ATTEMPT: "Failed first attempt",
    PipelineStage.ENDORSED: "Endorsed",
    PipelineStage.APPROVED: "On the register (approved)",
    PipelineStage.FAILED: "Failed",
    PipelineStage.LAPSED: "Lapsed",
    PipelineStage.WITHDRAWN: "Withdrawn",
}


class PipelineRecord(db.Model):
    """One nominated candidate as the dashboards see them: their stage, and the dates and
    results the figures are made of. Rebuilt from the live records by ``lms.pipeline``, never
    edited otherwise, so that a trust-wide or programme-wide figure is one pass over one
    narrow table. Its ids point at live records without foreign keys: the table is rebuilt
    whole, and checking a hundred thousand references on every rebuild would double its
    cost."""

    __tablename__ = "pipeline_records"
    __table_args__ = (
        Index("ix_pipeline_records_trust_stage", "trust_id", "stage"),
        Index("ix_pipeline_records_school_stage", "school_id", "stage"),
        # The action lists across the programme: a stage, most urgent or oldest first.
        Index("ix_pipeline_records_stage_deadline", "stage", "deadline_at"),
        Index("ix_pipeline_records_stage_nominated", "stage", "nominated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(unique=True)
    trust_id: Mapped[int]
    school_id: Mapped[int]
    #: The school's cluster when the record was built (if it is still in the same trust).
    cluster_id: Mapped[int | None]
    user_id: Mapped[int | None]
    enrolment_id: Mapped[int | None]
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "pathway"))
    phase: Mapped[TutoringPhase] = mapped_column(enum_column(TutoringPhase, "tutoring_phase"))
    stage: Mapped[PipelineStage] = mapped_column(enum_column(PipelineStage, "pipeline_stage"))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Share of the course's minutes done, for enrolments still in training.
    percent_done: Mapped[int | None]
    #: When a tutor still in training falls behind if they do no more: the moment the share
    #: of their window used passes the share of the course done.
    on_track_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_attempt_passed: Mapped[bool | None]
    second_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    second_attempt_passed: Mapped[bool | None]
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Whole days from nomination to endorsement.
    days_to_endorsement: Mapped[int | None]
    endorsement_status: Mapped[str | None] = mapped_column(String(16))
    endorsement_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The tutor's entry on the nominating trust's register, if any.
    register_status: Mapped[str | None] = mapped_column(String(16))


class PipelineBuild(db.Model):
    """When a trust's pipeline records were last rebuilt."""

    __tablename__ = "pipeline_builds"

    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
