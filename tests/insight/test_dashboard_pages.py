"""The dashboard pages and their downloads: the programme's, a trust's (a cluster lead's part
of it) and a school's, against the hand-built trust of tests/dashboard_world.py, whose every
figure is worked out by hand in tests/insight/test_dashboards.py. Who sees which dashboard, the
filters and sorting, the downloads saying what the page says, nudging a candidate, refreshing
the figures, and a fixed number of queries however many candidates."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from markupsafe import escape
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.insight import dashboards, nudges, pipeline, scopes
from lms.insight import views as dashboard_views
from lms.insight.models import PipelineBuild, PipelineRecord, PipelineStage
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme import nominations
from lms.programme.models import Nomination, SentReminder
from tests import downloads
from tests.conftest import TEST_PASSWORD, complete_second_factor
from tests.dashboard_world import build_world, enrol
from tests.factories import make_cluster, make_member, make_nomination, make_school, make_trust
from tests.statements import statements_run

S = PipelineStage
SECTIONS = ["pipeline", "comparison", "pass-rates", "progress", "actions", "register"]


@pytest.fixture
def world(db_session) -> SimpleNamespace:
    """The hand-built trusts, and a person in every role around them."""
    w = build_world(db_session)
    w.trustee = make_member(Role.TRUSTEE, trust=w.trust, name="Tess Trustee")
    w.lead = make_member(Role.CLUSTER_LEAD, cluster=w.north, name="Lee Lead")
    w.head_oak = make_member(Role.SCHOOL_LEADER, school=w.oak, name="Hal Oakhead")
    w.head_elm = make_member(Role.SCHOOL_LEADER, school=w.elm, name="Hana Elmhead")
    w.stranger = make_member(Role.CENTRAL_TEAM, trust=w.other, name="Sam Stranger")
    w.admin = make_member(Role.PROGRAMME_ADMIN, name="Ada Admin")
    db_session.commit()
    return w


@pytest.fixture
def signed_in(app):
    """A client of its own for each person, signed in through the form."""

    def _signed_in(user):
        client = app.test_client()
        response = client.post("/sign-in", data={"email": user.email,
                                                 "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        complete_second_factor(client, user, response)
        client._token = None
        return client

    return _signed_in


def _get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"{url} gave {response.status_code}: {body[:2000]}"
    return body


# --- reading pages and files -----------------------------------------------------------------


class _Tables(HTMLParser):
    """Every table of a page by its id, as rows of cell texts (the bars are empty cells)."""

    def __init__(self, body: str):
        super().__init__()
        self.tables: dict[str | None, list[list[str]]] = {}
        self._open: list[str | None] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._open.append(dict(attrs).get("id"))
            self.tables.setdefault(self._open[-1], [])
        elif tag == "tr" and self._open:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._open[-1]].append(self._row)
            self._row = None
        elif tag == "table":
            self._open.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _table(body: str, table_id: str) -> list[list[str]]:
    return _Tables(body).tables[table_id]


def _plain(text: str) -> str:
    """A figure as a download writes it: no % sign, no thousands separator, no dash."""
    text = text.removesuffix("%").replace(",", "")
    return "" if text == "–" else text


def _stage_counts(body: str) -> dict[str, str]:
    return {row[0]: row[1] for row in _table(body, "pipeline")[1:]}


def _list_names(body: str, key: str) -> list[str]:
    section = re.search(rf'id="list-{key}"(.*?)</section>', body, re.S).group(1)
    return [html.unescape(n) for n in re.findall(r'<li><a href="[^"]*">([^<]*)</a>', section)]


def _download(client, url: str) -> list[list[str]]:
    """A CSV download, checked to say the same as its XLSX twin."""
    def as_(suffix: str) -> str:
        return f"{url}{suffix}" if "?" not in url else url.replace("?", f"{suffix}?", 1)

    rows = downloads.csv_rows(client.get(as_(".csv")))
    xlsx = downloads.xlsx_rows(client.get(as_(".xlsx")))
    assert xlsx == rows
    return rows



def _settle(db_session) -> None:
    """Build the records a little later than the last change, as the beat would, so a page
    view finds them fresh and rebuilds nothing."""
    db_session.commit()
    clock.travel(timedelta(minutes=5))
    pipeline.rebuild()
    db_session.commit()


def _dashboard(w) -> str:
    return f"/trusts/{w.trust.id}/dashboard"


# --- the trust's dashboard --------------------------------------------------------------------


def test_the_trust_dashboard_shows_the_hand_built_trusts_figures(world, signed_in):
    body = _get(signed_in(world.central), _dashboard(world))
    counts = _stage_counts(body)
    assert counts["Awaiting approval"] == "1" and counts["In training"] == "2"
    assert counts["On the register (approved)"] == "1" and counts["Total nominated"] == "12"
    in_training = next(r for r in _table(body, "pipeline") if r[0] == "In training")
    assert in_training[2] == "16.7%"
    built = db.session.get(PipelineBuild, world.trust.id).built_at.astimezone(clock.LONDON)
    assert f'Figures as of <time datetime="{built.isoformat()}">{built:%H:%M}</time>' in body
    assert "Refresh now" in body
    assert re.search(r"Median time from nomination to endorsement:\s*<strong>15 days", body)
    rates = {row[0]: row for row in _table(body, "pass-rates")[2:]}
    assert rates["Primary"][1:4] == ["4", "2", "50%"] and rates["Primary"][5:8] == ["1", "0",
                                                                                     "0%"]
    assert rates["All pathways"][1:4] == ["4", "2", "50%"]
    progress = {row[0].split(" ")[0]: row[1:3] for row in _table(body, "progress")[1:]}
    assert progress == {"At": ["1", "50%"], "Behind": ["0", "0%"], "On": ["1", "50%"],
                        "Tutors": ["2", "100%"]}
    assert _list_names(body, "deadline_soon") == ["Ravi Risk"]
    assert _list_names(body, "second_attempt") == ["Fay First"]
    assert _list_names(body, "invitations") == ["Ivy Invited"]
    assert _list_names(body, "approvals") == ["Abe Awaiting"]
    assert _list_names(body, "checks_due") == ["Bea Ten"]
    assert f'href="/enrolments/{world.at_risk.id}">Ravi Risk</a>, Oak Primary' in body
    assert f'href="/nominations/{world.awaiting.id}">Abe Awaiting</a>' in body
    comparison = _table(body, "comparison")
    assert comparison[1][:3] == ["Trust A (trust-wide figure)", "12", "4"]
    assert [row[:2] for row in comparison[2:]] == [["Elm Academy", "5"], ["Oak Primary", "7"]]
    assert f'href="/schools/{world.oak.id}/dashboard">Oak Primary' in body
    statuses = dict(_table(body, "register")[1:])
    assert statuses["Approved"] == "1" and statuses["Pending"] == "1"
    assert statuses["Approved (% of those listed)"] == "50%"
    assert statuses["Safeguarding training due within 30 days"] == "1"
    assert f'href="/trusts/{world.trust.id}/register"' in body
    assert f'href="/trusts/{world.trust.id}/register/due"' in body
    assert "Birch School" not in body and "Bo Elsewhere" not in body


def test_an_action_list_longer_than_the_page_says_how_many_more(world, signed_in, db_session,
                                                                 monkeypatch):
    monkeypatch.setattr(dashboard_views, "ITEMS_SHOWN", 1)
    make_nomination(world.elm, name="Abi Another")
    make_nomination(world.elm, name="Ari Again")
    db_session.commit()
    body = _get(signed_in(world.central), _dashboard(world))
    assert _list_names(body, "approvals") == ["Abe Awaiting"]
    section = re.search(r'id="list-approvals"(.*?)</section>', body, re.S).group(1)
    assert "Nominations awaiting approval: <span class=\"count\">3</span>" in section
    assert "And 2 more." in section


@pytest.mark.parametrize(("sort", "direction", "order"), [
    ("nominated", "desc", ["Oak Primary", "Elm Academy"]),
    ("nominated", "asc", ["Elm Academy", "Oak Primary"]),
    ("name", "desc", ["Oak Primary", "Elm Academy"]),
    ("endorsed_percent", "desc", ["Elm Academy", "Oak Primary"]),
])
def test_the_school_comparison_sorts_both_ways_on_the_page_and_in_the_download(
        world, signed_in, sort, direction, order):
    client = signed_in(world.central)
    body = _get(client, f"{_dashboard(world)}?sort={sort}&dir={direction}")
    rows = _table(body, "comparison")
    assert rows[1][0] == "Trust A (trust-wide figure)"
    assert [row[0] for row in rows[2:]] == order
    sorted_heading = re.findall(r'<th scope="col" aria-sort="(\w+)"', body)
    assert sorted_heading == ["descending" if direction == "desc" else "ascending"]
    assert f'dir={"asc" if direction == "desc" else "desc"}' in re.search(
        r'aria-sort="\w+"[^>]*><a href="([^"]+)"', body).group(1)
    download = _download(client, f"{_dashboard(world)}/comparison?sort={sort}&dir={direction}")
    assert [row[0] for row in download[2:]] == order
    assert download[1][0] == "Trust A (trust-wide figure)"


def test_the_comparison_is_paged_and_the_pages_keep_the_sort(world, signed_in, monkeypatch):
    monkeypatch.setattr(dashboard_views, "PER_PAGE", 1)
    client = signed_in(world.central)
    first = _get(client, f"{_dashboard(world)}?sort=nominated&dir=desc")
    assert [row[0] for row in _table(first, "comparison")[2:]] == ["Oak Primary"]
    assert "page 1 of 2" in first
    link = html.unescape(re.search(r'<a href="([^"]+)#comparison-heading" rel="next"',
                                   first).group(1))
    assert "sort=nominated" in link and "dir=desc" in link and "page=2" in link
    second = _get(client, link)
    assert [row[0] for row in _table(second, "comparison")[2:]] == ["Elm Academy"]
    assert _table(second, "comparison")[1][0] == "Trust A (trust-wide figure)"


@pytest.mark.parametrize(("query", "total"), [
    ("school={oak}", "7"),
    ("cluster={north}", "7"),
    ("pathway=secondary", "0"),
    ("phase=primary", "12"),
    ("nominated_from={minus4}", "7"),
    ("nominated_to={minus21}", "3"),
    ("school={elm}&nominated_from={minus4}", "3"),
])
def test_each_filter_narrows_the_page_and_is_kept_in_every_link(world, signed_in, query,
                                                                  total):
    today = clock.today()
    query = query.format(oak=world.oak.id, elm=world.elm.id, north=world.north.id,
                         minus4=today - timedelta(days=4), minus21=today - timedelta(days=21))
    client = signed_in(world.central)
    body = _get(client, f"{_dashboard(world)}?{query}")
    assert _stage_counts(body)["Total nominated"] == total
    assert sum(int(row[1]) for row in _table(body, "comparison")[2:] if len(row) > 1) == \
        int(total)
    escaped = html.escape(query)
    for link in (f"/dashboard/pipeline.csv?{escaped}", f"/dashboard/refresh?{escaped}",
                 f"{escaped}&amp;sort=nominated&amp;dir=desc"):
        assert link in body, link
    assert "Clear filters" in body
    download = _download(client, f"{_dashboard(world)}/pipeline?{query}")
    assert download[-1] == ["Total nominated", total, "100" if total != "0" else "0"]


@pytest.mark.parametrize(("query", "field", "message"), [
    ("school=99999", "school", "Choose a school from the list"),
    ("school=abc", "school", "Choose a school from the list"),
    ("school={birch}", "school", "Choose a school from the list"),
    ("cluster=99999", "cluster", "Choose a cluster from the list"),
    ("pathway=astrology", "pathway", "Choose a pathway from the list"),
    ("phase=nursery", "phase", "Choose primary or secondary"),
    ("nominated_from=2026-02-30", "nominated_from", "Nominated from must be a real date"),
    ("nominated_to=yesterday", "nominated_to", "Nominated to must be a real date"),
    ("nominated_from=0001-01-01", "nominated_from", "Nominated from must be a date in"),
    ("nominated_to=9999-12-31", "nominated_to", "Nominated to must be a date in"),
    ("nominated_from=2026-03-10&nominated_to=2026-03-01", "nominated_to",
     "Nominated to must be the same as or after nominated from"),
])
def test_bad_filters_give_400_with_a_message_on_the_field(world, signed_in, query, field,
                                                          message):
    client = signed_in(world.central)
    body = _get(client, f"{_dashboard(world)}?{query.format(birch=world.other_school.id)}",
                400)
    assert "There is a problem" in body and f'href="#{field}"' in body
    assert message in body.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert 'id="pipeline"' not in body
    assert client.get(f"{_dashboard(world)}/pipeline.csv?"
                      f"{query.format(birch=world.other_school.id)}").status_code == 400


# --- downloads ---------------------------------------------------------------------------------


def test_every_section_downloads_as_csv_and_xlsx_with_the_figures_of_the_page(world,
                                                                              signed_in):
    client = signed_in(world.central)
    body = _get(client, _dashboard(world))
    files = {section: _download(client, f"{_dashboard(world)}/{section}")
             for section in SECTIONS}

    page = [[row[0], _plain(row[1]), _plain(row[2])] for row in _table(body, "pipeline")[1:]]
    assert files["pipeline"][0] == ["Stage", "Candidates", "Share (%)"]
    assert files["pipeline"][1:] == page

    assert files["comparison"][0][:3] == ["Name", "Nominated", "In training"]
    assert files["comparison"][1:] == [[row[0], *map(_plain, row[1:])]
                                       for row in _table(body, "comparison")[1:]]

    page = [[row[0], *(_plain(c) for i, c in enumerate(row[1:]) if i not in (3, 7))]
            for row in _table(body, "pass-rates")[2:]]
    assert files["pass-rates"][1:] == page
    assert files["pass-rates"][2][:4] == ["Primary", "4", "2", "50"]

    page = [[_plain(row[1]), _plain(row[2])] for row in _table(body, "progress")[1:]]
    assert [row[1:] for row in files["progress"][1:-1]] == page
    assert files["progress"][1][0].startswith("At risk (deadline within 7 days")
    assert files["progress"][-1] == ["Median days from nomination to endorsement", "15", ""]

    listed = {row[0]: [] for row in files["actions"][1:]}
    for title, _count, name, _school, _detail in files["actions"][1:]:
        if name:
            listed[title].append(name)
    assert listed == {
        "Deadline within 7 days, less than 70% done": ["Ravi Risk"],
        "Failed the first attempt: second still to come": ["Fay First"],
        "Invitations not accepted": ["Ivy Invited"],
        "Nominations awaiting approval": ["Abe Awaiting"],
        "DBS checks and safeguarding training due within 30 days or overdue": ["Bea Ten"],
        "Endorsements expiring within 60 days": [],
        "Register entries suspended": [],
        "Schools tutoring with no designated safeguarding lead": []}
    ravi = next(row for row in files["actions"] if row[2] == "Ravi Risk")
    assert ravi[3] == "Oak Primary" and ravi[4] in body

    assert files["register"][1:] == [[row[0], _plain(row[1])]
                                      for row in _table(body, "register")[1:]]


def test_a_download_names_whose_figures_and_as_of_when(world, signed_in):
    client = signed_in(world.central)
    response = client.get(f"{_dashboard(world)}/pipeline.xlsx")
    built = db.session.get(PipelineBuild, world.trust.id).built_at.astimezone(clock.LONDON)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dashboard-trust-a-pipeline-{built:%Y-%m-%d-%H%M}.xlsx"')
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.properties.title == (f"Pipeline by stage: Trust A, figures as of "
                                     f"{built:%H:%M} on {built:%-d %B %Y}")
    assert client.get(f"{_dashboard(world)}/everything.csv").status_code == 404
    assert client.get(f"{_dashboard(world)}/pipeline.pdf").status_code == 404
    assert client.get(f"{_dashboard(world)}/candidates.csv").status_code == 404


def test_downloaded_names_cannot_run_as_formulas(world, signed_in, db_session):
    sneaky = '=HYPERLINK("http://evil.example","Click")'
    make_nomination(world.oak, name=sneaky)
    make_nomination(make_school(world.trust, name="+Plus Academy"), name="Pat Plus")
    db_session.commit()
    client = signed_in(world.central)
    body = _get(client, _dashboard(world))
    assert str(escape(sneaky)) in body and sneaky not in body
    actions = _download(client, f"{_dashboard(world)}/actions")
    assert ["Nominations awaiting approval", "3", "'" + sneaky, "Oak Primary"] in \
        [row[:4] for row in actions]
    school = _download(client, f"/schools/{world.oak.id}/dashboard/candidates")
    assert ["'" + sneaky, "Oak Primary", "Awaiting approval"] in [row[:3] for row in school]
    comparison = _download(client, f"{_dashboard(world)}/comparison")
    assert "'+Plus Academy" in [row[0] for row in comparison]
    for rows in (actions, school, comparison):
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# --- the school's dashboard -------------------------------------------------------------------


def test_the_school_dashboard_lists_its_candidates_by_stage(world, signed_in):
    client = signed_in(world.head_oak)
    body = _get(client, f"/schools/{world.oak.id}/dashboard")
    assert _stage_counts(body)["Total nominated"] == "7"
    rows = _table(body, "candidates-table")[1:]
    assert [row[:2] for row in rows] == [
        ["Abe Awaiting", "Awaiting approval"], ["Ivy Invited", "Invited"],
        ["Ravi Risk", "In training"], ["Rae Ready", "Ready for assessment"],
        ["Ada Twenty", "Endorsed"], ["Fen Failed", "Failed"], ["Wes Withdrawn", "Withdrawn"]]
    ravi = rows[2]
    percent = db.session.scalar(select(PipelineRecord.percent_done).where(
        PipelineRecord.enrolment_id == world.at_risk.id))
    assert 0 < percent < 70 and ravi[2] == f"{percent}%"
    assert ravi[3] == str(world.at_risk.days_left())
    assert ravi[4] == "Tutor to finish the course"
    nudges = re.findall(r'action="/nominations/(\d+)/nudge"', body)
    assert sorted(map(int, nudges)) == sorted([world.invited.id, world.at_risk.nomination_id,
                                               world.ready.nomination_id])
    assert _list_names(body, "deadline_soon") == ["Ravi Risk"]
    assert 'id="comparison"' not in body
    assert f'href="/trusts/{world.trust.id}/register?school={world.oak.id}"' in body
    download = _download(client, f"/schools/{world.oak.id}/dashboard/candidates")
    assert download[0] == ["Name", "School", "Stage", "Course done (%)", "Days left",
                           "Next action"]
    assert [row[0] for row in download[1:]] == [row[0] for row in rows]
    assert [[_plain(c) for c in row[2:5]] for row in rows] == \
        [row[3:6] for row in download[1:]]
    for section in SECTIONS:
        _download(client, f"/schools/{world.oak.id}/dashboard/{section}")


def test_school_candidates_come_from_the_pipeline_records_with_their_names(world):
    scope = scopes.school_scope(world.head_elm, world.elm)
    rows = dashboards.school_candidates(scope, scopes.Filters())
    assert [(r.name, r.stage) for r in rows] == [
        ("Dee Declined", S.NOT_STARTED), ("Otto Track", S.IN_TRAINING),
        ("Fay First", S.FAILED_FIRST_ATTEMPT), ("Bea Ten", S.APPROVED),
        ("Lia Lapsed", S.LAPSED)]
    by_name = {r.name: r for r in rows}
    assert by_name["Otto Track"].days_left == world.on_track.days_left()
    assert by_name["Otto Track"].percent_done > 0 and by_name["Otto Track"].can_be_nudged
    assert by_name["Bea Ten"].days_left is None and not by_name["Bea Ten"].can_be_nudged
    assert by_name["Fay First"].next_action.startswith("Tutor to revisit")
    filtered = dashboards.school_candidates(
        scope, scopes.Filters(nominated_from=clock.today()))
    assert {r.name for r in filtered} == {"Otto Track", "Fay First", "Dee Declined"}


# --- nudging -----------------------------------------------------------------------------------


def _emails_to(db_session, address: str) -> list[OutboxEmail]:
    db_session.expire_all()
    return db_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)
                              .order_by(OutboxEmail.id)).all()


def test_a_nudge_sends_one_reminder_and_a_second_the_same_day_is_refused(world, signed_in,
                                                                       db_session):
    client = signed_in(world.head_oak)
    ivy = world.invited
    before = len(_emails_to(db_session, ivy.candidate_email))
    version = ivy.invitation_version
    done = client.post(f"/nominations/{ivy.id}/nudge?pathway=primary")
    assert done.status_code == 302
    assert done.headers["Location"] == (
        f"/schools/{world.oak.id}/dashboard?pathway=primary#candidates")
    assert "Ivy Invited has been sent a reminder" in _get(client, done.headers["Location"])
    emails = _emails_to(db_session, ivy.candidate_email)
    assert len(emails) == before + 1
    reminder = emails[-1]
    assert reminder.subject == "A reminder: your invitation to train as a tutor"
    assert "Oak Primary" in reminder.body_text and "/join/" in reminder.body_text
    db_session.refresh(ivy)
    assert ivy.invitation_version == version + 1
    assert db_session.scalars(select(AuditEntry.actor_id).where(
        AuditEntry.action == "nomination.nudged")).all() == [world.head_oak.id]
    assert db_session.scalars(select(SentReminder.kind)).all().count("nudge") == 1

    again = client.post(f"/nominations/{ivy.id}/nudge", follow_redirects=True)
    assert "was reminded less than a day ago" in again.get_data(as_text=True)
    assert len(_emails_to(db_session, ivy.candidate_email)) == before + 1

    clock.travel(timedelta(hours=25))
    assert client.post(f"/nominations/{ivy.id}/nudge").status_code == 302
    assert len(_emails_to(db_session, ivy.candidate_email)) == before + 2


def test_a_nudge_says_what_each_candidate_needs_next(world, signed_in, db_session):
    client = signed_in(world.central)
    for enrolment, subject, link in (
            (world.at_risk, f"{world.at_risk.days_left()} days left to finish your tutor "
                            "training", f"/learn/{world.at_risk.id}"),
            (world.ready, "You are ready to take your tutor assessment",
             f"/learn/{world.ready.id}/assessment"),
            (world.failed_first, "Your second attempt at the tutor assessment",
             f"/learn/{world.failed_first.id}/assessment")):
        assert client.post(f"/nominations/{enrolment.nomination_id}/nudge").status_code == 302
        email = _emails_to(db_session, enrolment.user.email)[-1]
        assert email.subject == subject and link in email.body_text
    first = _emails_to(db_session, world.failed_first.user.email)[-1].body_text
    assert "Before you try again" in first and "Wait until" in first
    ravi = _emails_to(db_session, world.at_risk.user.email)[-1].body_text
    assert re.search(r"You have done \d+% of the course and have \d+ days? left", ravi)


def test_a_nudge_is_refused_for_candidates_who_are_not_in_progress(world, signed_in,
                                                                   db_session):
    client = signed_in(world.head_oak)
    for nomination_id, stage in ((world.endorsed_slow.nomination_id, "endorsed"),
                                 (world.withdrawn.nomination_id, "withdrawn"),
                                 (world.awaiting.id, "awaiting approval")):
        refused = client.post(f"/nominations/{nomination_id}/nudge", follow_redirects=True)
        assert f"is not in progress ({stage})" in refused.get_data(as_text=True)
    assert db_session.scalars(select(SentReminder)).all() == []
    with pytest.raises(DomainError, match="not in progress"):
        nudges.nudge_candidate(db.session.get(Nomination, world.awaiting.id),
                                    actor=world.central)


def test_a_nudge_is_refused_to_people_of_other_schools_and_to_trustees(world, signed_in,
                                                                       db_session):
    url = f"/nominations/{world.invited.id}/nudge"
    assert signed_in(world.head_elm).post(url).status_code == 404
    assert signed_in(world.stranger).post(url).status_code == 404
    assert signed_in(world.trustee).post(url).status_code == 403
    assert signed_in(world.lead).post(url).status_code == 403
    assert db_session.scalars(select(SentReminder)).all() == []
    trustee_page = _get(signed_in(world.trustee), f"/schools/{world.oak.id}/dashboard")
    assert "Ivy Invited" in trustee_page and "/nudge" not in trustee_page


# --- fresh figures -----------------------------------------------------------------------------


def test_refresh_rebuilds_the_figures_and_keeps_the_filters(world, signed_in, db_session, app):
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 3600
    try:
        client = signed_in(world.central)
        _get(client, _dashboard(world))
        built = db_session.get(PipelineBuild, world.trust.id).built_at
        nominations.approve_nomination(world.awaiting, actor=world.central)
        db_session.commit()
        assert _stage_counts(_get(client, _dashboard(world)))["Awaiting approval"] == "1"
        clock.travel(timedelta(minutes=2))
        done = client.post(f"{_dashboard(world)}/refresh?school={world.oak.id}&sort=name")
        assert done.status_code == 302
        assert done.headers["Location"] == f"{_dashboard(world)}?school={world.oak.id}&sort=name"
        page = _get(client, done.headers["Location"])
        assert "worked out again" in page
        assert _stage_counts(page)["Awaiting approval"] == "0"
        assert _stage_counts(page)["Invited"] == "2"
        db_session.expire_all()
        assert db_session.get(PipelineBuild, world.trust.id).built_at > built
        assert client.post(f"{_dashboard(world)}/refresh", csrf=False).status_code == 400
        assert signed_in(world.trustee).post(f"{_dashboard(world)}/refresh").status_code == 302
        assert signed_in(world.head_oak).post(
            f"/schools/{world.oak.id}/dashboard/refresh").status_code == 302
        assert signed_in(world.stranger).post(
            f"{_dashboard(world)}/refresh").status_code == 404
    finally:
        app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0


# --- who sees what -----------------------------------------------------------------------------


def test_a_cluster_lead_sees_only_their_clusters_schools_on_pages_and_downloads(world,
                                                                               signed_in):
    client = signed_in(world.lead)
    body = _get(client, _dashboard(world))
    assert _stage_counts(body)["Total nominated"] == "7"
    assert [row[0] for row in _table(body, "comparison")[1:]] == [
        "All your schools: North (Trust A)", "Oak Primary"]
    assert "Elm Academy" not in body and "Fay First" not in body
    assert f'<option value="{world.north.id}">North</option>' in body
    _get(client, f"{_dashboard(world)}?school={world.elm.id}", 400)
    for section in SECTIONS:
        rows = _download(client, f"{_dashboard(world)}/{section}")
        flat = " ".join(cell for row in rows for cell in row)
        assert "Elm Academy" not in flat and "Fay First" not in flat and "Bea Ten" not in flat
    actions = _download(client, f"{_dashboard(world)}/actions")
    assert "Ravi Risk" in [row[2] for row in actions]
    _get(client, f"/schools/{world.oak.id}/dashboard")
    _get(client, f"/schools/{world.elm.id}/dashboard", 404)


def test_a_school_leader_sees_their_school_and_no_other(world, signed_in):
    client = signed_in(world.head_elm)
    body = _get(client, f"/schools/{world.elm.id}/dashboard")
    assert "Fay First" in body and "Ravi Risk" not in body
    for url in (f"/schools/{world.oak.id}/dashboard", f"/schools/{world.oak.id}/dashboard/"
                "actions.csv", _dashboard(world), f"{_dashboard(world)}/actions.csv"):
        _get(client, url, 404)
    _get(client, "/admin/dashboard", 403)


def test_a_trustee_reads_the_whole_trust(world, signed_in):
    client = signed_in(world.trustee)
    body = _get(client, _dashboard(world))
    assert _stage_counts(body)["Total nominated"] == "12"
    assert "Ravi Risk" in body
    assert _download(client, f"{_dashboard(world)}/actions")


def test_strangers_see_no_dashboard_of_the_trust(world, signed_in, app):
    client = signed_in(world.stranger)
    for url in (_dashboard(world), f"{_dashboard(world)}/actions.csv",
                f"{_dashboard(world)}/comparison.xlsx", f"/schools/{world.oak.id}/dashboard",
                f"/schools/{world.oak.id}/dashboard/candidates.csv",
                "/trusts/99999/dashboard", "/schools/99999/dashboard"):
        body = _get(client, url, 404)
        assert "Ravi Risk" not in body
    _get(client, "/admin/dashboard", 403)
    _get(client, "/admin/dashboard/actions.csv", 403)
    anonymous = app.test_client().get(_dashboard(world))
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


# --- the programme's dashboard ----------------------------------------------------------------


def test_the_programme_dashboard_compares_trusts_for_programme_admins_only(world, signed_in):
    client = signed_in(world.admin)
    body = _get(client, "/admin/dashboard")
    assert _stage_counts(body)["Total nominated"] == "13"
    comparison = _table(body, "comparison")
    assert [row[:2] for row in comparison[1:]] == [
        ["All trusts (programme-wide figure)", "13"], ["Trust A", "12"], ["Trust B", "1"]]
    assert f'href="/trusts/{world.other.id}/dashboard">Trust B' in body
    assert 'href="/admin/item-analysis"' in body
    only_b = _get(client, f"/admin/dashboard?trust={world.other.id}")
    assert _stage_counts(only_b)["Total nominated"] == "1"
    assert f'href="/trusts/{world.other.id}/register"' in only_b
    _get(client, "/admin/dashboard?trust=99999", 400)
    rows = _download(client, "/admin/dashboard/comparison?sort=nominated&dir=asc")
    assert [row[0] for row in rows[1:]] == ["All trusts (programme-wide figure)", "Trust B",
                                            "Trust A"]
    assert client.post("/admin/dashboard/refresh").status_code == 302
    _get(client, _dashboard(world))
    for person in (world.central, world.trustee, world.lead, world.head_oak):
        _get(signed_in(person), "/admin/dashboard", 403)


# --- pages that work for everyone --------------------------------------------------------------


def test_charts_are_tables_with_hidden_svg_bars_and_nothing_inline(world, signed_in):
    for person, url in ((world.central, _dashboard(world)), (world.admin, "/admin/dashboard"),
                        (world.head_oak, f"/schools/{world.oak.id}/dashboard")):
        body = _get(signed_in(person), url)
        assert " style=" not in body and "<script" not in body and "http" not in \
            body.split("<main", 1)[1].replace("http://localhost", "")
        for chart in ("pipeline", "pass-rates", "progress"):
            table = re.search(rf'<table class="table chart" id="{chart}">(.*?)</table>', body,
                              re.S).group(1)
            assert f'<caption id="{chart}-caption">' in table
            assert '<th scope="row">' in table and '<th scope="col"' in table
            bars = re.findall(r"<svg [^>]*>", table)
            assert bars and all('aria-hidden="true"' in b and 'focusable="false"' in b
                                for b in bars)
            assert f'role="region" aria-labelledby="{chart}-caption" tabindex="0"' in body
        for region in re.findall(r'aria-labelledby="([\w-]+)-caption" tabindex="0"', body):
            assert f'<caption id="{region}-caption">' in body


def test_the_header_links_each_role_to_its_dashboard(world, signed_in):
    expected = {
        world.central: _dashboard(world), world.trustee: _dashboard(world),
        world.lead: _dashboard(world), world.head_oak: f"/schools/{world.oak.id}/dashboard",
        world.admin: "/admin/dashboard"}
    for person, url in expected.items():
        nav = _get(signed_in(person), "/account").split("</nav>", 1)[0]
        assert f'href="{url}">' in nav and "ashboard</a>" in nav, person.name


def test_each_page_reads_a_fixed_number_of_queries_however_many_candidates(
        world, signed_in, db_session):
    pages = [(world.central, _dashboard(world)), (world.lead, _dashboard(world)),
             (world.head_oak, f"/schools/{world.oak.id}/dashboard"),
             (world.admin, "/admin/dashboard"),
             (world.central, f"{_dashboard(world)}/actions.csv"),
             (world.central, f"{_dashboard(world)}/comparison.xlsx"),
             (world.head_oak, f"/schools/{world.oak.id}/dashboard/candidates.csv")]
    clients = {person: signed_in(person) for person, _ in pages}
    counts = []
    for more in (False, True):
        if more:
            world.trust.requires_nomination_approval = False
            ash = make_school(world.trust, cluster=world.north, name="Ash Juniors")
            birch = make_school(world.trust, cluster=make_cluster(world.trust, "South"),
                                name="Beech Infants")
            for number, school in enumerate([ash, birch, world.oak, world.elm] * 3):
                make_nomination(school, name=f"Nia Nominee {number}")
                enrol(school, f"Tom Tutor {number}")
            world.trust.requires_nomination_approval = True
            for number in range(4):
                make_nomination(world.oak, name=f"Ann Awaiting {number}")
            third = make_trust("Trust C")
            for number in range(3):
                make_nomination(make_school(third, name=f"Cedar {number}"),
                                name=f"Cy Cedar {number}")
        _settle(db_session)
        measured = []
        for person, url in pages:
            db_session.expire_all()
            with statements_run() as statements:
                response = clients[person].get(url)
            assert response.status_code == 200, url
            measured.append(len(statements))
        counts.append(measured)
    body = _get(clients[world.central], _dashboard(world))
    assert _stage_counts(body)["Total nominated"] == str(12 + 24 + 4)
    assert counts[0] == counts[1], counts
    print("queries per page:", [(person.name, url, count) for (person, url), count
                                in zip(pages, counts[1], strict=True)])


# --- one figure, three places -----------------------------------------------------------------


def test_the_page_the_download_and_the_board_report_agree_on_every_stage(world, signed_in):
    """A trustee asks for the same cohort three ways: the dashboard filtered to the period,
    its pipeline download, and the board report for that period."""
    start, end = clock.today() - timedelta(days=21), clock.today()
    client = signed_in(world.trustee)
    query = f"?nominated_from={start}&nominated_to={end}"
    page = _stage_counts(_get(client, _dashboard(world) + query))
    download = {row[0]: row[1] for row in
                _download(client, _dashboard(world) + "/pipeline" + query)[1:]}
    report_page = _get(client, f"/trusts/{world.trust.id}/board-report?start={start}&end={end}")
    rows = _Tables(report_page).tables[None]  # the report's tables carry no ids
    first = rows.index(["Stage", "Candidates", "Share"]) + 1
    report = {row[0]: row[1] for row in rows[first:first + len(dashboards.PipelineStage)]}
    scope = scopes.trust_scope(world.trustee, world.trust)
    expected = {s.stage.label: s.count for s in dashboards.dashboard(
        scope, scopes.Filters(nominated_from=start, nominated_to=end)).pipeline.stages}
    assert sum(expected.values()) == 9  # everyone but the three nominated 22 and 30 days ago
    for label, count in expected.items():
        assert _plain(page[label]) == _plain(download[label]) == _plain(report[label]) \
            == str(count), label
