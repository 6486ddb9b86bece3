"""Nominating many tutors from a CSV file."""

import io

import pytest
from sqlalchemy import select

from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.programme.imports import CSV_COLUMNS, check_rows, read_rows
from lms.programme.models import ImportStatus, Nomination, NominationImport
from tests.factories import make_member, make_nomination, make_school

HEADER = ",".join(CSV_COLUMNS)
GOOD = [
    "Sam Patel,sam@school.example,teaching assistant,no,,primary,Reading",
    "Alex Kim,alex@school.example,teacher,yes,1234567,secondary,Maths",
]
BAD = [
    "No Email,,teacher,no,,primary,",                                    # missing email
    "Bad Trn,badtrn@school.example,teacher,yes,12345,primary,",          # bad TRN
    "Odd Phase,phase@school.example,other,no,,nursery,",                 # unknown phase
    "Sam Again,SAM@school.example,other,no,,primary,",                   # duplicate in file
    "Taken,taken@school.example,other,no,,secondary,",                   # already nominated
]


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


@pytest.fixture
def leader(db_session, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    make_nomination(make_school(), email="taken@school.example")
    db_session.commit()
    return school, sign_in(leader)


def _upload(client, school, content: bytes, filename="tutors.csv", **extra):
    return client.post(
        f"/schools/{school.id}/nominations/import",
        data={"file": (io.BytesIO(content), filename), **extra},
        content_type="multipart/form-data",
    )


def _imported(db_session):
    return db_session.scalars(select(Nomination).where(Nomination.import_id.is_not(None))).all()


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(db_session, leader):
    school, client = leader
    response = _upload(client, school, _csv(*GOOD, *BAD))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    report = db_session.scalars(select(NominationImport)).one()
    assert report.status == ImportStatus.INVALID
    reasons = {e["line"]: e["reason"] for e in report.row_errors}
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert "email" in reasons[4]
    assert "7 digits" in reasons[5]
    assert "primary or secondary" in reasons[6]
    assert "also on line 2" in reasons[7]
    assert "already nominated" in reasons[8]
    assert "Nothing has been imported" in page and "7 digits" in page
    assert _imported(db_session) == []


def test_the_leader_can_then_choose_to_import_the_good_rows_only(db_session, leader):
    school, client = leader
    _upload(client, school, _csv(*GOOD, *BAD))
    report = db_session.scalars(select(NominationImport)).one()
    response = client.post(f"/imports/{report.id}/good-rows")
    assert response.status_code == 302
    db_session.expire_all()
    assert report.status == ImportStatus.DONE
    assert report.imported_rows == 2
    assert sorted(n.candidate_email for n in _imported(db_session)) == [
        "alex@school.example", "sam@school.example"]


def test_choosing_good_rows_only_at_upload_imports_them_at_once(db_session, leader):
    school, client = leader
    _upload(client, school, _csv(*GOOD, *BAD), good_rows_only="y")
    report = db_session.scalars(select(NominationImport)).one()
    assert report.status == ImportStatus.DONE and report.imported_rows == 2
    assert len(report.row_errors) == 5


def test_a_clean_file_imports_every_row_with_the_right_pathways(db_session, leader):
    school, client = leader
    _upload(client, school, _csv(*GOOD))
    nominations = {n.candidate_email: n for n in _imported(db_session)}
    assert nominations["sam@school.example"].pathway.value == "primary"
    assert nominations["alex@school.example"].pathway.value == "qts_refresher"
    assert {n.school_id for n in nominations.values()} == {school.id}


def test_a_windows_encoded_file_with_a_bom_or_accents_is_read(db_session, leader):
    school, client = leader
    content = (HEADER + "\nZoë Brontë,zoe@school.example,other,no,,primary,\n").encode("cp1252")
    _upload(client, school, content)
    assert _imported(db_session)[0].candidate_name == "Zoë Brontë"
    assert next(read_rows("\ufeff" + HEADER + "\nA,a@school.example,,no,,primary,\n"))[0] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"first,second\n1,2\n", "missing: name, email, tutoring_phase"),
        (b"\x00\xff\xfe\x00" * 10, "is not CSV text"),
    ],
)
def test_unusable_files_are_refused_at_upload_with_a_clear_message(db_session, leader, content,
                                                                    message):
    school, client = leader
    response = _upload(client, school, content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db_session.scalars(select(NominationImport)).all() == []


def test_the_template_shows_the_columns(db_session, leader):
    school, client = leader
    response = client.get(f"/schools/{school.id}/nominations/template.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines()[0] == HEADER
    _, errors = check_rows(response.get_data(as_text=True))
    assert errors == []


def test_a_leader_cannot_import_into_another_school(db_session, leader):
    _, client = leader
    other = make_school()
    db_session.commit()
    assert _upload(client, other, _csv(*GOOD)).status_code == 404


def test_rows_with_blank_lines_are_skipped_and_line_numbers_stay_true():
    good, errors = check_rows(HEADER + "\n\nSam,sam@school.example,,no,,primary,\n,,,,,,\n"
                              "Bad,,,no,,primary,\n")
    assert [line for line, _ in good] == [3]
    assert errors == [{"line": 5, "reason": "Enter the candidate's email address"}]


def test_a_resumed_import_does_not_duplicate_rows(db_session):
    from lms.programme.imports import run_import

    school = make_school()
    report = NominationImport(school=school, filename="x.csv", content=_csv(*GOOD).decode())
    db_session.add(report)
    db_session.flush()
    run_import(report)
    report.status = ImportStatus.IMPORTING  # as if the job died before marking itself done
    run_import(report)
    assert report.imported_rows == 2
    assert len(_imported(db_session)) == 2


def test_header_problems_raise_a_domain_error():
    with pytest.raises(DomainError, match="email"):
        list(read_rows("name,tutoring_phase\nx,primary\n"))
