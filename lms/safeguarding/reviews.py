"""Suspending the person an allegation is about from the register pending review, and how the
review ends: reinstated, or removed from the register."""

from __future__ import annotations

from sqlalchemy import select

from credentials.register import services as register
from credentials.register.models import RegisterEntry
from lms.accounts.models import User
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.safeguarding.models import Concern, ConcernKind, EntryKind, Review
from lms.safeguarding.services import chronicle

OUTCOMES = {"reinstated": "Reinstated on the register", "removed": "Removed from the register"}


def register_entry_of(concern: Concern) -> RegisterEntry | None:
    if concern.subject_id is None:
        return None
    return db.session.scalar(select(RegisterEntry).where(
        RegisterEntry.trust_id == concern.trust_id, RegisterEntry.user_id == concern.subject_id))


def open_review(concern: Concern) -> Review | None:
    return db.session.scalar(select(Review).where(Review.concern_id == concern.id,
                                                  Review.closed_at.is_(None)))


def suspend_pending_review(concern: Concern, *, actor: User, reason: str) -> Review:
    """In one step: the tutor's register entry is suspended pending review, which pauses their
    groups and shows them not cleared to verifiers."""
    if concern.kind != ConcernKind.ABOUT_ADULT:
        raise DomainError("Only an allegation about an adult can suspend a tutor.")
    entry = register_entry_of(concern)
    if entry is None:
        raise DomainError("The person this is about is not on the trust's register: there is "
                          "no entry to suspend.")
    if open_review(concern) is not None:
        raise DomainError("This tutor is already suspended pending review.")
    register.suspend_pending_review(entry, reason=reason, actor=actor)
    review = Review(concern_id=concern.id, entry_id=entry.id, opened_at=clock.now(),
                    opened_by_id=actor.id)
    db.session.add(review)
    chronicle(concern, EntryKind.SUSPENDED_PENDING_REVIEW, actor, text=reason.strip())
    return review


def close_review(review: Review, *, actor: User, outcome: str, reason: str) -> Review:
    if review.closed_at is not None:
        raise DomainError("This review has already ended.")
    if outcome not in OUTCOMES:
        raise DomainError("Choose how the review ended", field="outcome")
    entry = db.session.get(RegisterEntry, review.entry_id)
    if outcome == "reinstated":
        register.reinstate_after_review(entry, reason=reason, actor=actor)
    else:
        register.remove_from_register(entry, reason=reason, actor=actor)
    review.closed_at, review.closed_by_id, review.outcome = clock.now(), actor.id, outcome
    chronicle(review.concern, EntryKind.REVIEW_CLOSED, actor,
              text=f"{OUTCOMES[outcome]}: {reason.strip()}")
    return review
