"""Raising a concern: only the account is required; the DSL and deputies are told at once,
by an alert and an email that say nothing of it; the reporter gets a receipt."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.safeguarding import services
from lms.safeguarding.models import Category, ConcernAlert, EntryKind, Route
from tests.safeguarding_factory import (
    PLANTED,
    make_safeguarding_school,
    raise_about_adult,
    raise_about_child,
)
from tests.tutoring_factory import log_delivered


def _alerted(concern, level=0) -> set[int]:
    return set(db.session.scalars(select(ConcernAlert.user_id).where(
        ConcernAlert.concern_id == concern.id, ConcernAlert.level == level)))


def _emailed() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "safeguarding_alert")))


def test_a_concern_about_a_child_tells_the_dsl_and_deputies_at_once(db_session):
    world = make_safeguarding_school(deputies=2)
    concern = raise_about_child(world)
    assert concern.route == Route.DSL and concern.told_at == concern.raised_at
    expected = {world.dsl.id, *(d.id for d in world.deputies)}
    assert _alerted(concern) == expected
    assert {e.to_address for e in _emailed()} == {world.dsl.email,
                                                  *(d.email for d in world.deputies)}
    assert concern.reference.startswith(f"SG-{clock.now():%Y}-")
    assert [e.kind for e in concern.entries] == [EntryKind.RAISED, EntryKind.TOLD]


def test_only_the_account_is_required(db_session):
    world = make_safeguarding_school()
    with pytest.raises(DomainError) as refused:
        raise_about_child(world, account="   ")
    assert refused.value.field == "account"
    concern = raise_about_child(world, category="", pupil_id=None, when="")
    assert concern.category == Category.NOT_SURE
    assert services.account_of(concern)["pupil"] == services.UNNAMED_PUPIL


def test_the_account_is_encrypted_at_rest(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    assert PLANTED.encode() not in concern.account_encrypted
    assert services.account_of(concern)["account"] == PLANTED


def test_a_school_with_no_dsl_sends_the_concern_to_the_trust_safeguarding_lead(db_session):
    world = make_safeguarding_school(dsl=False, deputies=0)
    concern = raise_about_child(world)
    assert concern.route == Route.TRUST_LEAD
    assert _alerted(concern) == {world.trust_lead.id}


def test_with_nobody_to_tell_the_central_team_is_asked_to_appoint_someone(db_session):
    world = make_safeguarding_school(dsl=False, deputies=0, trust_lead=False)
    concern = raise_about_child(world)
    assert concern.told_at is None
    nobody = db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "safeguarding_nobody")).all()
    assert [e.to_address for e in nobody] == [world.central.email]
    assert PLANTED not in nobody[0].body_text


def test_an_allegation_goes_to_the_leader_and_trust_lead_never_to_its_subject(db_session):
    from lms.platform.roles import Role
    from tests.factories import make_member

    world = make_safeguarding_school()
    # The person it is about is also a school leader: they are never told.
    make_member(Role.SCHOOL_LEADER, school=world.school, user=world.dsl)
    concern = raise_about_adult(world, world.dsl)
    assert _alerted(concern) == {world.leader.id, world.trust_lead.id}
    assert world.dsl.email not in {e.to_address for e in _emailed()}


def test_the_alert_email_carries_no_detail_of_the_concern(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world, when="Tuesday at the end of the session")
    for email in _emailed():
        for body in (email.body_text, email.body_html, email.subject):
            assert PLANTED not in body and "Tuesday" not in body
            assert world.school.name not in body and concern.reference not in body


def test_raised_from_a_logged_session_marks_it_stopped_for_safeguarding(db_session):
    world = make_safeguarding_school()
    session = log_delivered(world.group)
    concern = raise_about_child(world, group_id=world.group.id, held_on=session.held_on)
    assert concern.session_id == session.id
    assert session.stopped_for_safeguarding_at is not None


def test_a_session_logged_after_a_concern_raised_from_it_is_marked_stopped(db_session):
    world = make_safeguarding_school()
    day = clock.today()
    concern = raise_about_child(world, group_id=world.group.id, held_on=day)
    assert concern.session_id is None
    session = log_delivered(world.group, day)
    assert session.stopped_for_safeguarding_at is not None
    assert concern.session_id == session.id


def test_someone_with_no_place_at_the_school_cannot_raise_one_there(db_session):
    world = make_safeguarding_school()
    other = make_safeguarding_school()
    with pytest.raises(DomainError) as refused:
        raise_about_child(world, reporter=other.tutor)
    assert refused.value.field == "school_id"


def test_a_draft_is_kept_encrypted_until_the_concern_is_sent(db_session):
    world = make_safeguarding_school()
    draft = services.save_draft(world.tutor, {"account": PLANTED, "when": "today"})
    assert PLANTED.encode() not in draft.fields_encrypted
    assert services.draft_of(world.tutor)[0]["account"] == PLANTED
    raise_about_child(world)
    assert services.draft_of(world.tutor) == ({}, None)


def test_a_pupil_can_be_named_only_from_the_reporters_own_groups(db_session):
    world = make_safeguarding_school()
    other = make_safeguarding_school(trust=world.trust)
    theirs = world.group.places[0].pupil
    concern = raise_about_child(world, pupil_id=theirs.id)
    assert services.account_of(concern)["pupil"] == theirs.display_name
    stranger = raise_about_child(world, pupil_id=other.group.places[0].pupil_id)
    assert services.account_of(stranger)["pupil"] == services.UNNAMED_PUPIL
    assert timedelta(0) <= clock.now() - concern.raised_at
