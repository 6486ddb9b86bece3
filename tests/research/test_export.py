"""The research export: consent-gated, pseudonymised with a salt made for each export, with
nothing that names or locates a person, aggregates with counts under ten suppressed, and
only for the people allowed to take it."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import itertools

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.organisations.models import School, Trust
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.spreadsheets import csv_chunks
from lms.research import export
from lms.research.export import (
    COLUMNS,
    SUPPRESSED,
    Pseudonyms,
    aggregate_rows,
    research_rows,
    take_export,
)
from lms.research.models import ResearchExport
from lms.tutoring.models import Programme, Pupil, TutoringGroup
from tests.factories import make_member, make_school, make_trust
from tests.research_factory import give_research_consent, make_trained_tutor, make_tutored_group
from tests.tutoring_factory import make_programme


@pytest.fixture(autouse=True)
def other_domains(monkeypatch):
    """Library units and observation means, as their packages report them."""
    monkeypatch.setattr(export, "library_units", lambda ids: {i: 2 for i in ids})
    monkeypatch.setattr(export, "observation_means", lambda ids: {i: 3.25 for i in ids})


@pytest.fixture
def world(db_session):
    trust = make_trust("Northern Lights Academy Trust")
    consenting = make_school(trust, name="Hollybank Primary")
    refusing = make_school(trust, name="Millbrook Juniors")
    tutors = [make_trained_tutor(consenting, score=score, attempts=attempts)
              for score, attempts in ((95, 1), (82, 2), (71, 1))]
    fours = make_programme(trust, name="Reading in fours", max_group_size=4)
    for tutor in tutors:
        make_tutored_group(consenting, tutor, pupils=4, sessions=3, absent_first=1,
                           programme=fours)
    make_tutored_group(refusing, make_trained_tutor(refusing), pupils=3, sessions=2)
    give_research_consent(consenting)
    db.session.commit()
    return {"trust": trust, "consenting": consenting, "refusing": refusing, "tutors": tutors}


def _rows(trust, salt=None):
    return research_rows(trust.id, Pseudonyms(salt))


def _identifying_values() -> set[str]:
    """Every name, email, pupil reference, URN and organisation name in the world."""
    values = set()
    for name, email in db.session.execute(select(User.name, User.email)):
        values |= {name, email}
    for name, reference in db.session.execute(select(Pupil.display_name, Pupil.reference)):
        values |= {name, reference}
    for name, urn, postcode in db.session.execute(select(School.name, School.urn,
                                                         School.postcode)):
        values |= {name, urn, postcode}
    values |= set(db.session.scalars(select(Trust.name)))
    values |= set(db.session.scalars(select(Programme.name)))
    values |= set(db.session.scalars(select(TutoringGroup.name)))
    return {v for v in values if v}


def test_one_row_per_tutor_pupil_and_programme_at_consenting_schools_only(world):
    rows = _rows(world["trust"])
    assert len(rows) == 12  # 3 tutors × 4 pupils; the refusing school's 3 pupils left out
    assert {len(r) for r in rows} == {len(COLUMNS)}
    assert len({(r[0], r[1], r[4]) for r in rows}) == 12
    assert len({r[2] for r in rows}) == 1  # one school pseudonym
    row = dict(zip(COLUMNS, rows[0], strict=True))
    assert row["sessions_offered"] == 3
    assert row["library_units_completed"] == 2
    assert row["latest_observation_mean"] == round(3.25, 1)
    assert {r[8] for r in rows} == {"90-100%", "80-89%", "70-79%"}
    assert {r[9] for r in rows} == {1, 2}
    # Endorsed two weeks ago, first session three weeks ago (a week offset, never a date).
    assert {r[10] for r in rows} == {-1}


def test_the_export_holds_no_name_email_reference_urn_or_school_name(world):
    forbidden = _identifying_values()
    rows = _rows(world["trust"])
    cells = {str(cell) for row in rows for cell in row}
    leaked = {value for value in forbidden for cell in cells if value and value in cell}
    assert not leaked
    text = "".join(csv_chunks(COLUMNS, rows))
    for value in forbidden:
        assert value not in text


def test_two_exports_give_the_same_tutor_different_pseudonyms(world):
    first, second = _rows(world["trust"]), _rows(world["trust"])
    assert {r[0] for r in first}.isdisjoint({r[0] for r in second})
    assert {r[1] for r in first}.isdisjoint({r[1] for r in second})
    assert {r[2] for r in first}.isdisjoint({r[2] for r in second})


def test_the_pseudonyms_cannot_be_reproduced_from_ids_with_a_guessed_salt(world):
    rows = _rows(world["trust"])
    pseudonyms = {cell for r in rows for cell in r[:5]}
    ids = set(db.session.scalars(select(User.id))) | set(db.session.scalars(select(Pupil.id))) \
        | set(db.session.scalars(select(School.id))) | {world["trust"].id}
    guesses = [b"", b"salt", b"research", world["trust"].name.encode(), b"0" * 32]
    for salt, kind, value in itertools.product(guesses, export.PREFIXES, ids):
        digest = hmac.new(salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        assert f"{export.PREFIXES[kind]}-{digest[:16]}" not in pseudonyms
        plain = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
        assert not any(plain[:16] in p or hashlib.sha256(str(value).encode()).hexdigest()[:16]
                       in p for p in pseudonyms)


def test_joining_on_quasi_identifiers_links_nobody_directly(world):
    """Join the export to the register, tutors and pupils on everything they share (score
    band, attempts, pathway, phase, year group, flags, sessions) and every tutor matches at
    least as many candidates as the export can tell apart: the export alone names no one."""
    rows = _rows(world["trust"])
    pupils = list(db.session.scalars(select(Pupil).where(
        Pupil.school_id == world["consenting"].id)))
    for row in rows:
        record = dict(zip(COLUMNS, row, strict=True))
        candidates = [p for p in pupils if p.year_group == record["pupil_year_group"]
                      and ("yes" if p.disadvantaged else "no") == record["disadvantaged"]
                      and ("yes" if p.send else "no") == record["send"]
                      and ("yes" if p.eal else "no") == record["eal"]]
        assert len(candidates) > 1, "a pupil is singled out by their characteristics"
    # Nothing in a row equals an id, a reference or a URN of anyone in the world.
    ids = {str(i) for i in db.session.scalars(select(User.id))} | {
        str(i) for i in db.session.scalars(select(Pupil.id))}
    for row in rows:
        for cell in row[:5]:
            assert cell.split("-", 1)[1] not in ids
    # The same tutor, two exports: nothing but their quasi-identifiers joins the rows.
    again = _rows(world["trust"])
    assert not {r[0] for r in rows} & {r[0] for r in again}


def test_withdrawn_consent_leaves_the_school_out(world):
    leader = make_member(Role.SCHOOL_LEADER, school=world["consenting"])
    export.withdraw_consent(world["consenting"], actor=leader)
    db.session.commit()
    assert _rows(world["trust"]) == []


def test_consent_is_recorded_once_with_who_and_when(world):
    with pytest.raises(DomainError, match="already recorded consent"):
        give_research_consent(world["consenting"])
    consent = export.current_consent(world["consenting"].id)
    assert consent.recorded_by_id is not None and consent.recorded_at is not None
    assert db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "ResearchConsent")).all() == ["research.consent_recorded"]


def test_aggregates_show_counts_under_ten_as_suppressed(world):
    table = aggregate_rows(_rows(world["trust"]))
    overall = table[0]
    assert overall[:4] == ["all", "all", SUPPRESSED, 12]  # 3 tutors, 12 pupils
    by_band = [r for r in table if r[0] == "summative_score_band"]
    assert by_band and all(r[2] == SUPPRESSED and r[3] == SUPPRESSED for r in by_band)
    assert all(r[6] == SUPPRESSED for r in by_band)  # means over fewer than 10 pupils
    for row in table:
        assert all(cell in (SUPPRESSED, 0) or cell >= 10 for cell in row[2:6]), row
        if row[3] == SUPPRESSED:
            assert row[6] == SUPPRESSED, row


def test_each_export_is_audited_without_its_salt(world):
    admin = make_member(Role.PROGRAMME_ADMIN)
    taken = take_export(world["trust"], actor=admin)
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "research.exported")).one()
    assert (entry.actor_id, entry.trust_id) == (admin.id, world["trust"].id)
    assert entry.changes["row_count"] == [None, 12] and taken.record.row_count == 12
    columns = ResearchExport.__table__.columns.keys()
    assert not any("salt" in c for c in columns)
    assert "salt" not in str(entry.changes)


def test_a_school_leader_may_not_take_an_export(world):
    leader = make_member(Role.SCHOOL_LEADER, school=world["consenting"])
    with pytest.raises(DomainError):
        take_export(world["trust"], actor=leader)


# --- the pages ----------------------------------------------------------------------------


def _download(client, url, kind="rows", fmt="csv"):
    return client.post(url, data={"kind": kind, "fmt": fmt})


def test_the_central_team_downloads_their_own_trusts_export(world, sign_in):
    lead = make_member(Role.CENTRAL_TEAM, trust=world["trust"])
    db.session.commit()
    client = sign_in(lead)
    url = f"/trusts/{world['trust'].id}/research/export"
    assert client.get(url).status_code == 200
    answer = _download(client, url)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(table[0]) == COLUMNS and len(table) == 13
    workbook = _download(client, url, "aggregates", "xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    dictionary = client.get("/research/data-dictionary.md")
    assert dictionary.status_code == 200
    text = dictionary.get_data(as_text=True)
    for column in COLUMNS:
        assert f"`{column}`" in text
    assert _download(client, url, "everything").status_code == 400


def test_who_may_take_the_export(world, sign_in, client):
    other = make_trust()
    people = {
        "own central team": (make_member(Role.CENTRAL_TEAM, trust=world["trust"]), 200, 403),
        "other central team": (make_member(Role.CENTRAL_TEAM, trust=other), 404, 403),
        "school leader": (make_member(Role.SCHOOL_LEADER, school=world["consenting"]), 404,
                          403),
        "trustee": (make_member(Role.TRUSTEE, trust=world["trust"]), 403, 403),
        "admin": (make_member(Role.PROGRAMME_ADMIN), 200, 200),
    }
    db.session.commit()
    for label, (person, trust_page, all_page) in people.items():
        sign_in(person)
        url = f"/trusts/{world['trust'].id}/research/export"
        assert client.get(url).status_code == trust_page, label
        assert _download(client, url).status_code in (trust_page, 400), label
        assert client.get("/research/export").status_code == all_page, label
        client.post("/sign-out")


def test_consent_is_recorded_by_the_schools_leader_or_the_central_team(world, sign_in, client):
    school = world["refusing"]
    url = f"/schools/{school.id}/research/consent"
    elsewhere = make_member(Role.SCHOOL_LEADER, school=make_school(world["trust"]))
    tutor = world["tutors"][0]
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    central = make_member(Role.CENTRAL_TEAM, trust=world["trust"])
    db.session.commit()
    for person, password in ((elsewhere, None), (tutor, "tutor password 2026")):
        sign_in(person, *([password] if password else []))
        assert client.get(url).status_code == 404
        client.post("/sign-out")
    sign_in(leader)
    unticked = client.post(url, data={})
    assert unticked.status_code == 400 and "Tick to confirm" in unticked.get_data(as_text=True)
    assert client.post(url, data={"confirm": "y"}).status_code == 302
    assert export.current_consent(school.id).recorded_by_id == leader.id
    client.post("/sign-out")
    sign_in(central)
    assert client.post(f"{url}/withdraw").status_code == 302
    assert export.current_consent(school.id) is None
