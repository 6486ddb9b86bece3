"""The library's pages: only endorsed tutors (endorsement valid or suspended) see them; a unit
renders safely and is marked done once, with its CPD minutes; its resource downloads; the CPD
shows on the tutor's endorsement pages and record, never in the signed credential, and only
to staff who may see that tutor."""

import re

from credentials.endorsements import services as endorsements
from lms.library import queries
from lms.library.models import UnitProgress
from lms.library.services import current_unit
from lms.platform.extensions import db
from lms.platform.roles import Role
from tests.factories import make_enrolment, make_member, make_school, make_trust
from tests.library_factory import (
    TUTOR_PASSWORD,
    complete,
    endorsement_of,
    load_test_units,
    make_endorsed_tutor,
)

LIBRARY = "/library"
UNIT = "/library/first-session"


def _as(sign_in, user, password=TUTOR_PASSWORD):
    db.session.commit()
    return sign_in(user, password)


def _tutor(sign_in, school=None):
    load_test_units()
    tutor = make_endorsed_tutor(school)
    return tutor, _as(sign_in, tutor)


def _main(page: str) -> str:
    return page.split("<main", 1)[-1].split("</main>")[0]


def test_a_tutor_without_an_endorsement_is_refused_everywhere(db_session, sign_in):
    load_test_units()
    enrolment = make_enrolment()
    client = _as(sign_in, enrolment.user)
    for path in (LIBRARY, UNIT, f"{UNIT}/resource"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "opens once you are endorsed" in answer.get_data(as_text=True)
    assert client.post(f"{UNIT}/done").status_code == 403
    assert db.session.query(UnitProgress).count() == 0


def test_staff_without_an_endorsement_are_refused(db_session, sign_in):
    load_test_units()
    leader = make_member(Role.SCHOOL_LEADER)
    client = _as(sign_in, leader, "correct horse battery staple")
    assert client.get(LIBRARY).status_code == 403


def test_a_revoked_endorsement_closes_the_library_and_a_suspended_one_does_not(
        db_session, sign_in):
    tutor, client = _tutor(sign_in)
    endorsement = endorsement_of(tutor)
    endorsements.suspend_endorsement(endorsement, reason="Pending review", actor=None)
    db.session.commit()
    assert client.get(LIBRARY).status_code == 200
    endorsements.revoke_endorsement(endorsement, reason="Final", actor=None)
    db.session.commit()
    assert client.get(LIBRARY).status_code == 403


def test_an_endorsed_tutor_sees_every_unit_with_its_minutes(db_session, sign_in):
    _, client = _tutor(sign_in)
    page = client.get(LIBRARY).get_data(as_text=True)
    for title in ("Running your first session", "Tutoring pupils with SEND",
                  "Checking understanding"):
        assert title in page
    assert "CPD recorded so far: <strong>0 minutes</strong>" in page
    assert "<script" not in _main(page)


def test_opening_a_unit_starts_it_and_shows_the_body_and_a_done_button(db_session, sign_in):
    tutor, client = _tutor(sign_in)
    page = client.get(UNIT).get_data(as_text=True)
    assert "<h2>Why it matters</h2>" in page and "Mark as done" in page
    assert re.search(r'name="csrf_token"', page)
    assert "<script" not in _main(page)
    progress = db.session.query(UnitProgress).one()
    assert progress.user_id == tutor.id and progress.completed_at is None
    assert "Started" in client.get(LIBRARY).get_data(as_text=True)


def test_an_unknown_unit_is_not_found(db_session, sign_in):
    _, client = _tutor(sign_in)
    assert client.get("/library/no-such-unit").status_code == 404


def test_marking_done_records_the_minutes_once(db_session, sign_in):
    tutor, client = _tutor(sign_in)
    minutes = current_unit("first-session").minutes
    answer = client.post(f"{UNIT}/done")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(UNIT)
    assert queries.cpd_minutes(tutor.id) == minutes
    assert client.post(f"{UNIT}/done").status_code == 302
    assert queries.cpd_minutes(tutor.id) == minutes
    assert queries.completed_units_by_tutor({tutor.id}) == {tutor.id: 1}
    page = client.get(UNIT).get_data(as_text=True)
    assert f"{minutes} CPD minutes recorded" in page and "Mark as done" not in page


def test_marking_done_needs_the_form_token(db_session, sign_in):
    tutor, client = _tutor(sign_in)
    assert client.post(f"{UNIT}/done", csrf=False).status_code == 400
    assert queries.cpd_minutes(tutor.id) == 0


def test_the_resource_downloads_as_an_attachment(db_session, sign_in):
    _, client = _tutor(sign_in)
    answer = client.get(f"{UNIT}/resource")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == \
        'attachment; filename="first-session-checklist.md"'
    assert answer.mimetype == "text/markdown"
    assert answer.data.startswith(b"# First session checklist")


def test_completions_show_on_the_tutors_own_endorsement_page(db_session, sign_in):
    tutor, client = _tutor(sign_in)
    complete(tutor, "first-session")
    db.session.commit()
    page = client.get("/my/endorsements").get_data(as_text=True)
    assert "Continuing professional development" in page
    assert f"{queries.cpd_minutes(tutor.id)} minutes recorded from 1 library unit" in page
    assert "Running your first session" in page


def test_the_trusts_central_team_see_the_cpd_on_the_endorsement_and_the_record(
        db_session, sign_in):
    load_test_units()
    trust = make_trust()
    tutor = make_endorsed_tutor(make_school(trust))
    complete(tutor, "first-session")
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    client = _as(sign_in, central, "correct horse battery staple")
    endorsement = endorsement_of(tutor)
    minutes = f"{queries.cpd_minutes(tutor.id)} minutes recorded"
    assert minutes in client.get(f"/endorsements/{endorsement.id}").get_data(as_text=True)
    record = client.get(f"/enrolments/{endorsement.enrolment_id}")
    assert record.status_code == 200 and minutes in record.get_data(as_text=True)


def test_another_trusts_staff_cannot_see_someones_cpd(db_session, sign_in):
    load_test_units()
    tutor = make_endorsed_tutor(make_school(make_trust()))
    complete(tutor, "first-session")
    stranger = make_member(Role.CENTRAL_TEAM, trust=make_trust())
    client = _as(sign_in, stranger, "correct horse battery staple")
    endorsement = endorsement_of(tutor)
    for path in (f"/endorsements/{endorsement.id}", f"/enrolments/{endorsement.enrolment_id}"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "minutes recorded" not in answer.get_data(as_text=True)


def test_completing_units_leaves_the_signed_credential_unchanged(db_session, client):
    load_test_units()
    tutor = make_endorsed_tutor()
    endorsement = endorsement_of(tutor)
    db.session.commit()
    before = client.get(f"/credentials/{endorsement.public_id}.json").get_data()
    stored = endorsement.credential
    complete(tutor, "first-session")
    complete(tutor, "checking-understanding")
    db.session.commit()
    after = client.get(f"/credentials/{endorsement.public_id}.json").get_data()
    assert after == before and db.session.get(type(endorsement), endorsement.id).credential \
        == stored
    assert b"minutes" not in after and b"library" not in after.lower()
