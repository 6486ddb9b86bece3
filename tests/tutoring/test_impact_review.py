"""The termly impact review: each programme's figures compared across schools, the central
team's decision with its reason (audited), trustees reading but not deciding, and the decision
and the tutoring figures in the board report and the dashboards' downloads."""

import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.insight import reports, scopes
from lms.platform import clock
from lms.platform.roles import Role
from lms.tutoring.models import ImpactReview
from tests.downloads import csv_rows
from tests.factories import make_member, make_school, make_trust
from tests.tutoring_factory import log_delivered, make_group, make_programme


def _week_ago():
    return clock.today() - timedelta(days=7)


def _trust_with_tutoring():
    trust = make_trust("Trust A")
    oak = make_school(trust, name="Oak Primary")
    elm = make_school(trust, name="Elm Academy")
    programme = make_programme(trust, name="Reading Boost", rate_pence=3000)
    for school, absent in ((oak, False), (elm, True)):
        group = make_group(school, programme=programme, pupil_count=2, starts_on=_week_ago())
        log_delivered(group, _week_ago(), absent=(group.places[0].pupil_id,) if absent else ())
    return trust, programme, oak, elm


def _decide(client, trust, programme, **data):
    return client.post(f"/trusts/{trust.id}/tutoring/impact-review", data={
        "programme_key": programme.key, **data})


def test_the_review_compares_each_programme_across_its_schools(db_session, client, sign_in):
    trust, programme, oak, elm = _trust_with_tutoring()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    page = client.get(f"/trusts/{trust.id}/tutoring/impact-review").get_data(as_text=True)
    assert "Reading Boost" in page and "School-led small group" in page
    table = page.split(f'id="schools-{programme.key}"', 1)[1].split("</table>", 1)[0]
    assert "Oak Primary" in table and "Elm Academy" in table
    assert "100%" in table and "50%" in table  # attendance at each school
    assert "Record the decision" in page


def test_the_central_teams_decision_is_audited_and_in_the_board_report(db_session, client,
                                                                       sign_in):
    trust, programme, _, _ = _trust_with_tutoring()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    response = _decide(client, trust, programme, decision="expand",
                       reason="Attendance above 75% at both schools; progress on target.")
    assert response.status_code == 302
    review = db_session.scalars(select(ImpactReview)).one()
    assert (review.decision.value, review.programme_name, review.decided_by_id) == (
        "expand", "Reading Boost", central.id)
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "tutoring.impact_decided")).one()
    assert entry.reason.startswith("Attendance above 75%") and entry.actor_id == central.id
    assert entry.trust_id == trust.id
    page = client.get(f"/trusts/{trust.id}/tutoring/impact-review").get_data(as_text=True)
    assert "Expand" in page and "progress on target" in page

    board = client.get(f"/trusts/{trust.id}/board-report").get_data(as_text=True)
    assert "Tutoring delivery" in board and "Reading Boost" in board
    decisions = board.split('id="impact-decisions"', 1)[1].split("</table>", 1)[0]
    assert "Expand" in decisions and "progress on target" in decisions
    start, end = reports.term_so_far(clock.today())
    report = reports.board_report(scopes.Scope(trust.name, frozenset({trust.id}), None,
                                               trust=trust), start, end)
    assert [d.id for d in report.tutoring.decisions] == [review.id]
    assert report.tutoring.current.pupils == 3  # 2 at Oak, 1 at Elm (the other was absent)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(
        reports.board_report_pdf(report))).pages)
    assert "Tutoring delivery" in text and "Expand" in text and "Pupils tutored" in text


def test_a_decision_needs_a_choice_and_a_reason_and_says_both_at_once(db_session, client,
                                                                      sign_in):
    trust, programme, _, _ = _trust_with_tutoring()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    response = _decide(client, trust, programme, decision="", reason="  ")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose continue, change, stop or expand" in page
    assert "Give the reason for the decision" in page
    response = _decide(client, trust, programme, decision="abandon", reason="No")
    assert response.status_code == 400
    assert db_session.scalars(select(ImpactReview)).all() == []


def test_trustees_read_the_review_but_cannot_decide(db_session, client, sign_in):
    trust, programme, _, _ = _trust_with_tutoring()
    trustee = make_member(Role.TRUSTEE, trust=trust)
    db_session.commit()
    sign_in(trustee)
    page = client.get(f"/trusts/{trust.id}/tutoring/impact-review")
    assert page.status_code == 200
    assert "Reading Boost" in page.get_data(as_text=True)
    assert "Record the decision" not in page.get_data(as_text=True)
    response = _decide(client, trust, programme, decision="stop", reason="Too dear")
    assert response.status_code == 403
    assert db_session.scalars(select(ImpactReview)).all() == []


def test_the_dashboards_download_has_a_tutoring_section_from_the_same_figures(
        db_session, client, sign_in):
    trust, programme, oak, _ = _trust_with_tutoring()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    rows = csv_rows(client.get(f"/trusts/{trust.id}/dashboard/tutoring.csv"))
    heading, overall = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert heading[:2] == ["Split", "Name"]
    assert overall["Pupils tutored"] == "3" and overall["Sessions delivered"] == "2"
    assert overall["Cost per attended hour (£)"] == "20.00"  # £60 for 3 pupil-hours
    by_school = {r[1]: dict(zip(heading, r, strict=True)) for r in rows if r[0] == "School"}
    assert by_school["Elm Academy"]["Attendance (%)"] == "50"
    # The school's own download covers the school only.
    rows = csv_rows(client.get(f"/schools/{oak.id}/dashboard/tutoring.csv"))
    assert dict(zip(rows[0], rows[1], strict=True))["Pupils tutored"] == "2"
