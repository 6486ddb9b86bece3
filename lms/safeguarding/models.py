"""Safeguarding concerns: the concern (its account encrypted), its append-only chronology, the
alerts it raised, who opened it, drafts, and each trust's timings.

Every narrative column holds ciphertext under ``ENCRYPTION_KEY`` (purpose
``safeguarding-concern``); the plain columns are the pointer that outlives a purge: school,
session, tutor, category and the times.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime, enum_column


class _Labelled(enum.StrEnum):
    @property
    def label(self) -> str:
        return LABELS.get(self, self.value.replace("_", " ").capitalize())


class ConcernKind(_Labelled):
    ABOUT_CHILD = "about_child"
    ABOUT_ADULT = "about_adult"


class Category(_Labelled):
    """What the concern is about, as the reporter (or later the DSL) judged it. Kept in the
    pointer after the account is purged."""

    NOT_SURE = "not_sure"
    PHYSICAL = "physical"
    EMOTIONAL = "emotional"
    SEXUAL = "sexual"
    NEGLECT = "neglect"
    CHILD_ON_CHILD = "child_on_child"
    ONLINE = "online"
    SELF_HARM = "self_harm"
    EXPLOITATION = "exploitation"
    RADICALISATION = "radicalisation"
    ALLEGATION = "allegation"


class Route(_Labelled):
    """Who was told first: the school's DSL and deputies, or (a school with no DSL, and every
    allegation about an adult) its leaders and the trust safeguarding lead."""

    DSL = "dsl"
    TRUST_LEAD = "trust_lead"
    LEADERS = "leaders"


class EntryKind(_Labelled):
    RAISED = "raised"
    TOLD = "told"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    NOTE = "note"
    REFERRAL = "referral"
    PARENTS_INFORMED = "parents_informed"
    OUTCOME = "outcome"
    CORRECTION = "correction"
    SUSPENDED_PENDING_REVIEW = "suspended_pending_review"
    REVIEW_CLOSED = "review_closed"
    RECORDED_ELSEWHERE = "recorded_elsewhere"
    CLOSED = "closed"
    PURGED = "purged"
    BREAK_GLASS = "break_glass"


class ReferralTo(_Labelled):
    SOCIAL_CARE = "social_care"
    POLICE = "police"
    LADO = "lado"


LABELS = {
    ConcernKind.ABOUT_CHILD: "About a child",
    ConcernKind.ABOUT_ADULT: "About an adult (an allegation)",
    Category.NOT_SURE: "Not sure",
    Category.PHYSICAL: "Physical harm",
    Category.EMOTIONAL: "Emotional harm",
    Category.SEXUAL: "Sexual harm",
    Category.NEGLECT: "Neglect",
    Category.CHILD_ON_CHILD: "Child-on-child abuse",
    Category.ONLINE: "Online safety",
    Category.SELF_HARM: "Self-harm or mental health",
    Category.EXPLOITATION: "Exploitation (criminal or sexual)",
    Category.RADICALISATION: "Radicalisation",
    Category.ALLEGATION: "Allegation about an adult",
    Route.DSL: "The school's DSL and deputies",
    Route.TRUST_LEAD: "The trust safeguarding lead (the school has no DSL)",
    Route.LEADERS: "The school leader and the trust safeguarding lead",
    EntryKind.RAISED: "Raised",
    EntryKind.TOLD: "Told",
    EntryKind.ACKNOWLEDGED: "Acknowledged",
    EntryKind.ESCALATED: "Escalated",
    EntryKind.NOTE: "Note",
    EntryKind.REFERRAL: "Referral made",
    EntryKind.PARENTS_INFORMED: "Parents or carers informed",
    EntryKind.OUTCOME: "Outcome",
    EntryKind.CORRECTION: "Correction",
    EntryKind.SUSPENDED_PENDING_REVIEW: "Tutor suspended pending review",
    EntryKind.REVIEW_CLOSED: "Review closed",
    EntryKind.RECORDED_ELSEWHERE: "Recorded in the school's system",
    EntryKind.CLOSED: "Closed",
    EntryKind.PURGED: "Account purged from this platform",
    EntryKind.BREAK_GLASS: "Opened by the programme admin (break-glass)",
    ReferralTo.SOCIAL_CARE: "Children's social care",
    ReferralTo.POLICE: "Police",
    ReferralTo.LADO: "LADO (local authority designated officer)",
}

CHILD_CATEGORIES = [c for c in Category if c != Category.ALLEGATION]
#: What the DSL may add to the chronology from its form.
ADDABLE = (EntryKind.NOTE, EntryKind.REFERRAL, EntryKind.PARENTS_INFORMED, EntryKind.OUTCOME,
           EntryKind.CORRECTION)
ADDABLE_LABELS = [(k.value, k.label) for k in ADDABLE]


class SafeguardingSettings(db.Model):
    """A trust's timings: when an unacknowledged concern escalates, and how long an account
    recorded in the school's own system stays here."""

    __tablename__ = "safeguarding_settings"
    __table_args__ = (
        CheckConstraint("first_escalation_minutes BETWEEN 5 AND 1440", name="first_in_range"),
        CheckConstraint("second_escalation_minutes > first_escalation_minutes"
                        " AND second_escalation_minutes <= 2880", name="second_after_first"),
        CheckConstraint("purge_days BETWEEN 1 AND 365", name="purge_in_range"),
    )

    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), primary_key=True)
    first_escalation_minutes: Mapped[int] = mapped_column(default=60)
    second_escalation_minutes: Mapped[int] = mapped_column(default=240)
    purge_days: Mapped[int] = mapped_column(default=30)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Concern(db.Model):
    __tablename__ = "safeguarding_concerns"
    __table_args__ = (
        Index("ix_safeguarding_concerns_trust_raised", "trust_id", "raised_at"),
        Index("ix_safeguarding_concerns_school_raised", "school_id", "raised_at"),
        Index("ix_safeguarding_concerns_waiting", "acknowledged_at", "escalation_level"),
        CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the reporter and everyone who may open it call it: SG-, year, a number.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[ConcernKind] = mapped_column(enum_column(ConcernKind, "concern_kind"))
    category: Mapped[Category] = mapped_column(enum_column(Category, "concern_category"))
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: For an allegation: the person it is about, who is never told and may never open it.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Where it was raised from, if from a session: the group and the day.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("tutoring_groups.id"))
    held_on: Mapped[date | None] = mapped_column(Date)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("tutoring_sessions.id"))
    immediate_danger: Mapped[bool] = mapped_column(default=False)
    route: Mapped[Route] = mapped_column(enum_column(Route, "concern_route"))
    #: The account (what happened, when, who), encrypted; NULL once purged.
    account_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: 0 until the first threshold passes unacknowledged, then 1, then 2.
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_again_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_elsewhere_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The school's own system (CPOMS, MyConcern, ...) and its reference there.
    external_system: Mapped[str | None] = mapped_column(String(60))
    external_reference: Mapped[str | None] = mapped_column(String(80))
    purge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    trust: Mapped[Trust] = relationship()
    school: Mapped[School] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])
    entries: Mapped[list[ConcernEntry]] = relationship(
        back_populates="concern", order_by="ConcernEntry.id")

    @property
    def minutes_to_acknowledge(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.raised_at).total_seconds() / 60


class ConcernEntry(db.Model):
    """One action on a concern, in order. Never changed or deleted: a mistake is put right by
    a correction entry naming the one it corrects. Only a purge empties ``details``."""

    __tablename__ = "safeguarding_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_concerns.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind, "concern_entry_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: The day it happened, where that is not the day it was written down (a referral).
    on: Mapped[date | None] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    referral_to: Mapped[ReferralTo | None] = mapped_column(
        enum_column(ReferralTo, "referral_to"))
    #: For an escalation: which threshold.
    level: Mapped[int | None] = mapped_column()
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("safeguarding_entries.id"))
    #: What was written (a note, an outcome, a referral's reference), encrypted; NULL once
    #: purged.
    details_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)

    concern: Mapped[Concern] = relationship(back_populates="entries")
    actor: Mapped[User | None] = relationship()


@event.listens_for(ConcernEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("a concern's chronology is append-only")


@event.listens_for(ConcernEntry, "before_update")
def _refuse_update(mapper, connection, target):
    from sqlalchemy import inspect

    changed = {attr.key for attr in inspect(target).attrs if attr.history.has_changes()}
    if changed - {"details_encrypted"} or target.details_encrypted is not None:
        raise RuntimeError("a concern's chronology is append-only: add a correction")


class ConcernAlert(db.Model):
    """An in-app alert that a concern needs someone: one per person, concern and level, so a
    sweep run twice alerts nobody twice."""

    __tablename__ = "safeguarding_alerts"
    __table_args__ = (UniqueConstraint("user_id", "concern_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_concerns.id"), index=True)
    #: 0 when raised, 1 and 2 at the escalations; 9 for a break-glass opening.
    level: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    concern: Mapped[Concern] = relationship()


class ConcernView(db.Model):
    """Someone opened a concern (or its PDF): who, what, when, and for a break-glass opening,
    why."""

    __tablename__ = "safeguarding_views"
    __table_args__ = (Index("ix_safeguarding_views_trust_at", "trust_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_concerns.id"), index=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    what: Mapped[str] = mapped_column(String(20), default="opened")
    break_glass_reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    user: Mapped[User] = relationship()
    concern: Mapped[Concern] = relationship()


class ConcernDraft(db.Model):
    """What a reporter has typed so far, encrypted, until they send it."""

    __tablename__ = "safeguarding_drafts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    fields_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Review(db.Model):
    """A tutor suspended from the register pending the review of an allegation, and how the
    review ended."""

    __tablename__ = "safeguarding_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_concerns.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("register_entries.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: "reinstated" or "removed".
    outcome: Mapped[str | None] = mapped_column(String(20))

    concern: Mapped[Concern] = relationship()
