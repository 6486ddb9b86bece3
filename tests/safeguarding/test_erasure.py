"""Erasure requests for a pupil or for the person who raised a concern do not delete it: it
is the school's child-protection record. An unsent draft goes with the person."""

from lms.platform.roles import Role
from lms.privacy.services import erase_person
from lms.safeguarding import services
from lms.tutoring.pupils import erase_pupil
from tests.factories import make_member
from tests.safeguarding_factory import PLANTED, make_safeguarding_school, raise_about_child


def test_erasing_the_pupil_keeps_the_concern_and_the_name_it_gave(db_session):
    world = make_safeguarding_school()
    pupil = world.group.places[0].pupil
    name = pupil.display_name
    concern = raise_about_child(world, pupil_id=pupil.id)
    erase_pupil(pupil, reason="Parent's request", actor=world.leader)
    assert pupil.erased_at is not None
    assert services.account_of(concern)["pupil"] == name


def test_erasing_the_reporter_keeps_their_concern_and_deletes_their_draft(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    services.save_draft(world.tutor, {"account": "not sent yet"})
    admin = make_member(Role.PROGRAMME_ADMIN)
    erase_person(world.tutor, reason="Request by email, ref 77", actor=admin)
    assert services.account_of(concern)["account"] == PLANTED
    assert concern.reporter_id == world.tutor.id
    assert services.draft_of(world.tutor) == ({}, None)


def test_the_privacy_notice_says_why_and_for_how_long(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert 'id="safeguarding"' in page and "does <strong>not</strong> delete" in page
    assert "30 days" in page and "Keeping children safe in education" in page
