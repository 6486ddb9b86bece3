"""An allegation about a tutor: the central team, in one step with a reason, suspends their
register entry pending review, which pauses their groups and shows them not cleared to
verifiers. Reinstatement or removal ends it, audited."""

import pytest
from sqlalchemy import select

from credentials.endorsements.models import Endorsement
from credentials.register.models import RegisterStatus
from credentials.register.queries import register_entry
from credentials.register.services import register_status_for
from lms.audit.models import AuditEntry
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.safeguarding import reviews
from lms.safeguarding.models import EntryKind
from lms.tutoring.clearance import clearance
from tests.factories import make_member
from tests.safeguarding_factory import (
    make_safeguarding_school,
    raise_about_adult,
    raise_about_child,
)


@pytest.fixture
def allegation(db_session):
    world = make_safeguarding_school()
    reporter = make_member(Role.TUTORING_LEAD, school=world.school)
    concern = raise_about_adult(world, world.tutor, reporter=reporter)
    return world, concern


def _cleared(world) -> bool:
    return clearance(world.trust.id, world.school.id, world.tutor.id).approved


def test_suspending_pending_review_pauses_the_tutor_and_tells_verifiers(allegation):
    world, concern = allegation
    assert _cleared(world)
    review = reviews.suspend_pending_review(concern, actor=world.central,
                                            reason="Allegation under review")
    entry = register_entry(world.trust, world.tutor)
    assert entry.status == RegisterStatus.SUSPENDED
    assert entry.reasons[0].startswith("Suspended pending review")
    assert not _cleared(world)
    endorsement = db.session.scalar(select(Endorsement).where(
        Endorsement.user_id == world.tutor.id))
    shown = register_status_for(endorsement, {world.trust.id})
    assert shown["status"] == "suspended" and shown["reasons"] == []
    assert review.closed_at is None
    assert concern.entries[-1].kind == EntryKind.SUSPENDED_PENDING_REVIEW
    audited = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "RegisterEntry", AuditEntry.object_id == str(entry.id)))
    assert "register_entry.suspended_pending_review" in set(audited)


def test_a_reason_is_required_and_it_happens_once(allegation):
    world, concern = allegation
    with pytest.raises(DomainError) as refused:
        reviews.suspend_pending_review(concern, actor=world.central, reason="  ")
    assert refused.value.field == "reason"
    reviews.suspend_pending_review(concern, actor=world.central, reason="Review")
    with pytest.raises(DomainError, match="already"):
        reviews.suspend_pending_review(concern, actor=world.central, reason="Review")


def test_reinstatement_ends_the_review_and_clears_the_tutor_again(allegation):
    world, concern = allegation
    review = reviews.suspend_pending_review(concern, actor=world.central, reason="Review")
    reviews.close_review(review, actor=world.central, outcome="reinstated",
                         reason="Unfounded after the LADO's advice")
    assert review.outcome == "reinstated" and review.closed_at is not None
    assert register_entry(world.trust, world.tutor).status == RegisterStatus.APPROVED
    assert _cleared(world)
    assert concern.entries[-1].kind == EntryKind.REVIEW_CLOSED


def test_removal_ends_the_review_with_the_tutor_off_the_register(allegation):
    world, concern = allegation
    review = reviews.suspend_pending_review(concern, actor=world.central, reason="Review")
    reviews.close_review(review, actor=world.trust_lead, outcome="removed",
                         reason="Substantiated")
    entry = register_entry(world.trust, world.tutor)
    assert entry.status == RegisterStatus.REMOVED and entry.held_at is None
    with pytest.raises(DomainError, match="already ended"):
        reviews.close_review(review, actor=world.central, outcome="reinstated", reason="x")


def test_only_an_allegation_about_someone_on_the_register_can_suspend(db_session):
    world = make_safeguarding_school()
    child = raise_about_child(world)
    with pytest.raises(DomainError, match="allegation"):
        reviews.suspend_pending_review(child, actor=world.central, reason="x")
    unlisted = raise_about_adult(world, world.leader)
    with pytest.raises(DomainError, match="not on the trust's register"):
        reviews.suspend_pending_review(unlisted, actor=world.central, reason="x")


def test_a_suspended_tutor_cannot_log_a_session(allegation):
    from tests.tutoring_factory import log_delivered

    world, concern = allegation
    reviews.suspend_pending_review(concern, actor=world.central, reason="Review")
    with pytest.raises(DomainError):
        log_delivered(world.group)
