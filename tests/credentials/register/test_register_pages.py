"""The approved-tutor register's pages: recording DBS checks, status checks, risk decisions and
training through the forms; the register list, its filters and exports; who sees which
entries; provider access; checks due; finding a certificate by its number."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update

from credentials.endorsements.models import Endorsement
from credentials.providers import services as providers
from credentials.register import derivation
from credentials.register import services as register
from credentials.register.access import grant_provider_access, withdraw_provider_access
from credentials.register.models import (
    DbsCheck,
    DbsStatusCheck,
    ProviderAccess,
    RegisterEntry,
    RegisterStatus,
    RiskDecision,
    SafeguardingTraining,
)
from credentials.register.queries import register_scope
from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.organisations.models import Cluster, School, Trust
from lms.platform import clock
from lms.platform.authz import Action, can
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from tests import downloads
from tests.factories import (
    make_cluster,
    make_endorsement,
    make_member,
    make_provider,
    make_school,
    make_trust,
    make_user,
)
from tests.statements import statements_run

NUMBER = "246813579024"
MASKED = "\u2022" * 8 + "9024"


@dataclass
class World:
    trust: Trust
    north: Cluster
    south: Cluster
    oak: School
    elm: School
    central: User
    trustee: User
    lead: User
    head: User


@pytest.fixture
def world(db_session) -> World:
    trust = make_trust("Larkfield Learning Trust")
    north, south = make_cluster(trust, "North Hub"), make_cluster(trust, "South Hub")
    oak = make_school(trust, cluster=north, name="Oak Primary")
    elm = make_school(trust, cluster=south, name="Elm Academy")
    world = World(
        trust, north, south, oak, elm,
        central=make_member(Role.CENTRAL_TEAM, trust=trust, name="Cara Central"),
        trustee=make_member(Role.TRUSTEE, trust=trust, name="Tom Trustee"),
        lead=make_member(Role.CLUSTER_LEAD, cluster=north, name="Lena Lead"),
        head=make_member(Role.SCHOOL_LEADER, school=oak, name="Hari Head"))
    db_session.commit()
    return world


def _tutor(school: School, name: str, *, phase: str = "primary", subject: str = "Reading",
           qts: bool = False) -> User:
    """An endorsed tutor, on the trust's register for ``school`` (pending) as issuing does."""
    slug = "".join(ch for ch in name.lower() if ch.isalnum())
    overrides = {"name": name, "email": f"{slug}@tutors.example", "tutoring_phase": phase,
                 "subject_focus": subject}
    if qts:
        overrides.update(holds_qts="yes", trn="1234567")
    endorsement = make_endorsement(school, **overrides)
    db.session.commit()
    return endorsement.user


def _days(n: int) -> date:
    return clock.today() - timedelta(days=n)


def _check(person: User, trust: Trust, *, issued_days_ago: int = 30, number: str = NUMBER,
           **kwargs) -> DbsCheck:
    fields = {"level": "enhanced_barred", "workforce": "child", "barred_lists": ["children"],
              "original_seen_by": "Priya Patel", "update_service": False,
              "showed_information": False}
    fields.update(kwargs)
    check = register.record_dbs_check(
        person, trust, certificate_number=number, issued_on=_days(issued_days_ago),
        original_seen_on=_days(issued_days_ago), **fields)
    db.session.commit()
    return check


def _train(person: User, trust: Trust, days_ago: int = 10) -> None:
    register.record_training(person, trust, completed_on=_days(days_ago))
    db.session.commit()


def _entry(trust: Trust, person: User) -> RegisterEntry:
    db.session.expire_all()
    return db.session.scalars(select(RegisterEntry).where(
        RegisterEntry.trust_id == trust.id, RegisterEntry.user_id == person.id)).one()


def _page(trust: Trust, person: User) -> str:
    return f"/trusts/{trust.id}/people/{person.id}/safeguarding"


def _dbs_form(**changes) -> dict:
    data = {"dbs-certificate_number": NUMBER, "dbs-issued_on": _days(30).isoformat(),
            "dbs-level": "enhanced_barred", "dbs-workforce": "child",
            "dbs-barred_lists": ["children"], "dbs-original_seen_by": "Priya Patel",
            "dbs-original_seen_on": _days(20).isoformat(), "dbs-update_service": "no",
            "dbs-showed_information": "no"}
    data.update(changes)
    return data


def _by_name(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    headings = rows[0]
    return {row[0]: dict(zip(headings, row, strict=True)) for row in rows[1:]}



# --- recording a DBS check -------------------------------------------------------------------


def test_a_dbs_check_recorded_through_the_form_is_shown_masked_and_stored_encrypted(
        client, db_session, sign_in, world, caplog):
    caplog.set_level("DEBUG")
    tutor = _tutor(world.oak, "Nia Reader")
    sign_in(world.central)
    page = _page(world.trust, tutor)
    assert "has no DBS check recorded" in client.get(page).get_data(as_text=True)

    done = client.post(f"{page[:-len('/safeguarding')]}/dbs-checks",
                       data=_dbs_form(**{"dbs-update_service": "yes"}))
    assert done.status_code == 302, done.get_data(as_text=True)
    assert NUMBER not in done.headers["Location"]
    check = db_session.scalars(select(DbsCheck)).one()
    assert (check.issued_on, check.update_service, check.barred_lists, check.original_seen_by) \
        == (_days(30), True, ["children"], "Priya Patel")
    assert check.recorded_by_id == world.central.id
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert MASKED in shown and NUMBER not in shown and "Enhanced with barred list checks" in shown
    assert "Record an Update Service status check" in shown

    raw = db_session.execute(text(
        "SELECT certificate_number_encrypted, certificate_number_lookup FROM dbs_checks")).one()
    assert NUMBER.encode() not in bytes(raw[0]) and NUMBER not in raw[1]
    assert register.certificate_number(check) == NUMBER
    logged = db_session.scalars(select(AuditEntry.changes)).all()
    assert NUMBER not in repr(logged)

    csv_rows = _by_name(downloads.csv_rows(client.get(f"/trusts/{world.trust.id}/register.csv")))
    assert csv_rows["Nia Reader"]["DBS certificate"] == MASKED
    assert csv_rows["Nia Reader"]["DBS issued"] == _days(30).isoformat()
    xlsx = client.get(f"/trusts/{world.trust.id}/register.xlsx")
    assert NUMBER.encode() not in xlsx.get_data()
    assert _by_name(downloads.xlsx_rows(xlsx))["Nia Reader"]["DBS certificate"] == MASKED
    for url in (f"/trusts/{world.trust.id}/register", f"/trusts/{world.trust.id}/register/due"):
        assert NUMBER not in client.get(url).get_data(as_text=True)
    assert caplog.records and NUMBER not in caplog.text


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"dbs-certificate_number": "24681357902"}, "certificate_number",
     "Enter the 12-digit certificate number"),
    ({"dbs-issued_on": (date.today() + timedelta(days=3)).isoformat()}, "issued_on",
     "The issue date cannot be in the future"),
    ({"dbs-level": "basic"}, "level", "does not cover regulated work with children"),
    ({"dbs-issued_on": "31/02/2025"}, "issued_on", "Date of issue must be a real date"),
    ({"dbs-workforce": ""}, "workforce", "Choose the workforce the check was for"),
    ({"dbs-original_seen_by": ""}, "original_seen_by", "Enter the name of the person who saw"),
    ({"dbs-original_seen_on": _days(40).isoformat()}, "original_seen_on",
     "seen on or after its issue date"),
])
def test_wrong_dbs_input_is_refused_on_its_field_and_nothing_is_saved(
        client, db_session, sign_in, world, changes, field, message):
    tutor = _tutor(world.oak, "Nia Reader")
    sign_in(world.head)
    refused = client.post(_page(world.trust, tutor).replace("safeguarding", "dbs-checks"),
                          data=_dbs_form(**changes))
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "There is a problem" in body and f'href="#dbs-{field}"' in body
    assert message in body.split(f'id="dbs-{field}-error"', 1)[1].split("</p>", 1)[0]
    assert db_session.scalars(select(DbsCheck)).all() == []
    typed = changes.get("dbs-certificate_number", NUMBER)
    assert typed not in body, "the number typed is never sent back"


def test_a_status_check_and_a_risk_decision_change_the_entry(client, db_session, sign_in,
                                                             world):
    tutor = _tutor(world.oak, "Nia Reader")
    _train(tutor, world.trust)
    check = _check(tutor, world.trust, update_service=True, showed_information=True)
    entry = _entry(world.trust, tutor)
    assert entry.status == RegisterStatus.PENDING
    assert any("risk decision is needed" in r for r in entry.reasons)
    sign_in(world.head)
    base = f"/trusts/{world.trust.id}/people/{tutor.id}/dbs-checks/{check.id}"

    future = client.post(f"{base}/risk-decision", data={
        "risk-decision": "suitable", "risk-decided_on": (date.today() + timedelta(days=2))
        .isoformat(), "risk-decided_by": "Dee Safeguarding"})
    assert future.status_code == 400 and 'href="#risk-decided_on"' in future.get_data(
        as_text=True)
    decided = client.post(f"{base}/risk-decision", data={
        "risk-decision": "suitable", "risk-decided_on": _days(5).isoformat(),
        "risk-decided_by": "Dee Safeguarding"})
    assert decided.status_code == 302
    db_session.expire_all()
    assert (check.risk_decision, check.risk_decision_by) == (RiskDecision.SUITABLE,
                                                             "Dee Safeguarding")
    assert _entry(world.trust, tutor).status == RegisterStatus.APPROVED
    shown = client.get(_page(world.trust, tutor)).get_data(as_text=True)
    assert "Suitable to work with children" in shown and "Dee Safeguarding" in shown

    missing = client.post(f"{base}/status-checks", data={"status-checked_on": ""})
    body = missing.get_data(as_text=True)
    assert missing.status_code == 400
    assert "Enter the date of the status check" in body and "Choose the result" in body
    checked = client.post(f"{base}/status-checks", data={
        "status-checked_on": _days(1).isoformat(), "status-result": "new_information"})
    assert checked.status_code == 302
    status_check = db_session.scalars(select(DbsStatusCheck)).one()
    assert status_check.checked_by_id == world.head.id
    entry = _entry(world.trust, tutor)
    assert entry.status == RegisterStatus.SUSPENDED
    assert any("found new information" in r for r in entry.reasons)
    shown = client.get(_page(world.trust, tutor)).get_data(as_text=True)
    assert "New information" in shown and "Hari Head" in shown


def test_a_status_check_is_refused_for_a_certificate_not_on_the_update_service(
        client, db_session, sign_in, world):
    tutor = _tutor(world.oak, "Nia Reader")
    check = _check(tutor, world.trust, update_service=False)
    sign_in(world.central)
    refused = client.post(
        f"/trusts/{world.trust.id}/people/{tutor.id}/dbs-checks/{check.id}/status-checks",
        data={"status-checked_on": _days(1).isoformat(),
              "status-result": "no_new_information"})
    assert refused.status_code == 400
    assert "does not subscribe to the DBS Update Service" in refused.get_data(as_text=True)
    assert db_session.scalars(select(DbsStatusCheck)).all() == []


def test_training_is_recorded_and_with_a_check_approves_the_tutor(client, db_session, sign_in,
                                                                  world):
    tutor = _tutor(world.oak, "Nia Reader")
    _check(tutor, world.trust)
    sign_in(world.head)
    url = _page(world.trust, tutor).replace("safeguarding", "training")
    future = client.post(url, data={"training-completed_on": (date.today() + timedelta(days=1))
                                    .isoformat()})
    assert future.status_code == 400
    assert "The training date cannot be in the future" in future.get_data(as_text=True)
    assert db_session.scalars(select(SafeguardingTraining)).all() == []
    done = client.post(url, data={"training-completed_on": _days(3).isoformat(),
                                  "training-course": "Level 1 safeguarding"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#training")
    training = db_session.scalars(select(SafeguardingTraining)).one()
    assert (training.course, training.school_id) == ("Level 1 safeguarding", world.oak.id)
    assert _entry(world.trust, tutor).status == RegisterStatus.APPROVED
    assert "Level 1 safeguarding" in client.get(_page(world.trust, tutor)).get_data(as_text=True)


# --- the register entry ---------------------------------------------------------------------


def test_the_central_team_changes_schools_removes_and_adds_back(client, db_session, sign_in,
                                                                world):
    tutor = _tutor(world.oak, "Nia Reader")
    sign_in(world.central)
    url = _page(world.trust, tutor).replace("safeguarding", "register-entry")
    assert [s.id for s in _entry(world.trust, tutor).schools] == [world.oak.id]

    none = client.post(url, data={})
    assert none.status_code == 400
    assert "Choose at least one school" in none.get_data(as_text=True)
    other = make_school(make_trust("Other Trust"), name="Stranger School")
    db_session.commit()
    foreign = client.post(url, data={"entry-school_ids": [str(world.oak.id), str(other.id)]})
    assert foreign.status_code == 400
    assert "Only this trust's schools" in html.unescape(foreign.get_data(as_text=True))
    both = client.post(url, data={"entry-school_ids": [str(world.oak.id), str(world.elm.id)]})
    assert both.status_code == 302
    assert {s.id for s in _entry(world.trust, tutor).schools} == {world.oak.id, world.elm.id}

    remove = f"{url}/remove"
    reasonless = client.post(remove, data={"remove-reason": ""})
    assert reasonless.status_code == 400
    assert "Give a reason for removing the tutor" in reasonless.get_data(as_text=True)
    assert client.post(remove, data={"remove-reason": "Left the trust"}).status_code == 302
    entry = _entry(world.trust, tutor)
    assert entry.status == RegisterStatus.REMOVED and entry.removed_reason == "Left the trust"
    shown = client.get(_page(world.trust, tutor)).get_data(as_text=True)
    assert "Left the trust" in shown and "Add back to the register" in shown

    back = client.post(url, data={"entry-school_ids": [str(world.elm.id)]})
    assert back.status_code == 302
    entry = _entry(world.trust, tutor)
    assert entry.status == RegisterStatus.PENDING and entry.removed_at is None
    assert [s.id for s in entry.schools] == [world.elm.id]


def test_a_tutor_who_moves_trust_keeps_the_endorsement_and_the_new_trust_keeps_its_records(
        client, db_session, sign_in, world):
    tutor = _tutor(world.oak, "Nia Reader")
    _check(tutor, world.trust, number="111122223333")
    _train(tutor, world.trust)
    new_trust = make_trust("Riverside Trust")
    birch = make_school(new_trust, name="Birch Primary")
    new_central = make_member(Role.CENTRAL_TEAM, trust=new_trust, name="Nate Newtrust")
    stranger = make_user(name="Sam Stranger")
    db_session.commit()
    sign_in(new_central)
    page = _page(new_trust, tutor)
    shown = client.get(page).get_data(as_text=True)
    assert "Primary, Primary" in shown and "Valid" in shown, "the endorsement goes with them"
    assert "has no DBS check recorded" in shown and "3333" not in shown
    assert client.get(_page(new_trust, stranger)).status_code == 404

    assert client.post(page.replace("safeguarding", "dbs-checks"),
                       data=_dbs_form()).status_code == 302
    assert client.post(page.replace("safeguarding", "training"), data={
        "training-completed_on": _days(2).isoformat()}).status_code == 302
    assert client.post(page.replace("safeguarding", "register-entry"), data={
        "entry-school_ids": [str(birch.id)]}).status_code == 302
    moved = _entry(new_trust, tutor)
    assert moved.status == RegisterStatus.APPROVED and [s.name for s in moved.schools] == [
        "Birch Primary"]
    assert _entry(world.trust, tutor).status == RegisterStatus.APPROVED
    assert sorted(db_session.scalars(select(DbsCheck.trust_id))) == sorted(
        [world.trust.id, new_trust.id]), "each trust keeps its own record"
    listed = client.get(f"/trusts/{new_trust.id}/register").get_data(as_text=True)
    assert "Nia Reader" in listed and "Birch Primary" in listed


# --- the list, its filters and counts ---------------------------------------------------------


@pytest.fixture
def listed(db_session, world) -> dict[str, User]:
    """Four tutors that differ in every way the register filters by."""
    people = {
        "ada": _tutor(world.oak, "Ada Approved", subject="Early reading"),
        "ben": _tutor(world.elm, "Ben Pending", phase="secondary", subject="GCSE maths"),
        "cat": _tutor(world.oak, "Cat Refresher", qts=True, subject="Maths"),
        "dev": _tutor(world.elm, "Dev Duesoon", phase="secondary", subject="Science"),
    }
    _check(people["ada"], world.trust)
    _train(people["ada"], world.trust, days_ago=100)
    _check(people["dev"], world.trust)
    _train(people["dev"], world.trust, days_ago=345)
    _check(people["cat"], world.trust)
    _train(people["cat"], world.trust, days_ago=320)
    return people


def _names(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    rows = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    names = {"Ada Approved", "Ben Pending", "Cat Refresher", "Dev Duesoon",
             '=HYPERLINK("x")', "Eve Elsewhere"}
    return {name for name in names if f">{name}</a>" in rows.replace("&#34;", '"')
            .replace("&quot;", '"')}


def test_each_filter_narrows_the_register(client, db_session, sign_in, world, listed):
    sign_in(world.central)
    base = f"/trusts/{world.trust.id}/register"
    everyone = {"Ada Approved", "Ben Pending", "Cat Refresher", "Dev Duesoon"}
    assert _names(client, base) == everyone
    assert _entry(world.trust, listed["ada"]).status == RegisterStatus.APPROVED
    # Something lapsed before the nightly sweep ran: its due date is in the past.
    db_session.execute(update(RegisterEntry).where(RegisterEntry.user_id == listed["ben"].id)
                       .values(next_due_on=_days(1)))
    db_session.commit()
    expected = {
        f"school={world.oak.id}": {"Ada Approved", "Cat Refresher"},
        f"cluster={world.south.id}": {"Ben Pending", "Dev Duesoon"},
        "pathway=secondary": {"Ben Pending", "Dev Duesoon"},
        "pathway=qts_refresher": {"Cat Refresher"},
        "phase=primary": {"Ada Approved", "Cat Refresher"},
        "subject=MATHS": {"Ben Pending", "Cat Refresher"},
        "status=approved": {"Ada Approved", "Cat Refresher", "Dev Duesoon"},
        "status=pending": {"Ben Pending"},
        "due=overdue": {"Ben Pending"},
        "due=30": {"Dev Duesoon"},
        "due=60": {"Dev Duesoon", "Cat Refresher"},
        "q=ada": {"Ada Approved"},
        "q=benpending@": {"Ben Pending"},
        f"school={world.elm.id}&status=approved": {"Dev Duesoon"},
        "subject=%25": set(),
    }
    for query, names in expected.items():
        assert _names(client, f"{base}?{query}") == names, query
    counts = client.get(f"{base}?status=approved").get_data(as_text=True)
    assert "Approved: 3" in counts and "Pending: 1" in counts and "Suspended: 0" in counts
    wrong = client.get(f"{base}?school=999999")
    assert wrong.status_code == 400 and "Choose a school from the list" in wrong.get_data(
        as_text=True)
    filtered = _by_name(downloads.csv_rows(client.get(f"{base}.csv?pathway=secondary")))
    assert set(filtered) == {"Ben Pending", "Dev Duesoon"}


def test_the_register_is_paged_a_hundred_at_a_time(client, db_session, sign_in, world):
    people = [make_user(name=f"Tutor {n:03d}") for n in range(105)]
    for person in people:
        register.add_to_register(world.trust, person, schools=[world.oak])
    db_session.commit()
    sign_in(world.central)
    first = client.get(f"/trusts/{world.trust.id}/register?status=pending")
    body = first.get_data(as_text=True)
    assert "105 tutors" in body and "page 1 of 2" in body and "Tutor 099" in body
    assert "Tutor 100" not in body and "status=pending" in body.split('rel="next"')[0][-200:]
    second = client.get(f"/trusts/{world.trust.id}/register?status=pending&page=2")
    assert "Tutor 104" in second.get_data(as_text=True)


def test_the_register_reads_a_fixed_number_of_queries_however_many_rows(
        client, db_session, sign_in, world, listed):
    sign_in(world.central)
    counts = []
    for extra in (1, 12):
        for _ in range(extra):
            person = make_user()
            register.add_to_register(world.trust, person, schools=[world.oak, world.elm])
            _check(person, world.trust)
            _train(person, world.trust)
        db_session.commit()
        measured = []
        for url in (f"/trusts/{world.trust.id}/register",
                    f"/trusts/{world.trust.id}/register.csv",
                    f"/trusts/{world.trust.id}/register.xlsx"):
            db_session.expire_all()
            with statements_run() as statements:
                assert client.get(url).status_code == 200
            measured.append(len(statements))
        counts.append(measured)
    assert counts[0] == counts[1], counts


# --- exports ----------------------------------------------------------------------------------


def test_the_exports_carry_every_column_and_neutralise_formulas(client, db_session, sign_in,
                                                                 world, listed):
    sneaky = _tutor(world.oak, '=HYPERLINK("x")', subject="@SUM(1)")
    _check(sneaky, world.trust, number="999988887777")
    sign_in(world.central)
    csv_rows = downloads.csv_rows(client.get(f"/trusts/{world.trust.id}/register.csv"))
    assert csv_rows[0] == [
        "Name", "Email", "Status", "Reasons", "Since", "Schools", "Pathway", "Phase", "Subject",
        "Endorsement status", "Endorsement valid until", "DBS certificate", "DBS issued",
        "DBS due", "Safeguarding training completed", "Safeguarding training due"]
    xlsx_rows = downloads.xlsx_rows(client.get(f"/trusts/{world.trust.id}/register.xlsx"))
    assert xlsx_rows == csv_rows
    rows = _by_name(csv_rows)
    assert set(rows) == {"'=HYPERLINK(\"x\")", "Ada Approved", "Ben Pending", "Cat Refresher",
                         "Dev Duesoon"}
    sneaky_row = rows["'=HYPERLINK(\"x\")"]
    assert sneaky_row["Subject"] == "'@SUM(1)"
    assert sneaky_row["DBS certificate"] == "\u2022" * 8 + "7777"
    assert sneaky_row["Status"] == "Pending"
    assert "No safeguarding training recorded" in sneaky_row["Reasons"]
    ada = rows["Ada Approved"]
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == listed["ada"].id)).one()
    assert ada == {
        "Name": "Ada Approved", "Email": "adaapproved@tutors.example", "Status": "Approved",
        "Reasons": "", "Since": clock.today().isoformat(), "Schools": "Oak Primary",
        "Pathway": "Primary", "Phase": "Primary", "Subject": "Early reading",
        "Endorsement status": "Valid",
        "Endorsement valid until": clock.today(endorsement.valid_until).isoformat(),
        "DBS certificate": MASKED, "DBS issued": _days(30).isoformat(),
        "DBS due": derivation.add_months(_days(30), 36).isoformat(),
        "Safeguarding training completed": _days(100).isoformat(),
        "Safeguarding training due": derivation.add_months(_days(100), 12).isoformat()}
    assert rows["Cat Refresher"]["Pathway"] == "QTS refresher"
    for row in csv_rows + xlsx_rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_the_exports_run_for_a_trust_and_filters_without_anyone_signed_in(db_session, world,
                                                                         listed):
    """As jobs and benchmarks call them: the whole register, or filtered by field name."""
    from credentials.register.exports import register_csv, register_xlsx

    text_ = "".join(register_csv(world.trust, {}))
    names = {row[0] for row in list(csv.reader(io.StringIO(text_.lstrip("\ufeff"))))[1:]}
    assert names == {"Ada Approved", "Ben Pending", "Cat Refresher", "Dev Duesoon"}
    out = io.BytesIO()
    register_xlsx(world.trust, {"school_id": world.oak.id}, out)
    assert out.tell() > 0
    assert {row[0] for row in downloads.workbook_rows(out.getvalue())[1:]} == {"Ada Approved",
                                                                  "Cat Refresher"}
    pending = "".join(register_csv(world.trust, {"status": RegisterStatus.PENDING}))
    assert "Ben Pending" in pending and "Ada Approved" not in pending


@pytest.mark.parametrize("value", ["=1+1", "+44 1234", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_gets_an_apostrophe(value):
    from lms.platform.spreadsheets import cell_text

    assert cell_text(value) == "'" + value
    assert cell_text("Plain " + value) == "Plain " + value


# --- who sees which entries -------------------------------------------------------------------


def test_each_role_sees_only_its_part_of_the_register(client, db_session, sign_in, world,
                                                      listed):
    base = f"/trusts/{world.trust.id}/register"
    other = make_member(Role.CENTRAL_TEAM, trust=make_trust("Far Away Trust"))
    db_session.commit()
    expectations = {
        world.central: {"Ada Approved", "Ben Pending", "Cat Refresher", "Dev Duesoon"},
        world.trustee: {"Ada Approved", "Ben Pending", "Cat Refresher", "Dev Duesoon"},
        world.lead: {"Ada Approved", "Cat Refresher"},
        world.head: {"Ada Approved", "Cat Refresher"},
    }
    for person, names in expectations.items():
        client.post("/sign-out")
        sign_in(person)
        assert _names(client, base) == names, person.name
        exported = {row[0] for row in downloads.csv_rows(client.get(f"{base}.csv"))[1:]}
        assert exported == names, person.name
    client.post("/sign-out")
    sign_in(other)
    for url in (base, f"{base}.csv", f"{base}.xlsx", f"{base}/due", f"{base}/settings",
                _page(world.trust, listed["ada"])):
        assert client.get(url).status_code == 404, url


def test_school_leaders_keep_records_only_for_their_schools(client, db_session, sign_in, world,
                                                            listed):
    sign_in(world.head)
    assert client.get(_page(world.trust, listed["ada"])).status_code == 200
    assert client.get(_page(world.trust, listed["ben"])).status_code == 404
    refused = client.post(_page(world.trust, listed["ben"]).replace("safeguarding", "training"),
                          data={"training-completed_on": _days(1).isoformat()})
    assert refused.status_code == 404
    add = client.post(_page(world.trust, listed["ada"]).replace("safeguarding",
                                                                "register-entry"),
                      data={"entry-school_ids": [str(world.oak.id)]})
    assert add.status_code == 403, "only the central team changes the register"
    assert client.get(f"/trusts/{world.trust.id}/register/settings").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert f"/trusts/{world.trust.id}/register?school={world.oak.id}" in home


def test_a_trustee_sees_the_register_and_records_but_changes_nothing(client, db_session,
                                                                     sign_in, world, listed):
    sign_in(world.trustee)
    ada = _page(world.trust, listed["ada"])
    shown = client.get(ada).get_data(as_text=True)
    assert MASKED in shown and "Record a DBS check" not in shown
    assert "Remove from the register" not in shown
    before = db_session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    refused = {
        ada.replace("safeguarding", "dbs-checks"): _dbs_form(),
        ada.replace("safeguarding", "training"): {"training-completed_on": _days(1).isoformat()},
        ada.replace("safeguarding", "register-entry"): {"entry-school_ids": str(world.elm.id)},
        ada.replace("safeguarding", "register-entry/remove"): {"remove-reason": "x"},
        f"/trusts/{world.trust.id}/register/settings": {
            "dbs_renewal": "certificate", "certificate_years": "1", "status_check_months": "1",
            "training_months": "1"},
        f"/trusts/{world.trust.id}/register/find-certificate": {"certificate_number": NUMBER},
    }
    for url, data in refused.items():
        assert client.post(url, data=data).status_code == 403, url
    assert client.get(f"/trusts/{world.trust.id}/register/settings").status_code == 403
    assert db_session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) == before


def test_the_list_and_the_entry_policy_agree(db_session, world, listed):
    """``register_scope`` (for lists) and the RegisterEntry policy (for one entry) must say
    the same about every staff member."""
    from credentials.register.queries import RegisterFilters, register_page

    entries = db_session.scalars(select(RegisterEntry)).all()
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    for person in (world.central, world.trustee, world.lead, world.head, admin):
        scope = register_scope(person, world.trust)
        listed_ids = {row.entry.id for row in register_page(
            scope, RegisterFilters(), clock.today()).rows}
        allowed = {e.id for e in entries if can(person, Action.VIEW, e)}
        assert listed_ids == allowed, person.name


# --- checks due, settings, provider access, finding a certificate -----------------------------


def test_checks_due_are_listed_with_a_link_to_the_person(client, db_session, sign_in, world,
                                                         listed):
    overdue = _tutor(world.oak, "Olly Overdue")
    _check(overdue, world.trust, issued_days_ago=3 * 366)
    _train(overdue, world.trust)
    sign_in(world.central)
    body = client.get(f"/trusts/{world.trust.id}/register/due").get_data(as_text=True)
    rows = body.split("<tbody>", 1)[1]
    assert "Dev Duesoon" in rows and "Olly Overdue" in rows and "Ada Approved" not in rows
    assert "Overdue" in rows and "Due soon" in rows
    assert _page(world.trust, overdue) in rows
    assert rows.index("Olly Overdue") < rows.index("Dev Duesoon"), "most urgent first"
    client.post("/sign-out")
    sign_in(world.head)
    rows = client.get(f"/trusts/{world.trust.id}/register/due").get_data(as_text=True)
    assert "Olly Overdue" in rows and "Dev Duesoon" not in rows, "only their school's"


def test_the_central_team_sets_the_renewal_policy(client, db_session, sign_in, world, listed):
    sign_in(world.central)
    url = f"/trusts/{world.trust.id}/register/settings"
    page = client.get(url).get_data(as_text=True)
    assert 'value="3"' in page and "Renewal policy" in page
    wrong = client.post(url, data={"dbs_renewal": "update_service", "certificate_years": "9",
                                   "status_check_months": "6", "training_months": "x"})
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert "Months between safeguarding training must be a whole number" in body
    wrong = client.post(url, data={"dbs_renewal": "update_service", "certificate_years": "9",
                                   "status_check_months": "6", "training_months": "12"})
    assert wrong.status_code == 400 and 'href="#certificate_years"' in wrong.get_data(
        as_text=True)
    assert "Choose between 1 and 5" in wrong.get_data(as_text=True)
    done = client.post(url, data={"dbs_renewal": "certificate", "certificate_years": "3",
                                  "status_check_months": "12", "training_months": "6"})
    assert done.status_code == 302
    assert register.policy_for(world.trust).training_months == 6
    # Ada trained 100 days ago: under a six-month policy that is still in date; Dev's lapsed.
    assert _entry(world.trust, listed["ada"]).status == RegisterStatus.APPROVED
    assert _entry(world.trust, listed["dev"]).status == RegisterStatus.SUSPENDED


def test_provider_access_is_granted_and_withdrawn_and_the_api_follows(client, db_session,
                                                                      sign_in, world, listed):
    provider = make_provider("Bright Tutors Ltd")
    key, token = providers.create_api_key(provider, name="Bookings", actor=None)
    db_session.commit()
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == listed["ada"].id)).one()

    def ask() -> dict:
        response = client.post("/api/v1/verifications", csrf=False,
                               headers={"Authorization": f"Bearer {token}"},
                               json={"credential_id": endorsement.public_id})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["results"][0]

    assert "register" not in ask()
    sign_in(world.central)
    settings = f"/trusts/{world.trust.id}/register/settings"
    granted = client.post(f"/trusts/{world.trust.id}/register/provider-access",
                          data={"provider_id": str(provider.id)})
    assert granted.status_code == 302
    grant = db_session.scalars(select(ProviderAccess)).one()
    assert (grant.trust_id, grant.granted_by_id, grant.revoked_at) == (
        world.trust.id, world.central.id, None)
    assert ask()["register"] == {"status": "approved", "trust": world.trust.name,
                                 "schools": ["Oak Primary"], "reasons": []}
    page = client.get(settings).get_data(as_text=True)
    assert "Bright Tutors Ltd" in page and "Cara Central" in page
    again = client.post(f"/trusts/{world.trust.id}/register/provider-access",
                        data={"provider_id": str(provider.id)})
    assert again.status_code == 400 and "Choose a provider from the list" in again.get_data(
        as_text=True)
    withdrawn = client.post(
        f"/trusts/{world.trust.id}/register/provider-access/{grant.id}/withdraw")
    assert withdrawn.status_code == 302
    db_session.expire_all()
    assert grant.revoked_at is not None and grant.revoked_by_id == world.central.id
    assert "register" not in ask()
    assert "Withdrawn" in client.get(settings).get_data(as_text=True)
    actions = db_session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "ProviderAccess").order_by(AuditEntry.id)).all()
    assert actions == ["provider_access.granted", "provider_access.withdrawn"]


def test_the_access_services_refuse_duplicates_and_keep_history(db_session, world):
    provider = make_provider()
    first = grant_provider_access(world.trust, provider, world.central)
    with pytest.raises(DomainError, match="can already see") as raised:
        grant_provider_access(world.trust, provider, world.central)
    assert raised.value.field == "provider_id"
    with pytest.raises(DomainError, match="Choose a provider"):
        grant_provider_access(world.trust, None, world.central)
    withdraw_provider_access(first, world.central)
    with pytest.raises(DomainError, match="no longer has access"):
        withdraw_provider_access(first, world.central)
    second = grant_provider_access(world.trust, provider, world.central)
    db_session.commit()
    assert second.id != first.id and first.revoked_at is not None
    audit = db_session.execute(select(AuditEntry.action, AuditEntry.trust_id, AuditEntry.actor_id)
                               .where(AuditEntry.object_type == "ProviderAccess")
                               .order_by(AuditEntry.id)).all()
    assert [a for a, _, _ in audit] == ["provider_access.granted", "provider_access.withdrawn",
                                        "provider_access.granted"]
    assert {(t, actor) for _, t, actor in audit} == {(world.trust.id, world.central.id)}


def test_a_certificate_is_found_by_its_exact_number_and_never_echoed(client, db_session,
                                                                     sign_in, world, listed):
    sign_in(world.central)
    url = f"/trusts/{world.trust.id}/register/find-certificate"
    found = client.post(url, data={"certificate_number": "2468 1357 9024"})
    body = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "3 checks recorded" in body and MASKED in body and "Ada Approved" in body
    assert NUMBER not in body and "2468 1357 9024" not in body
    missing = client.post(url, data={"certificate_number": "999999999999"})
    assert "No DBS check" in missing.get_data(as_text=True)
    assert "999999999999" not in missing.get_data(as_text=True)
    wrong = client.post(url, data={"certificate_number": "12345"})
    assert wrong.status_code == 400
    assert "Enter the 12-digit certificate number" in wrong.get_data(as_text=True)
    assert 'value="12345"' not in wrong.get_data(as_text=True)
    client.post("/sign-out")
    sign_in(world.head)
    assert client.post(url, data={"certificate_number": NUMBER}).status_code == 404


def test_home_and_trust_pages_link_to_the_register(client, db_session, sign_in, world):
    sign_in(world.central)
    home = client.get("/").get_data(as_text=True)
    assert "Approved-tutor register" in home and "Checks due" in home
    assert f"/trusts/{world.trust.id}/register/due" in home
    trust = client.get(f"/trusts/{world.trust.id}").get_data(as_text=True)
    assert f"/trusts/{world.trust.id}/register/settings" in trust
