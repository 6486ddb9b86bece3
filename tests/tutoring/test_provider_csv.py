"""Providers' offices upload a CSV file of sessions: one row per pupil per session (a
cancelled session is one row), every problem listed by line, nothing saved unless all of it
can be, and the same file uploaded again counts nothing twice."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring.models import LogSource, SessionAttendance, SessionStatus, TutoringSession
from lms.tutoring.provider_logs import CSV_COLUMNS
from tests.factories import make_member, make_provider, make_school
from tests.tutoring_factory import make_cleared_tutor, make_group, make_programme

HEADER = "group_id,held_on,status,minutes_delivered,pupil,attendance,absence_reason,engagement"


@pytest.fixture
def office(db_session, client, sign_in):
    """A provider delivering two groups at a school, and its office signed in."""
    school = make_school()
    provider = make_provider("Bright Futures Tutoring")
    programme = make_programme(school.trust, delivery_model="provider", provider_id=provider.id)
    tutor = make_cleared_tutor(school)
    first = make_group(school, programme=programme, tutor=tutor, name="Year 5 maths")
    second = make_group(school, programme=programme, tutor=tutor, name="Year 6 maths")
    staff = make_member(Role.PROVIDER, provider=provider)
    db.session.commit()
    sign_in(staff)
    return provider, first, second, staff


def _rows(group, day=None, *, minutes="60", second_absent_reason="ill"):
    day = day or clock.today().isoformat()
    one, two = group.current_places
    return [f"{group.id},{day},delivered,{minutes},{one.pupil.pseudonym},present,,5",
            f"{group.id},{day},delivered,{minutes},{two.pupil.pseudonym},absent,"
            f"{second_absent_reason},"]


def _file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _upload(client, provider, raw, name="sessions.csv", **kwargs):
    return client.post(f"/providers/{provider.id}/sessions", data={
        "file": (io.BytesIO(raw), name)}, content_type="multipart/form-data", **kwargs)


def _sessions() -> int:
    return db.session.scalar(select(func.count(TutoringSession.id)))


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_the_page_has_the_form_the_template_and_the_groups_by_pseudonym(client, office):
    provider, first, second, _ = office
    page = client.get(f"/providers/{provider.id}/sessions")
    text = _page(page)
    assert page.status_code == 200 and 'name="csrf_token"' in text
    assert f"/providers/{provider.id}/sessions/template.csv" in text
    assert all(p.pupil.pseudonym in text for g in (first, second) for p in g.current_places)
    assert not any(p.pupil.display_name in text for g in (first, second)
                   for p in g.current_places)
    assert "No files uploaded yet." in text


def test_the_template_names_every_column_with_examples(client, office):
    provider, *_ = office
    response = client.get(f"/providers/{provider.id}/sessions/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *examples = list(csv.reader(io.StringIO(_page(response))))
    assert header == CSV_COLUMNS
    assert {row[2] for row in examples} == {"delivered", "cancelled"}


def test_an_upload_logs_each_session_once_with_its_pupils(client, office):
    provider, first, second, staff = office
    cancelled = f"{second.id},{clock.today()},cancelled,,,,,"
    header = HEADER + ",cancel_reason,notice_hours"
    raw = _file(*[r + ",," for r in _rows(first)], cancelled + ",tutor_absent,4", header=header)
    response = _upload(client, provider, raw, name="../../week 49.csv")
    text = _page(response)
    assert response.status_code == 200, text
    assert "week 49.csv: 2 sessions logged" in text and "../" not in text
    logged = {s.group_id: s for s in db.session.scalars(select(TutoringSession))}
    assert logged[first.id].status == SessionStatus.DELIVERED
    assert sorted(a.minutes for a in logged[first.id].attendance) == [0, 60]
    assert (logged[second.id].status, logged[second.id].notice_hours) == (
        SessionStatus.CANCELLED, 4)
    assert {(s.source, s.provider_id, s.logged_by_id) for s in logged.values()} == {
        (LogSource.PROVIDER_CSV, provider.id, staff.id)}
    page = _page(client.get(f"/providers/{provider.id}/sessions"))
    assert f"{staff.name}: 2 sessions logged" in page and "Provider CSV upload" in page


def test_uploading_the_same_file_again_counts_nothing_twice(client, office):
    provider, first, second, _ = office
    raw = _file(*_rows(first), *_rows(second))
    assert "2 sessions logged" in _page(_upload(client, provider, raw))
    again = _upload(client, provider, raw)
    assert again.status_code == 200
    assert "0 sessions logged; 2 already logged" in _page(again)
    # The same file with a week's new sessions added: only those are new.
    last_week = (clock.today().fromordinal(clock.today().toordinal() - 7)).isoformat()
    longer = _file(*_rows(first), *_rows(second), *_rows(first, last_week))
    assert "1 session logged; 2 already logged" in _page(_upload(client, provider, longer))
    assert _sessions() == 3
    assert db.session.scalar(select(func.sum(SessionAttendance.minutes))) == 180


def test_a_file_with_any_bad_session_saves_nothing_and_lists_each_problem_by_line(
        client, office):
    provider, first, second, _ = office
    raw = _file(*_rows(second),                                    # lines 2-3: fine
                *_rows(first, second_absent_reason=""),           # lines 4-5: no reason
                f"{first.id},01/12/2026,delivered,60,P-0,present,,",  # line 6: not a date
                f"{first.id},2026-12-01,delivered,sixty,P-0,present,,",  # line 7
                f"999999,{clock.today()},delivered,60,P-0,present,,")  # line 8: not theirs
    response = _upload(client, provider, raw)
    text = _page(response)
    assert response.status_code == 400 and "Nothing was saved" in text
    assert "4 sessions need fixing" in text
    assert "Lines 4-5" in text and f"Say why {first.current_places[1].pupil.pseudonym}" in text
    assert "Line 6" in text and "held_on" in text
    assert "Line 7" in text and "minutes_delivered must be a whole number" in text
    assert "Line 8" in text and "delivers no group 999999" in text
    assert "Lines 2-3" not in text
    assert not any(p.pupil.display_name in text for p in first.current_places)
    assert _sessions() == 0 and "No files uploaded yet." in text


def test_a_pupil_left_out_or_rows_that_disagree_are_problems(client, office):
    provider, first, _, _ = office
    one, two = _rows(first)
    response = _upload(client, provider, _file(one))
    assert response.status_code == 400
    assert f"not marked: {first.current_places[1].pupil.pseudonym}" in _page(response)
    response = _upload(client, provider, _file(one, two.replace(",60,", ",45,")))
    assert "differ in minutes_delivered" in _page(response)
    assert _sessions() == 0


def test_a_session_changed_since_it_was_uploaded_is_not_changed_by_uploading_it_again(
        client, office):
    provider, first, second, _ = office
    assert _upload(client, provider, _file(*_rows(first))).status_code == 200
    response = _upload(client, provider, _file(*_rows(first, minutes="45"), *_rows(second)))
    text = _page(response)
    assert response.status_code == 400 and "logged from an earlier file with other details" in text
    assert _sessions() == 1
    assert db.session.scalars(select(TutoringSession)).one().minutes_delivered == 60


def test_a_session_whose_tutor_is_suspended_is_a_problem(client, office):
    provider, first, _, _ = office
    endorsement = db.session.scalars(select(Endorsement).where(
        Endorsement.user_id == first.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Under review", actor=None)
    db.session.commit()
    response = _upload(client, provider, _file(*_rows(first)))
    assert response.status_code == 400 and "cannot tutor here now" in _page(response)
    assert _sessions() == 0


@pytest.mark.parametrize("raw, said", [
    (b"PK\x03\x04rest of a workbook", "Excel workbook"),
    (b"name,day\nx,y\n", "missing: group_id, held_on, status"),
    (HEADER.encode() + b"\n", "no sessions in it"),
])
def test_a_file_that_is_not_a_sessions_csv_is_refused_on_the_form(client, office, raw, said):
    provider, *_ = office
    response = _upload(client, provider, raw)
    assert response.status_code == 400 and said in _page(response)


def test_the_form_needs_its_csrf_token(client, office):
    provider, first, _, _ = office
    response = _upload(client, provider, _file(*_rows(first)), csrf=False)
    assert response.status_code == 400 and _sessions() == 0


def test_only_the_providers_own_staff_see_or_upload(client, sign_in, office):
    provider, first, _, _ = office
    outsider = make_member(Role.PROVIDER, provider=make_provider())
    school_staff = make_member(Role.TUTORING_LEAD, school=first.school)
    db.session.commit()
    for person in (outsider, school_staff):
        client.post("/sign-out")
        sign_in(person)
        for response in (client.get(f"/providers/{provider.id}/sessions"),
                         client.get(f"/providers/{provider.id}/sessions/template.csv"),
                         _upload(client, provider, _file(*_rows(first)))):
            assert response.status_code in (403, 404), response.request.path
    client.post("/sign-out")
    assert client.get(f"/providers/{provider.id}/sessions").status_code in (302, 401)
    assert _sessions() == 0
