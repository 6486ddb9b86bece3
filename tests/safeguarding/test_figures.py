"""Counts and timings only; outside the school a count from 1 to 4 reads "fewer than 5"."""

from datetime import timedelta

from lms.platform import clock
from lms.safeguarding import figures, services
from tests.safeguarding_factory import make_safeguarding_school, raise_about_child


def test_small_counts_are_hidden_outside_the_school_only():
    assert figures.shown(3, inside_school=False) == figures.FEWER == "fewer than 5"
    assert figures.shown(3, inside_school=True) == "3"
    assert figures.shown(5, inside_school=False) == "5"
    assert figures.shown(0, inside_school=False) == "none"


def test_time_to_acknowledge_p50_and_p95_by_school(db_session):
    world = make_safeguarding_school()
    for minutes in (5, 10, 15, 20, 90):
        concern = raise_about_child(world)
        clock.travel(timedelta(minutes=minutes))
        services.acknowledge(concern, actor=world.dsl)
        clock.travel(-timedelta(minutes=minutes))
    (row,) = figures.by_school(world.trust.id, school_id=world.school.id)
    assert row.raised == 5 and round(row.p50) == 15 and round(row.p95) == 90
    shown = row.row(inside_school=False)
    assert shown["raised"] == "5" and shown["acknowledge_p50"] == "15 min"
    assert shown["acknowledge_p95"] == "1.5 h"


def test_overdue_acknowledgements_count_past_the_first_threshold(db_session):
    world = make_safeguarding_school()
    raise_about_child(world)
    clock.travel(timedelta(minutes=61))
    raise_about_child(world)
    (row,) = figures.by_school(world.trust.id, school_id=world.school.id)
    assert row.overdue == 1
    assert row.row(inside_school=False)["overdue"] == figures.FEWER
    assert row.row(inside_school=True)["overdue"] == "1"


def test_a_school_tutoring_with_no_dsl_is_listed_for_the_central_team(db_session):
    world = make_safeguarding_school(dsl=False, deputies=0)
    covered = make_safeguarding_school(trust=world.trust)
    quiet = make_safeguarding_school(trust=world.trust, dsl=False, deputies=0, group=False)
    listed = figures.schools_without_dsl(world.trust.id)
    assert world.school in listed
    assert covered.school not in listed and quiet.school not in listed


def test_the_figures_hold_no_content(db_session):
    world = make_safeguarding_school()
    raise_about_child(world)
    (row,) = figures.by_school(world.trust.id)
    assert set(row.row(inside_school=False)) == {"school", "raised", "about_adults",
                                                  "acknowledge_p50", "acknowledge_p95",
                                                  "overdue"}


def test_the_central_teams_action_list_names_schools_tutoring_with_no_dsl(db_session):
    from lms.insight.action_lists import action_lists
    from lms.insight.scopes import Filters, trust_scope

    world = make_safeguarding_school(dsl=False, deputies=0)
    scope = trust_scope(world.central, world.trust)
    (listed,) = [a for a in action_lists(scope, Filters()) if a.key == "no_dsl"]
    assert listed.count == 1 and [i.name for i in listed.items] == [world.school.name]


def test_the_board_report_shows_counts_and_timings_with_small_counts_hidden(db_session):
    from lms.insight.reports import board_report, board_report_pdf
    from lms.insight.scopes import trust_scope
    from tests.safeguarding_factory import PLANTED

    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=30))
    services.acknowledge(concern, actor=world.dsl)
    today = clock.today()
    report = board_report(trust_scope(world.central, world.trust),
                          today - timedelta(days=27), today)
    rows = {label: (now, before) for label, now, before in report.safeguarding}
    assert rows["Concerns raised"] == ("fewer than 5", "none")
    assert rows["Time to acknowledge (median)"] == ("30 min", "-")
    pdf = board_report_pdf(report)
    assert pdf.startswith(b"%PDF") and PLANTED.encode() not in pdf
