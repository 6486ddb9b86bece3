"""Who may open a concern, every opening recorded, and the programme admin's break-glass:
only with a reason, recorded in the chronology and the access log, told to the trust
safeguarding lead."""

import pytest
from sqlalchemy import select

from lms.notifications.models import OutboxEmail
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.safeguarding import access, policies, queries
from lms.safeguarding.models import ConcernAlert, EntryKind
from tests.factories import make_member
from tests.safeguarding_factory import (
    PLANTED,
    make_safeguarding_school,
    raise_about_adult,
    raise_about_child,
)


def test_a_concern_about_a_child_opens_for_the_dsl_deputies_and_trust_lead_only(db_session):
    world = make_safeguarding_school()
    other = make_safeguarding_school(trust=world.trust)
    concern = raise_about_child(world)
    admin = make_member(Role.PROGRAMME_ADMIN)
    allowed = {world.dsl, world.deputies[0], world.trust_lead}
    refused = {world.tutor, world.leader, world.central, other.dsl,
               make_member(Role.TRUSTEE, trust=world.trust), admin,
               make_member(Role.PROVIDER)}
    assert {p for p in allowed | refused if policies.may_open(p, concern)} == allowed
    assert policies.may_break_glass(admin, concern)
    assert policies.may_see_receipt(world.tutor, concern)
    assert not policies.may_see_receipt(world.dsl, concern)


def test_an_allegation_opens_for_the_leader_and_trust_lead_never_its_subject(db_session):
    world = make_safeguarding_school()
    subject = world.deputies[0]
    make_member(Role.TRUST_SAFEGUARDING_LEAD, trust=world.trust, user=subject)
    make_member(Role.CENTRAL_TEAM, trust=world.trust, user=subject)
    concern = raise_about_adult(world, subject)
    assert concern.subject_id == subject.id
    assert policies.may_open(world.leader, concern)
    assert policies.may_open(world.trust_lead, concern)
    assert not policies.may_open(world.dsl, concern)
    # The subject is a trust safeguarding lead and on the central team too: still never.
    assert not policies.may_open(subject, concern)
    assert not policies.may_review(subject, concern)
    assert policies.may_review(world.central, concern)
    assert concern not in queries.for_user(subject)
    assert concern in queries.for_user(world.leader)


def test_the_lists_show_what_each_person_may_open(db_session):
    world = make_safeguarding_school()
    other = make_safeguarding_school(trust=world.trust)
    mine = raise_about_child(world)
    theirs = raise_about_child(other)
    assert queries.for_user(world.dsl) == [mine]
    assert set(queries.for_user(world.trust_lead)) == {mine, theirs}
    assert queries.for_user(world.tutor) == []
    assert queries.waiting_for(world.dsl) == 1


def test_every_opening_is_recorded(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    access.record_opening(concern, world.dsl)
    access.record_opening(concern, world.trust_lead, what="pdf")
    log = access.access_log(world.trust.id, reader=world.trust_lead)
    assert [(v.user_id, v.what) for v in log] == [(world.trust_lead.id, "pdf"),
                                                   (world.dsl.id, "opened")]
    with pytest.raises(PermissionError):
        access.record_opening(concern, world.tutor)


def test_break_glass_needs_a_reason_and_tells_the_trust_lead(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    admin = make_member(Role.PROGRAMME_ADMIN)
    with pytest.raises(DomainError) as refused:
        access.break_glass(concern, admin, reason="because")
    assert refused.value.field == "reason"
    view = access.break_glass(concern, admin, reason="Police request ref 44/2026 via the trust")
    assert view.what == "break-glass" and "Police request" in view.break_glass_reason
    assert concern.entries[-1].kind == EntryKind.BREAK_GLASS
    told = db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "safeguarding_break_glass")).all()
    assert [e.to_address for e in told] == [world.trust_lead.email]
    assert PLANTED not in told[0].body_text
    assert db.session.scalar(select(ConcernAlert.id).where(
        ConcernAlert.user_id == world.trust_lead.id, ConcernAlert.level == 9))


def test_break_glass_is_for_the_programme_admin_only(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    with pytest.raises(PermissionError):
        access.break_glass(concern, world.central, reason="I would like to see it please")
    with pytest.raises(PermissionError):  # those it is for open it the ordinary way
        access.break_glass(concern, world.dsl, reason="I would like to see it please")
