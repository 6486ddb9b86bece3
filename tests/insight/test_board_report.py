"""The trustees' board report (page and PDF) against the dashboards' hand-built trust, and the
trust's searchable audit log."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from credentials.endorsements.models import Endorsement
from credentials.endorsements.services import suspend_endorsement
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.audit.services import Ref
from lms.demo import days_ago
from lms.insight import action_lists, audit_log, dashboards, reports, scopes
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.programme import window
from tests.factories import make_member, make_trust
from tests.insight import test_dashboards

TUTOR_PASSWORD = "tutor password 2026"


@pytest.fixture
def world(db_session):
    """The dashboards' trust A with a candidate at every stage, and trust B (one candidate)."""
    return test_dashboards.world.__wrapped__(db_session)


def _scope(world):
    return scopes.Scope("Trust A", frozenset({world.trust.id}), None, trust=world.trust)


def _period(today: date) -> tuple[date, date]:
    """Nominated 5 days ago, 3 days ago and today: eight of trust A's twelve candidates."""
    return today - timedelta(days=12), today


def _with_exceptions(world, db_session) -> None:
    """An extension 20 days ago (the previous period), one today; the withdrawal ("Left the
    school") was today too."""
    with days_ago(20):
        window.extend_deadline(world.at_risk, days=3, reason="Hospital stay",
                                    actor=world.central)
    window.extend_deadline(world.on_track, days=7, reason="Bereavement leave",
                                actor=world.central)
    db_session.commit()


def _rows(html: str) -> dict[str, list[str]]:
    """The page's table rows: heading cell → the cells after it."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in
                 re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if cells:
            found.setdefault(cells[0], cells[1:])
    return found


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- the report's figures ------------------------------------------------------------------------


def test_headline_figures_are_the_dashboards_figures_for_the_same_cohort(world, db_session):
    start, end = _period(clock.today())
    report = reports.board_report(_scope(world), start, end)
    for period, figures in ((report.period, report.current),
                            (report.previous_period, report.previous)):
        board = dashboards.dashboard(_scope(world), period.filters)
        overall = board.pass_rates[-1]
        assert figures == reports.Headline(
            board.pipeline.total, board.pipeline.overall.endorsed,
            board.pipeline.overall.approved, board.median_days, overall.first_rate,
            overall.second_rate)
    board = dashboards.dashboard(_scope(world), report.period.filters)
    assert list(report.pipeline) == board.pipeline.stages
    assert list(report.pass_rates) == board.pass_rates
    assert report.register == board.register
    # Worked out by hand: eight nominated in the period, none endorsed yet, two first
    # attempts and one second, all failed.
    assert report.current == reports.Headline(8, 0, 0, None, 0.0, 0.0)


def test_the_previous_period_is_as_long_and_just_before_and_the_change_is_right(world):
    start, end = _period(clock.today())
    report = reports.board_report(_scope(world), start, end)
    assert report.previous_period == reports.Period(start - timedelta(days=13),
                                                    start - timedelta(days=1))
    # Nominated 22 and 20 days ago: one still training, one endorsed in 10 days and approved.
    assert report.previous == reports.Headline(2, 1, 1, 10, 100.0, None)
    shown = {f.label: f.shown for f in report.headline}
    assert shown["Candidates nominated"] == ("8", "2", "+6")
    assert shown["Endorsed"] == ("0", "1", "−1")
    assert shown["Median days from nomination to endorsement"] == ("–", "10 days", "–")
    assert shown["First-attempt pass rate"] == ("0.0%", "100.0%", "−100.0 points")
    assert shown["Second-attempt pass rate"] == ("0.0%", "–", "–")


def test_the_pipeline_lists_every_stage_of_the_periods_cohort(world):
    start, end = _period(clock.today())
    report = reports.board_report(_scope(world), start, end)
    counts = {s.stage.value: (s.count, s.percent) for s in report.pipeline}
    assert len(counts) == 11
    assert counts["in_training"] == (1, 12.5)
    assert counts["failed"] == (1, 12.5)
    assert counts["endorsed"] == (0, 0.0)
    assert sum(c for c, _ in counts.values()) == report.cohort == 8


def test_exceptions_in_the_period_carry_their_reasons_and_others_are_left_out(world,
                                                                            db_session):
    _with_exceptions(world, db_session)
    start, end = _period(clock.today())
    report = reports.board_report(_scope(world), start, end)
    assert [(e.kind, e.reason) for e in report.exceptions] == [
        ("Training withdrawn", "Left the school"), ("Deadline extended", "Bereavement leave")]
    counts = {c.kind: (c.current, c.previous) for c in report.exception_counts}
    assert counts["Deadline extended"] == (1, 1)
    assert counts["Training withdrawn"] == (1, 0)
    assert counts["Endorsement revoked"] == (0, 0)
    earlier = reports.board_report(_scope(world), *_period(clock.today() - timedelta(days=13)))
    assert [(e.kind, e.reason) for e in earlier.exceptions] == [
        ("Deadline extended", "Hospital stay")]


def test_the_register_is_todays_whatever_the_period(world, db_session):
    today = clock.today()
    old = reports.board_report(_scope(world), today - timedelta(days=60),
                               today - timedelta(days=40))
    assert old.current.nominated == 0
    assert old.register == action_lists.register_compliance(_scope(world), scopes.Filters())
    assert old.register.statuses == {"pending": 1, "approved": 1}
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == world.endorsed_fast.user_id)).one()
    suspend_endorsement(endorsement, reason="Allegation under investigation",
                        actor=world.central)
    db_session.commit()
    again = reports.board_report(_scope(world), today - timedelta(days=60),
                                 today - timedelta(days=40))
    assert again.register.statuses == {"pending": 1, "suspended": 1}
    assert again.register.approved_percent == 0.0


# --- the page and the PDF show the same figures ------------------------------------------------


def test_the_page_and_the_pdf_show_the_reports_figures(world, db_session, client, sign_in):
    _with_exceptions(world, db_session)
    trustee = make_member(Role.TRUSTEE, trust=world.trust, name="Tess Trustee")
    db_session.commit()
    sign_in(trustee)
    start, end = _period(clock.today())
    report = reports.board_report(_scope(world), start, end)
    db_session.commit()
    args = f"start={start.isoformat()}&end={end.isoformat()}"

    response = client.get(f"/trusts/{world.trust.id}/board-report?{args}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = _rows(html)
    for figure in report.headline:
        assert rows[figure.label] == list(figure.shown), figure.label
    board = dashboards.dashboard(_scope(world), report.period.filters)
    assert rows["Candidates nominated"][0] == str(board.pipeline.total) == "8"
    assert rows["In training"] == ["1", "12.5%"]
    assert rows["Primary"][:3] == ["2", "0", "0.0%"]
    assert rows["Approved"] == ["1"] and rows["Pending"] == ["1"]
    assert rows["Safeguarding training"] == ["0", "1"]
    assert rows["Deadline extended"] == ["1", "1"]
    assert "Bereavement leave" in html and "Hospital stay" not in html
    assert "today's register, not the period's" in html
    assert f"/trusts/{world.trust.id}/board-report.pdf?{args}" in html.replace("&amp;", "&")

    response = client.get(f"/trusts/{world.trust.id}/board-report.pdf?{args}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="board-report-trust-{world.trust.id}-{start:%Y-%m-%d}-to-'
        f'{end:%Y-%m-%d}.pdf"')
    text = _pdf_text(response.data)
    assert "Board report: Trust A" in text
    for heading in reports.HEADINGS.values():
        assert heading in text, heading
    for figure in report.headline:
        assert " ".join([figure.label, *figure.shown]) in text, figure.label
    assert "In training 1 12.5%" in text
    assert "On the register (approved) 0 0.0%" in text
    assert "Safeguarding training 0 1" in text
    assert "Bereavement leave" in text and "Hospital stay" not in text
    assert f"Prepared on {reports.day_label(clock.today())} from the platform's records" \
        in text
    assert "page 1 of" in text


def test_the_pdf_is_the_same_each_time_for_the_same_records(world):
    report = reports.board_report(_scope(world), *_period(clock.today()))
    assert reports.board_report_pdf(report) == reports.board_report_pdf(report)
    assert reports.board_report_pdf(report).startswith(b"%PDF")


def test_without_dejavu_the_pdf_prints_in_a_latin1_font(world, monkeypatch, tmp_path):
    from lms.platform import pdf

    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    report = reports.board_report(_scope(world), *_period(clock.today()))
    text = _pdf_text(reports.board_report_pdf(report))
    assert "Candidates nominated 8 2 +6" in text
    assert "First-attempt pass rate 0.0% 100.0% -100.0 points" in text


def test_with_no_dates_the_page_shows_the_current_term_so_far(world, db_session, client,
                                                              sign_in):
    sign_in(world.central)
    html = client.get(f"/trusts/{world.trust.id}/board-report").get_data(as_text=True)
    start, end = reports.term_so_far(clock.today())
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html
    before_start, before_end = reports.previous_term(start)
    assert f"start={before_start.isoformat()}&amp;end={before_end.isoformat()}" in html
    assert "Previous term" in html


# --- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("today", "term"), [
    (date(2025, 9, 1), (date(2025, 9, 1), date(2025, 12, 31))),
    (date(2025, 12, 31), (date(2025, 9, 1), date(2025, 12, 31))),
    (date(2026, 1, 1), (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2026, 3, 31), (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2026, 4, 1), (date(2026, 4, 1), date(2026, 8, 31))),
    (date(2026, 8, 31), (date(2026, 4, 1), date(2026, 8, 31))),
])
def test_the_default_period_is_the_current_term(today, term):
    assert reports.default_period(today) == term
    assert reports.term_so_far(today) == (term[0], min(term[1], today))


@pytest.mark.parametrize(("day", "term"), [
    (date(2025, 10, 15), (date(2025, 4, 1), date(2025, 8, 31))),
    (date(2026, 2, 1), (date(2025, 9, 1), date(2025, 12, 31))),
    (date(2026, 5, 1), (date(2026, 1, 1), date(2026, 3, 31))),
])
def test_the_previous_term_is_the_one_before(day, term):
    assert reports.previous_term(day) == term


def test_a_period_names_its_term():
    assert reports.Period(date(2025, 9, 1), date(2025, 12, 31)).term == "Autumn term 2025"
    assert reports.Period(date(2026, 1, 1), date(2026, 2, 10)).term == "Spring term 2026 so far"
    assert reports.Period(date(2026, 1, 2), date(2026, 2, 10)).term is None


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    (10, 20, "end", "The end date must be the same as or after the start date"),
    (-1, 0, "start", "The start date must be today or in the past"),
    (10, -1, "end", "The end date must be today or in the past"),
    (800, 0, "end", "The period must be 2 years or shorter"),
])
def test_a_wrong_period_is_refused_on_its_field(db_session, start, end, field, message):
    today = date(2026, 3, 1)
    with pytest.raises(DomainError, match=message) as refused:
        reports.check_period(today - timedelta(days=start), today - timedelta(days=end), today)
    assert refused.value.field == field


def test_two_years_exactly_is_allowed():
    reports.check_period(date(2023, 9, 1), date(2025, 8, 31), date(2026, 1, 1))


def test_a_period_before_the_year_2000_is_refused():
    with pytest.raises(DomainError, match="on or after 1 January 2000"):
        reports.check_period(date(1999, 12, 31), date(2000, 1, 5), date(2026, 1, 1))


@pytest.mark.parametrize(("args", "message"), [
    ("start=2025-02-30&end=2025-03-10", "Start date must be a real date, for example"),
    ("start=&end=2025-03-10", "Enter the start date"),
    ("start=2025-03-10&end=2025-03-01",
     "The end date must be the same as or after the start date"),
    ("start=2022-01-01&end=2025-03-01", "The period must be 2 years or shorter"),
    ("start=2025-01-01&end=2999-01-01", "The end date must be today or in the past"),
    ("start=0001-01-01&end=2025-01-01", "Start date must be a date in the years 2000 to 2999"),
])
@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_bad_dates_are_refused_with_a_message(db_session, client, sign_in, args, message,
                                              suffix):
    trust = make_trust("Oak Trust")
    trustee = make_member(Role.TRUSTEE, trust=trust)
    db_session.commit()
    sign_in(trustee)
    response = client.get(f"/trusts/{trust.id}/board-report{suffix}?{args}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert 'class="error-summary"' in html


# --- who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [
    ("trustee", 200), ("central_team", 200), ("programme_admin", 200),
    ("cluster_lead", 404), ("school_leader", 404), ("tutor", 404), ("other_trustee", 404),
])
def test_only_those_who_see_the_whole_trust_get_its_board_report(world, db_session, client,
                                                                 sign_in, who, status):
    people = {
        "trustee": lambda: make_member(Role.TRUSTEE, trust=world.trust),
        "central_team": lambda: world.central,
        "programme_admin": lambda: make_member(Role.PROGRAMME_ADMIN),
        "cluster_lead": lambda: make_member(Role.CLUSTER_LEAD, cluster=world.north),
        "school_leader": lambda: make_member(Role.SCHOOL_LEADER, school=world.oak),
        "tutor": lambda: world.on_track.user,
        "other_trustee": lambda: make_member(Role.TRUSTEE, trust=world.other),
    }
    person = people[who]()
    db_session.commit()
    sign_in(person, TUTOR_PASSWORD) if who == "tutor" else sign_in(person)
    for suffix in ("", ".pdf"):
        response = client.get(f"/trusts/{world.trust.id}/board-report{suffix}")
        assert response.status_code == status, suffix
    trust_page = client.get(f"/trusts/{world.trust.id}").get_data(as_text=True)
    assert ("Board report" in trust_page) == (status == 200)


# --- the audit log, searched ---------------------------------------------------------------------


@pytest.fixture
def logged(db_session):
    """Trust T's log: a cluster added 40 days ago by Cara, an extension 10 days ago by Dev,
    a suspension today by Cara; and an extension in trust O."""
    from types import SimpleNamespace

    from lms.organisations import services

    trust, other = make_trust("Teal Trust"), make_trust("Orange Trust")
    cara = make_member(Role.CENTRAL_TEAM, trust=trust, name="Cara Central",
                       email="cara@teal.example")
    dev = make_member(Role.CENTRAL_TEAM, trust=trust, name="Dev Deputy",
                      email="dev@teal.example")
    with days_ago(40):
        services.add_cluster(trust, "North", actor=cara)
    with days_ago(10):
        audit.record("enrolment.extended", Ref("Enrolment", 7, trust.id), actor=dev,
                     reason="Bereavement leave", changes={"deadline_at": ("a", "b")})
    audit.record("endorsement.suspended", Ref("Endorsement", 9, trust.id), actor=cara,
                 reason="Allegation under investigation")
    audit.record("enrolment.extended", Ref("Enrolment", 8, other.id), actor=None,
                 reason="Bereavement leave elsewhere")
    trustee = make_member(Role.TRUSTEE, trust=trust, name="Tess Trustee")
    other_trustee = make_member(Role.TRUSTEE, trust=other, name="Otto Trustee")
    db_session.commit()
    return SimpleNamespace(trust=trust, other=other, cara=cara, dev=dev, trustee=trustee,
                           other_trustee=other_trustee)


def _actions(html: str) -> list[str]:
    return re.findall(r"<td>([a-z_]+\.[a-z_]+)</td>", html)


def _search(client, trust, query: str = "") -> tuple[int, str]:
    response = client.get(f"/trusts/{trust.id}/audit?{query}")
    return response.status_code, response.get_data(as_text=True)


def _audit_rows(html: str) -> dict[str, list[str]]:
    """The log's rows by action: #, when, who, action, object, changes, reason."""
    rows = ([re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", html, re.S))
    return {r[3]: r for r in rows if len(r) == 7}


def test_the_audit_log_shows_who_did_it_and_why(logged, client, sign_in):
    sign_in(logged.trustee)
    status, html = _search(client, logged.trust)
    assert status == 200
    rows = _audit_rows(html)
    assert (rows["enrolment.extended"][2], rows["enrolment.extended"][6]) == (
        "Dev Deputy", "Bereavement leave")
    assert (rows["endorsement.suspended"][2], rows["endorsement.suspended"][6]) == (
        "Cara Central", "Allegation under investigation")
    assert "elsewhere" not in html


#: The entries the searches are about (the log also holds the trust's and people's creation).
SEARCHED = ("endorsement.suspended", "enrolment.extended", "cluster.created")


@pytest.mark.parametrize(("query", "actions", "only_these"), [
    ("date_from={d15}", ["endorsement.suspended", "enrolment.extended"], False),
    ("date_to={d5}", ["enrolment.extended", "cluster.created"], True),
    ("date_from={d15}&date_to={d5}", ["enrolment.extended"], True),
    ("actor=CARA@Teal.example", ["endorsement.suspended", "cluster.created"], True),
    ("actor=nobody@teal.example", [], True),
    ("reason=bereavement", ["enrolment.extended"], True),
    ("action=endorsement", ["endorsement.suspended"], True),
    ("object_type=Enrolment&object_id=7", ["enrolment.extended"], True),
    ("action=enrolment&reason=allegation", [], True),
])
def test_each_audit_search_narrows_the_entries(logged, client, sign_in, query, actions,
                                               only_these):
    today = clock.today()
    query = query.format(d15=(today - timedelta(days=15)).isoformat(),
                         d5=(today - timedelta(days=5)).isoformat())
    sign_in(logged.trustee)
    status, html = _search(client, logged.trust, query)
    assert status == 200
    found = _actions(html)
    assert [a for a in found if a in SEARCHED] == actions
    if only_these:
        assert found == actions
    else:
        assert len(found) < len(_actions(_search(client, logged.trust)[1]))


@pytest.mark.parametrize(("query", "message"), [
    ("date_from=2025-02-30", "Date from must be a real date"),
    ("date_from=2025-03-10&date_to=2025-03-01", "Date to must be the same as or after date from"),
    ("actor=not-an-email", "Enter the email address of the person who made the change"),
    ("before=abc", "Use the newer and older links to move between pages"),
    ("date_to=9999-12-31", "Date to must be a date in the years 2000 to 2999"),
])
def test_a_wrong_audit_search_is_refused_with_a_message(logged, client, sign_in, query,
                                                        message):
    sign_in(logged.trustee)
    status, html = _search(client, logged.trust, query)
    assert status == 400
    assert "There is a problem" in html and message in html
    assert _actions(html) == []


def test_the_audit_log_pages_a_hundred_entries_at_a_time(logged, db_session, client,
                                                         sign_in):
    audit.record_each("register_entry.recomputed", [
        (Ref("RegisterEntry", n, logged.trust.id), {"status": ("pending", "approved")}, None)
        for n in range(1, 231)])
    db_session.commit()
    recomputed = list(db_session.scalars(
        select(AuditEntry.id).where(AuditEntry.action == "register_entry.recomputed")
        .order_by(AuditEntry.id.desc())))
    sign_in(logged.trustee)
    # A stray argument in the address is ignored, and not carried into the paging links.
    url, pages = f"/trusts/{logged.trust.id}/audit?action=recomputed&trust_id=999", []
    while url:
        html = client.get(url).get_data(as_text=True).replace("&amp;", "&")
        pages.append(_actions(html))
        older = re.search(r'href="([^"]*before=\d+[^"]*)">Older entries', html)
        url = older.group(1) if older else None
        if url:
            assert "action=recomputed" in url and "999" not in url
    assert [len(p) for p in pages] == [100, 100, 30]
    assert all(a == "register_entry.recomputed" for p in pages for a in p)

    first = audit_log.audit_entries(logged.trust, action="recomputed")
    second = audit_log.audit_entries(logged.trust, action="recomputed",
                                   before=first.older_before)
    third = audit_log.audit_entries(logged.trust, action="recomputed",
                                  before=second.older_before)
    assert [e.id for e in first.entries + second.entries + third.entries] == recomputed
    assert first.newer_after is None and third.older_before is None
    # Newer from the last page, and from the second: the same hundred entries as before.
    back = audit_log.audit_entries(logged.trust, action="recomputed", after=third.newer_after)
    assert [e.id for e in back.entries] == [e.id for e in second.entries]
    top = audit_log.audit_entries(logged.trust, action="recomputed", after=second.newer_after)
    assert [e.id for e in top.entries] == [e.id for e in first.entries]
    assert top.newer_after is None and top.older_before == first.older_before


def test_a_trustee_of_another_trust_sees_nothing_of_this_ones_log(logged, client, sign_in):
    sign_in(logged.other_trustee)
    status, _ = _search(client, logged.trust)
    assert status == 404
    status, html = _search(client, logged.other, "reason=bereavement")
    assert status == 200
    assert _actions(html) == ["enrolment.extended"]
    assert "Bereavement leave elsewhere" in html
    assert "Dev Deputy" not in html and "Allegation" not in html
