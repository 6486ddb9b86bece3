"""The tutoring dashboards as their users meet them: what needs attention (each rule), who
sees pupils' names, who may see which dashboard, the funder return's numbers, and SQL that
does not grow with the data."""

from datetime import date, timedelta

from sqlalchemy import select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from lms.platform import clock
from lms.platform.roles import Role
from lms.tutoring import action_list
from lms.tutoring.figures import Coverage
from tests.downloads import csv_rows, xlsx_rows
from tests.factories import make_cluster, make_member, make_school, make_trust
from tests.statements import statements_run
from tests.tutoring_factory import (
    log_cancelled,
    log_delivered,
    make_group,
    make_programme,
)


def _weeks_ago(n: int) -> date:
    return clock.today() - timedelta(days=7 * n)


def _list(school, key: str) -> action_list.ActionList:
    coverage = Coverage("Trust", school.trust_id)
    return next(found for found in action_list.action_lists(coverage) if found.key == key)


def _flagged(school, key: str) -> set:
    return {(i.group_id, i.pseudonym) for i in _list(school, key).items}


def _place(group, index: int):
    return group.places[index]


# --- the action list, rule by rule ----------------------------------------------------------


def test_a_pupil_who_missed_two_sessions_in_a_row_needs_attention(db_session):
    school = make_school()
    group = make_group(school, pupil_count=3, starts_on=_weeks_ago(3))
    twice, apart, there = (p.pupil for p in group.places)
    log_delivered(group, _weeks_ago(3), absent=(apart.id,))
    log_delivered(group, _weeks_ago(2), absent=(twice.id,))
    log_cancelled(group, _weeks_ago(1))  # no marks: the run goes on across it
    log_delivered(group, clock.today(), absent=(twice.id, apart.id))
    assert _flagged(school, "missed") == {(group.id, twice.pseudonym)}


def test_a_group_below_75_percent_attendance_over_its_last_4_sessions(db_session):
    school = make_school()
    low = make_group(school, pupil_count=2, starts_on=_weeks_ago(4), name="Low")
    fine = make_group(school, pupil_count=2, starts_on=_weeks_ago(4), name="Fine")
    for weeks in (4, 3, 2, 1):
        log_delivered(low, _weeks_ago(weeks), absent=(_place(low, 0).pupil_id,)
                      if weeks > 1 else ())  # 5 of 8 marks: 62.5%
        log_delivered(fine, _weeks_ago(weeks), absent=(_place(fine, 0).pupil_id,)
                      if weeks == 4 else ())  # 7 of 8: 87.5%
    found = _list(school, "low_attendance")
    assert [i.group_id for i in found.items] == [low.id]
    assert "62.5% attendance over the last 4 sessions" in found.items[0].detail
    # The session 4 weeks ago falls out once a fifth comes: low's last 4 are 6 of 8 (75%).
    log_delivered(low, clock.today())
    assert _list(school, "low_attendance").count == 0


def test_a_group_with_no_session_logged_for_14_days(db_session):
    school = make_school()
    quiet = make_group(school, pupil_count=1, starts_on=_weeks_ago(4), name="Quiet")
    busy = make_group(school, pupil_count=1, starts_on=_weeks_ago(4), name="Busy")
    new = make_group(school, pupil_count=1, starts_on=_weeks_ago(1), name="New")
    log_delivered(quiet, _weeks_ago(2))  # 14 days ago: two weeks without
    log_cancelled(busy, _weeks_ago(1))  # a cancelled session is logged too
    found = _list(school, "no_session")
    assert [i.group_id for i in found.items] == [quiet.id]
    assert new.id not in {i.group_id for i in found.items}  # not 14 days old yet


def test_a_pupil_with_no_baseline_after_the_first_session(db_session):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(1))
    waiting = make_group(school, pupil_count=1, starts_on=_weeks_ago(1))  # not met yet
    first, second = group.places
    assert _flagged(school, "no_baseline") == set()
    log_delivered(group, _weeks_ago(1))
    first.baseline = 42
    db_session.flush()
    assert _flagged(school, "no_baseline") == {(group.id, second.pupil.pseudonym)}
    assert waiting.id not in {g for g, _ in _flagged(school, "no_baseline")}


def test_a_pupil_with_no_current_status_in_the_last_6_weeks(db_session):
    school = make_school()
    group = make_group(school, pupil_count=3, starts_on=_weeks_ago(8))
    stale, recent, never = group.places
    stale.current, stale.current_on = 50, _weeks_ago(7)
    recent.current, recent.current_on = 50, _weeks_ago(1)
    new = make_group(school, pupil_count=1, starts_on=_weeks_ago(2))  # too soon to ask
    db_session.flush()
    assert _flagged(school, "stale_progress") == {(group.id, stale.pupil.pseudonym),
                                                  (group.id, never.pupil.pseudonym)}
    assert new.id not in {g for g, _ in _flagged(school, "stale_progress")}


def test_a_group_whose_tutor_is_not_approved_for_the_school_is_paused(db_session):
    school = make_school()
    paused = make_group(school, pupil_count=1)
    running = make_group(school, pupil_count=1)
    assert _list(school, "not_cleared").count == 0
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == paused.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Under review", actor=None)
    db_session.flush()
    found = _list(school, "not_cleared")
    assert [i.group_id for i in found.items] == [paused.id]
    assert "suspended" in found.items[0].detail
    assert running.id not in {i.group_id for i in found.items}


def test_every_item_links_to_the_group_where_it_is_fixed(db_session, app):
    from flask import url_for

    school = make_school()
    group = make_group(school, pupil_count=1, starts_on=_weeks_ago(1))
    log_delivered(group, _weeks_ago(1))
    item = _list(school, "no_baseline").items[0]
    with app.test_request_context():
        assert url_for(item.endpoint, **item.args) == f"/groups/{group.id}"


# --- names and pseudonyms --------------------------------------------------------------------


def _world(db_session):
    school = make_school()
    group = make_group(school, pupil_count=1, starts_on=_weeks_ago(1))
    log_delivered(group, _weeks_ago(1))  # no baseline yet: listed by name or pseudonym
    pupil = group.places[0].pupil
    return school, group, pupil


def test_the_schools_tutoring_lead_sees_names_and_the_trust_pseudonyms(db_session, client,
                                                                      sign_in):
    school, group, pupil = _world(db_session)
    lead = make_member(Role.TUTORING_LEAD, school=school)
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    db_session.commit()
    sign_in(lead)
    page = client.get(f"/schools/{school.id}/tutoring/dashboard").get_data(as_text=True)
    assert pupil.display_name in page and pupil.pseudonym not in page
    client.post("/sign-out")
    sign_in(central)
    for url in (f"/trusts/{school.trust_id}/tutoring/dashboard",
                f"/schools/{school.id}/tutoring/dashboard"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert pupil.pseudonym in page and pupil.display_name not in page


def test_the_dashboard_draws_its_charts_with_their_numbers_in_tables(db_session, client,
                                                                     sign_in):
    school, group, _ = _world(db_session)
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    db_session.commit()
    sign_in(central)
    page = client.get(f"/trusts/{school.trust_id}/tutoring/dashboard").get_data(as_text=True)
    for key in ("attendance-weeks", "hours-weeks", "progress-programmes", "cost-schools"):
        assert f'id="chart-{key}-table"' in page and f'id="chart-{key}-caption"' in page
    assert page.count('role="img"') >= 3 and "<title id=" in page
    assert "<script" not in page.split("<main", 1)[-1]
    assert "style=" not in page  # the Content-Security-Policy forbids inline styles


# --- who may see which dashboard -------------------------------------------------------------


def test_a_school_leader_of_another_school_gets_404(db_session, client, sign_in):
    school = make_school()
    elsewhere = make_member(Role.SCHOOL_LEADER, school=make_school(school.trust))
    db_session.commit()
    sign_in(elsewhere)
    for url in (f"/schools/{school.id}/tutoring/dashboard",
                f"/schools/{school.id}/tutoring/funder-return.csv",
                f"/trusts/{school.trust_id}/tutoring/dashboard",
                f"/trusts/{school.trust_id}/tutoring/impact-review"):
        assert client.get(url).status_code == 404, url


def test_a_cluster_lead_sees_the_trust_dashboard_for_their_clusters_schools(db_session, client,
                                                                            sign_in):
    trust = make_trust()
    cluster = make_cluster(trust, name="North")
    inside = make_school(trust, cluster=cluster, name="Inside Primary")
    outside = make_school(trust, name="Outside Academy")
    for school in (inside, outside):
        log_delivered(make_group(school, pupil_count=1, starts_on=_weeks_ago(1)),
                      _weeks_ago(1))
    lead = make_member(Role.CLUSTER_LEAD, cluster=cluster)
    db_session.commit()
    sign_in(lead)
    page = client.get(f"/trusts/{trust.id}/tutoring/dashboard").get_data(as_text=True)
    assert "Inside Primary" in page and "Outside Academy" not in page
    assert client.get(f"/schools/{outside.id}/tutoring/dashboard").status_code == 404


def test_a_period_with_mistakes_shows_every_problem_at_once(db_session, client, sign_in):
    school = make_school()
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    db_session.commit()
    sign_in(central)
    response = client.get(f"/trusts/{school.trust_id}/tutoring/dashboard"
                          "?term=custom&start=2025-02-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Start date must be a real date" in page and "Enter the end date" in page
    response = client.get(f"/trusts/{school.trust_id}/tutoring/dashboard"
                          "?start=2025-10-01&end=2025-09-01")
    assert "The end date must be the same as or after the start date" in \
        response.get_data(as_text=True)
    assert client.get(f"/trusts/{school.trust_id}/tutoring/dashboard?term=1999-winter"
                      ).status_code == 400


# --- the funder return -----------------------------------------------------------------------


def test_the_funder_return_gives_pupils_hours_spend_and_the_schools_contribution(
        db_session, client, sign_in):
    school = make_school(name="Oak Primary")
    programme = make_programme(school.trust, rate_pence=3000, school_contribution_percent=25)
    group = make_group(school, programme=programme, pupil_count=2, starts_on=_weeks_ago(2))
    ghost = group.places[1].pupil_id
    log_delivered(group, _weeks_ago(2), absent=(ghost,))
    log_delivered(group, _weeks_ago(1), minutes=40, absent=(ghost,))
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    lead = make_member(Role.TUTORING_LEAD, school=school)
    db_session.commit()
    start, end = _weeks_ago(3).isoformat(), clock.today().isoformat()
    sign_in(central)
    rows = csv_rows(client.get(f"/trusts/{school.trust_id}/tutoring/funder-return.csv"
                               f"?start={start}&end={end}"))
    heading, oak, total = rows
    line = dict(zip(heading, oak, strict=True))
    assert line["School"] == "Oak Primary" and line["URN"] == school.urn
    assert line["Pupils tutored"] == "1"  # the ghost was never there
    assert line["Hours attended"] == "1.7"  # 60 + 40 minutes
    assert line["Hours attended (each pupil's to the nearest half hour)"] == "1.5"
    assert line["Total spend (£)"] == "50.00"  # 100 tutor minutes at £30 an hour
    assert line["School's own contribution (£)"] == "12.50"
    assert line["Funded (£)"] == "37.50"
    assert total[0] == "Total" and total[2:] == oak[2:]
    client.post("/sign-out")
    sign_in(lead)
    sheet = xlsx_rows(client.get(f"/schools/{school.id}/tutoring/funder-return.xlsx"
                                 f"?start={start}&end={end}"))
    assert sheet[1][:3] == ["Oak Primary", school.urn, "1"]


# --- the SQL does not grow with the data -----------------------------------------------------


def _more_tutoring(trust, schools: int) -> None:
    for _ in range(schools):
        school = make_school(trust)
        for _ in range(2):
            group = make_group(school, pupil_count=3, starts_on=_weeks_ago(4))
            for weeks in (4, 3, 2, 1):
                log_delivered(group, _weeks_ago(weeks), absent=(group.places[0].pupil_id,))
            group.places[1].baseline, group.places[1].current = 10, 20


def _statements(client, url: str) -> int:
    assert client.get(url).status_code == 200
    with statements_run() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_dashboards_run_as_many_statements_whatever_the_data(db_session, client, sign_in):
    trust = make_trust()
    first = make_school(trust)
    _more_tutoring(trust, 0)
    log_delivered(make_group(first, pupil_count=1, starts_on=_weeks_ago(1)), _weeks_ago(1))
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    leader = make_member(Role.SCHOOL_LEADER, school=first)
    db_session.commit()
    urls = {central: f"/trusts/{trust.id}/tutoring/dashboard",
            leader: f"/schools/{first.id}/tutoring/dashboard"}
    before = {}
    for person, url in urls.items():
        sign_in(person)
        before[url] = _statements(client, url)
        client.post("/sign-out")
    _more_tutoring(trust, 3)
    _more_tutoring_at = make_group(first, pupil_count=3, starts_on=_weeks_ago(4))
    for weeks in (4, 3, 2):
        log_delivered(_more_tutoring_at, _weeks_ago(weeks))
    db_session.commit()
    for person, url in urls.items():
        sign_in(person)
        assert _statements(client, url) == before[url], url
        client.post("/sign-out")
