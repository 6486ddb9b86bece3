"""Programmes (set by the trust), pupils and groups (run by schools), sessions with their
attendance, progress records, provider service levels and scorecards, and impact reviews."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import Provider, School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column


class _Labelled(enum.StrEnum):
    @property
    def label(self) -> str:
        return LABELS.get(self.value, self.value.replace("_", " ").capitalize())


class Subject(_Labelled):
    MATHS = "maths"
    ENGLISH = "english"
    SCIENCE = "science"
    OTHER = "other"


class DeliveryModel(_Labelled):
    ONE_TO_ONE = "one_to_one"
    SMALL_GROUP = "small_group"
    PROVIDER = "provider"
    AI_ASSISTED = "ai_assisted"
    BLENDED = "blended"


class CostModel(_Labelled):
    PER_TUTOR_HOUR = "per_tutor_hour"
    PER_PUPIL = "per_pupil"
    PER_TERM = "per_term"


class MeasureScale(_Labelled):
    SCORE = "score"
    READING_AGE = "reading_age"
    GCSE_GRADE = "gcse_grade"
    TEACHER_JUDGEMENT = "teacher_judgement"

    @property
    def bounds(self) -> tuple[float, float]:
        return SCALE_BOUNDS[self]

    @property
    def unit(self) -> str:
        return {"score": "points", "reading_age": "months", "gcse_grade": "grades",
                "teacher_judgement": "steps"}[self.value]


class EvidenceSource(_Labelled):
    TEACHER_ASSESSMENT = "teacher_assessment"
    STANDARDISED_TEST = "standardised_test"
    EXAM_QUESTIONS = "exam_questions"
    SKILL_MASTERY = "skill_mastery"


class SessionStatus(_Labelled):
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class CancelReason(_Labelled):
    TUTOR_ABSENT = "tutor_absent"
    PUPILS_ABSENT = "pupils_absent"
    SCHOOL_EVENT = "school_event"
    OTHER = "other"


class Attendance(_Labelled):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"


class AbsenceReason(_Labelled):
    ILL = "ill"
    OTHER_LESSON = "other_lesson"
    SCHOOL_TRIP = "school_trip"
    NOT_IN_SCHOOL = "not_in_school"
    REFUSED = "refused"
    OTHER = "other"


class LogSource(_Labelled):
    TUTOR = "tutor"
    SCHOOL = "school"
    PROVIDER_API = "provider_api"
    PROVIDER_CSV = "provider_csv"


class ReviewDecision(_Labelled):
    CONTINUE = "continue"
    CHANGE = "change"
    STOP = "stop"
    EXPAND = "expand"


LABELS = {
    "maths": "Maths", "english": "English / reading", "science": "Science",
    "one_to_one": "School-led one-to-one", "small_group": "School-led small group",
    "provider": "Provider-delivered", "ai_assisted": "AI-assisted practice with human review",
    "blended": "Blended",
    "per_tutor_hour": "Per tutor hour", "per_pupil": "Per pupil", "per_term": "Fixed per term",
    "score": "Score (0\u2013100)", "reading_age": "Reading age (months)",
    "gcse_grade": "GCSE grade (1\u20139)", "teacher_judgement": "Teacher judgement (1\u20134)",
    "skill_mastery": "Platform skill mastery", "pupils_absent": "Pupil(s) absent",
    "not_in_school": "Not in school", "refused": "Did not want to come",
    "provider_api": "Provider API", "provider_csv": "Provider CSV upload",
}

SCALE_BOUNDS = {
    MeasureScale.SCORE: (0, 100),
    # A reading age between 4 and 18 years.
    MeasureScale.READING_AGE: (48, 216),
    MeasureScale.GCSE_GRADE: (1, 9),
    MeasureScale.TEACHER_JUDGEMENT: (1, 4),
}

#: The National Tutoring Programme's ratios: 3 recommended for school-led tuition, 6 at most.
DEFAULT_GROUP_SIZE = 3
MAX_GROUP_SIZE = 6

#: Year groups: Reception (0) to Year 13.
YEAR_GROUPS = range(0, 14)


def year_label(year: int) -> str:
    return "Reception" if year == 0 else f"Year {year}"


class TutoringPolicy(db.Model):
    """A trust's tutoring settings. A trust without a row uses the defaults."""

    __tablename__ = "tutoring_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), unique=True)
    #: Pupil records are erased this many years after their last group ends.
    pupil_retention_years: Mapped[int] = mapped_column(default=2)
    #: Provider scorecard weights by criterion (see ``scorecards.CRITERIA``), in percent.
    scorecard_weights: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Programme(db.Model):
    """One version of a tutoring programme. Changing a programme saves a new version with the
    same ``key``; groups keep the version they started on, so what was delivered keeps the
    plan and the price it was delivered under."""

    __tablename__ = "tutoring_programmes"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index("uq_tutoring_programmes_current", "key", unique=True,
              postgresql_where=text("superseded_at IS NULL"),
              sqlite_where=text("superseded_at IS NULL")),
        CheckConstraint("max_group_size BETWEEN 1 AND 6", name="group_size_within_ratio"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shared by every version of one programme.
    key: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(default=1)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    subject: Mapped[Subject] = mapped_column(enum_column(Subject, "tutoring_subject"))
    delivery_model: Mapped[DeliveryModel] = mapped_column(
        enum_column(DeliveryModel, "delivery_model"))
    max_group_size: Mapped[int] = mapped_column(default=DEFAULT_GROUP_SIZE)
    planned_sessions: Mapped[int] = mapped_column(default=15)
    session_minutes: Mapped[int] = mapped_column(default=60)
    cost_model: Mapped[CostModel] = mapped_column(enum_column(CostModel, "cost_model"))
    #: The rate in pence: per tutor hour, per pupil, or per group per term.
    rate_pence: Mapped[int] = mapped_column(default=0)
    #: The share of the cost the school pays itself, in percent.
    school_contribution_percent: Mapped[int] = mapped_column(default=0)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    measure_scale: Mapped[MeasureScale] = mapped_column(
        enum_column(MeasureScale, "measure_scale"))
    evidence_source: Mapped[EvidenceSource] = mapped_column(
        enum_column(EvidenceSource, "evidence_source"))
    #: Service levels agreed with the provider (provider-delivered programmes).
    sla_notice_hours: Mapped[int] = mapped_column(default=24)
    sla_report_hours: Mapped[int] = mapped_column(default=48)
    sla_late_minutes: Mapped[int] = mapped_column(default=5)
    sla_cover_required: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    trust: Mapped[Trust] = relationship()
    provider: Mapped[Provider | None] = relationship()

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(8)

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    @property
    def planned_minutes(self) -> int:
        return self.planned_sessions * self.session_minutes


class Pupil(db.Model):
    """A pupil, with the least data that does the job: no date of birth, no address, no UPN,
    no free text. Erasure clears the name and the school's reference and keeps an anonymous
    row, so the trust's totals still add up."""

    __tablename__ = "pupils"
    __table_args__ = (
        Index("uq_pupils_school_reference", "school_id", "reference", unique=True,
              postgresql_where=text("erased_at IS NULL"),
              sqlite_where=text("erased_at IS NULL")),
        CheckConstraint("year_group BETWEEN 0 AND 13", name="year_group_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The name the school chooses to show (initials are fine).
    display_name: Mapped[str] = mapped_column(String(60))
    #: The school's own pupil reference (its MIS admission number, say): never the UPN.
    reference: Mapped[str] = mapped_column(String(40))
    #: What trust-wide views show instead of the name.
    pseudonym: Mapped[str] = mapped_column(String(12), unique=True,
                                           default=lambda: "P-" + secrets.token_hex(4).upper())
    year_group: Mapped[int] = mapped_column()
    disadvantaged: Mapped[bool] = mapped_column(default=False)
    send: Mapped[bool] = mapped_column(default=False)
    eal: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship()

    @property
    def year_label(self) -> str:
        return year_label(self.year_group)


class GroupStatus(_Labelled):
    ACTIVE = "active"
    ENDED = "ended"


class TutoringGroup(db.Model):
    """A tutor (the school's or a provider's) and up to the programme's maximum of pupils, at
    a weekly slot. Whether it may meet is the register's answer, asked each time: a tutor
    not approved for the school pauses every group of theirs at once."""

    __tablename__ = "tutoring_groups"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_in_range"),
        Index("ix_tutoring_groups_school_status", "school_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    #: The programme version the group started on.
    programme_id: Mapped[int] = mapped_column(ForeignKey("tutoring_programmes.id"), index=True)
    #: The programme across versions, for "one group per programme per pupil".
    programme_key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The provider whose tutor this is, for provider-delivered groups.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    #: Monday is 0.
    weekday: Mapped[int] = mapped_column()
    starts_at: Mapped[time] = mapped_column(Time)
    starts_on: Mapped[date] = mapped_column(Date)
    status: Mapped[GroupStatus] = mapped_column(enum_column(GroupStatus, "group_status"),
                                                default=GroupStatus.ACTIVE)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    school: Mapped[School] = relationship()
    programme: Mapped[Programme] = relationship()
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
    provider: Mapped[Provider | None] = relationship()
    places: Mapped[list[GroupPupil]] = relationship(back_populates="group",
                                                   order_by="GroupPupil.id")

    @property
    def current_places(self) -> list[GroupPupil]:
        return [p for p in self.places if p.left_on is None]


class GroupPupil(db.Model):
    """A pupil's place in a group, with the five progress measures the trust standardises:
    baseline, target, current status with its date, evidence source, next action."""

    __tablename__ = "group_pupils"
    __table_args__ = (
        Index("uq_group_pupils_programme_open", "programme_key", "pupil_id", unique=True,
              postgresql_where=text("left_on IS NULL"), sqlite_where=text("left_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    programme_key: Mapped[str] = mapped_column(String(32))
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    baseline: Mapped[float | None] = mapped_column(Float)
    baseline_on: Mapped[date | None] = mapped_column(Date)
    target: Mapped[float | None] = mapped_column(Float)
    current: Mapped[float | None] = mapped_column(Float)
    current_on: Mapped[date | None] = mapped_column(Date)
    evidence_source: Mapped[EvidenceSource | None] = mapped_column(
        enum_column(EvidenceSource, "progress_evidence_source"))
    #: What happens next for this pupil in tutoring (not a welfare note: that is safeguarding).
    next_action: Mapped[str] = mapped_column(String(200), default="")
    progress_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[TutoringGroup] = relationship(back_populates="places")
    pupil: Mapped[Pupil] = relationship()


class TutoringSession(db.Model):
    """One meeting of a group, delivered or cancelled, as its tutor (or the school, or the
    provider) logged it."""

    __tablename__ = "tutoring_sessions"
    __table_args__ = (
        UniqueConstraint("group_id", "held_on"),
        UniqueConstraint("provider_id", "idempotency_key"),
        Index("ix_tutoring_sessions_trust_held", "trust_id", "held_on"),
        Index("ix_tutoring_sessions_school_held", "school_id", "held_on"),
        CheckConstraint("minutes_delivered BETWEEN 0 AND 240", name="minutes_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    held_on: Mapped[date] = mapped_column(Date)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, "session_status"))
    cancel_reason: Mapped[CancelReason | None] = mapped_column(
        enum_column(CancelReason, "cancel_reason"))
    #: How long before the session it was called off (provider service levels).
    notice_hours: Mapped[int | None] = mapped_column()
    minutes_delivered: Mapped[int] = mapped_column(default=0)
    #: Minutes after the slot the session began (provider service levels).
    late_start_minutes: Mapped[int] = mapped_column(default=0)
    #: Who tutored: the group's tutor, or a cover tutor.
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cover: Mapped[bool] = mapped_column(default=False)
    #: About the session, never about a pupil's welfare.
    note: Mapped[str] = mapped_column(String(280), default="")
    source: Mapped[LogSource] = mapped_column(enum_column(LogSource, "log_source"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    #: The provider's key for this session: a retried POST finds it and counts nothing twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    #: Hours from the end of the session to its report (provider service levels).
    report_hours: Mapped[int] = mapped_column(default=0)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When a safeguarding concern raised from this session stopped it (nothing more about
    #: the concern is kept here).
    stopped_for_safeguarding_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[TutoringGroup] = relationship()
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
    attendance: Mapped[list[SessionAttendance]] = relationship(
        back_populates="session", order_by="SessionAttendance.id",
        cascade="all, delete-orphan")


class SessionAttendance(db.Model):
    """One pupil at one session. Dosage counts the minutes of pupils present or late, never of
    pupils merely on the group."""

    __tablename__ = "session_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "pupil_id"),
        CheckConstraint("engagement IS NULL OR engagement BETWEEN 1 AND 5",
                        name="engagement_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("tutoring_sessions.id",
                                                       ondelete="CASCADE"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    status: Mapped[Attendance] = mapped_column(enum_column(Attendance, "attendance"))
    absence_reason: Mapped[AbsenceReason | None] = mapped_column(
        enum_column(AbsenceReason, "absence_reason"))
    engagement: Mapped[int | None] = mapped_column()
    #: The minutes this pupil was tutored: the session's for present or late, 0 for absent.
    minutes: Mapped[int] = mapped_column(default=0)

    session: Mapped[TutoringSession] = relationship(back_populates="attendance")
    pupil: Mapped[Pupil] = relationship()


class ImpactReview(db.Model):
    """The central team's termly decision on a programme, with its reason."""

    __tablename__ = "impact_reviews"
    __table_args__ = (Index("ix_impact_reviews_trust_decided", "trust_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    programme_key: Mapped[str] = mapped_column(String(32))
    programme_name: Mapped[str] = mapped_column(String(120))
    term: Mapped[str] = mapped_column(String(40))
    decision: Mapped[ReviewDecision] = mapped_column(enum_column(ReviewDecision,
                                                                 "review_decision"))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    decided_by: Mapped[User | None] = relationship()


class ProviderScorecard(db.Model):
    """A reviewer's scores (1-5 per criterion) for a provider, for procurement."""

    __tablename__ = "provider_scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    provider: Mapped[Provider] = relationship()
    reviewed_by: Mapped[User | None] = relationship()


# --- read models: what the dashboards add up, kept as sessions are logged ------------------


class PlaceTermTotal(db.Model):
    """A pupil's marks in one group over one school term (``costs.term_number``), added to
    as sessions are logged and changed (``lms.tutoring.totals``), so a dashboard reads one
    row per place instead of every mark."""

    __tablename__ = "tutoring_place_terms"
    __table_args__ = (Index("ix_tutoring_place_terms_trust_term", "trust_id", "term"),
                      Index("ix_tutoring_place_terms_school_term", "school_id", "term"))

    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"), primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), primary_key=True)
    term: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    minutes: Mapped[int] = mapped_column(default=0)
    marks: Mapped[int] = mapped_column(default=0)
    attended: Mapped[int] = mapped_column(default=0)
    engagement_total: Mapped[int] = mapped_column(default=0)
    ratings: Mapped[int] = mapped_column(default=0)


class GroupTermTotal(db.Model):
    """A group's sessions over one school term: delivered, cancelled, minutes delivered."""

    __tablename__ = "tutoring_group_terms"
    __table_args__ = (Index("ix_tutoring_group_terms_trust_term", "trust_id", "term"),
                      Index("ix_tutoring_group_terms_school_term", "school_id", "term"))

    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"), primary_key=True)
    term: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    delivered: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)
    minutes_delivered: Mapped[int] = mapped_column(default=0)


class SchoolDayTotal(db.Model):
    """A school's delivered sessions and their marks on one day (the weekly charts)."""

    __tablename__ = "tutoring_school_days"
    __table_args__ = (Index("ix_tutoring_school_days_trust_held", "trust_id", "held_on"),)

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    sessions: Mapped[int] = mapped_column(default=0)
    marks: Mapped[int] = mapped_column(default=0)
    attended: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)


class TutoringTotalsBuild(db.Model):
    """When a trust's totals were last rebuilt from its sessions. A trust without one has
    no totals yet (its sessions came before them, or in bulk): its figures are added up from
    the marks until the rebuild."""

    __tablename__ = "tutoring_totals_builds"

    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), primary_key=True,
                                          autoincrement=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- states: where each group and place stands now, for the action lists ----------------


class GroupState(db.Model):
    """Where a group stands after its latest sessions, worked out again from them whenever
    one is logged or changed (``lms.tutoring.states``)."""

    __tablename__ = "tutoring_group_states"
    __table_args__ = (Index("ix_tutoring_group_states_trust_held", "trust_id", "last_held_on"),
                      Index("ix_tutoring_group_states_school_held", "school_id", "last_held_on"))

    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"), primary_key=True,
                                          autoincrement=False)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: The latest session logged, delivered or cancelled.
    last_held_on: Mapped[date | None] = mapped_column(Date)
    #: Over the group's last 4 delivered sessions: those with marks, their marks, and the
    #: marks present or late.
    recent_sessions: Mapped[int] = mapped_column(default=0)
    recent_marks: Mapped[int] = mapped_column(default=0)
    recent_attended: Mapped[int] = mapped_column(default=0)


class PlaceState(db.Model):
    """Where a pupil stands in a group after their latest marks in it."""

    __tablename__ = "tutoring_place_states"
    __table_args__ = (Index("ix_tutoring_place_states_trust_run", "trust_id", "absent_run"),
                      Index("ix_tutoring_place_states_school_run", "school_id", "absent_run"))

    group_id: Mapped[int] = mapped_column(ForeignKey("tutoring_groups.id"), primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: The day of their latest mark in the group.
    last_mark_on: Mapped[date] = mapped_column(Date)
    #: How many marks in a row, ending at the latest, were absent.
    absent_run: Mapped[int] = mapped_column(default=0)
    #: Their first mark since they last joined the group (none since: ``None``).
    first_mark_on: Mapped[date | None] = mapped_column(Date)


class DashboardSnapshot(db.Model):
    """A tutoring dashboard's figures as last worked out, kept for at most
    ``DASHBOARD_MAX_AGE_SECONDS`` (``lms.tutoring.snapshots``), with what recomputes them."""

    __tablename__ = "tutoring_dashboard_snapshots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    body: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
