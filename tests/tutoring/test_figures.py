"""The tutoring figures, each defined once in ``lms.tutoring.figures``: what they count, what
they leave out, and how they split."""

from datetime import date, timedelta

import pytest

from lms.platform import clock
from lms.platform.errors import DomainError
from lms.tutoring import figures
from lms.tutoring.figures import Coverage, Period
from tests.factories import make_provider, make_school
from tests.tutoring_factory import (
    log_cancelled,
    log_delivered,
    make_cleared_tutor,
    make_group,
    make_programme,
)


def _today():
    return clock.today()


def _weeks_ago(n: int) -> date:
    return _today() - timedelta(days=7 * n)


def _last_five_weeks() -> Period:
    return Period(_today() - timedelta(days=35), _today())


def _figures(school, period=None, **options):
    return figures.tutoring_figures(Coverage("Trust", school.trust_id), period
                                    or _last_five_weeks(), **options)


# --- sessions --------------------------------------------------------------------------------


def test_sessions_planned_are_the_weekly_slots_the_group_had_in_the_period(db_session):
    school = make_school()
    group = make_group(school, starts_on=_weeks_ago(4))  # meets today's weekday
    log_delivered(group, _weeks_ago(4))
    log_delivered(group, _weeks_ago(3))
    log_cancelled(group, _weeks_ago(2))
    overall = _figures(school).overall
    # Slots 4, 3, 2 and 1 weeks ago and today: five planned, whatever was logged.
    assert (overall.planned, overall.delivered, overall.cancelled) == (5, 2, 1)
    assert overall.delivered_percent == 40.0


def test_planned_slots_run_from_the_later_start_to_the_earliest_end():
    monday = date(2025, 9, 1)
    period = Period(monday, date(2025, 9, 30))
    # Tuesdays from 2 September: the 2nd, 9th, 16th, 23rd and 30th.
    assert figures.planned_for(1, date(2025, 8, 1), None, period, today=date(2026, 1, 1)) == 5
    # A group starting on the 10th misses the first two.
    assert figures.planned_for(1, date(2025, 9, 10), None, period, today=date(2026, 1, 1)) == 3
    # One that ended on the 20th had three; today (the 17th) stops the count too.
    assert figures.planned_for(1, monday, date(2025, 9, 20), period,
                               today=date(2026, 1, 1)) == 3
    assert figures.planned_for(1, monday, None, period, today=date(2025, 9, 17)) == 3
    assert figures.planned_for(1, date(2025, 10, 1), None, period, today=date(2026, 1, 1)) == 0


# --- dosage ----------------------------------------------------------------------------------


def test_a_ghost_pupil_on_the_group_counts_no_hours(db_session):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(2))
    ghost = group.places[1].pupil_id
    log_delivered(group, _weeks_ago(2), absent=(ghost,))
    log_delivered(group, _weeks_ago(1), absent=(ghost,))
    overall = _figures(school).overall
    assert overall.hours == 2.0  # the one pupil who came, twice an hour; never the ghost's
    assert overall.pupils == 1 and overall.pupils_on_registers == 2
    assert overall.hours_per_pupil == 1.0  # the ghost brings dosage down, not up
    assert overall.attendance_percent == 50.0


def test_dosage_is_measured_against_the_programme_plan(db_session):
    school = make_school()
    programme = make_programme(school.trust, planned_sessions=10, session_minutes=30)
    group = make_group(school, programme=programme, pupil_count=1, starts_on=_weeks_ago(1))
    log_delivered(group, _weeks_ago(1))
    log_delivered(group, _today())
    overall = _figures(school).overall
    assert overall.planned_hours_per_pupil == 5.0  # 10 sessions of 30 minutes
    assert overall.hours_per_pupil == 1.0
    assert overall.dosage_percent == 20.0


def test_hours_are_also_rounded_to_the_nearest_half_hour_per_pupil(db_session):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(1))
    log_delivered(group, _weeks_ago(1), minutes=40)
    overall = _figures(school).overall
    assert overall.hours == 1.3  # 80 minutes
    assert overall.rounded_hours == 1.0  # 40 minutes is half an hour, for each pupil
    log_delivered(group, _today(), minutes=5, absent=(group.places[1].pupil_id,))
    # 45 minutes rounds up to an hour; 40 stays half an hour.
    assert _figures(school).overall.rounded_hours == 1.5


# --- attendance, engagement, progress --------------------------------------------------------


def test_attendance_counts_late_as_there_and_engagement_is_the_mean_rating(db_session):
    from lms.tutoring import sessions

    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(1))
    first, second = (p.pupil_id for p in group.places)
    sessions.log_session(group, sessions.SessionLog(
        held_on=_weeks_ago(1), status="delivered",
        marks={first: sessions.PupilMark("late", engagement=2),
               second: sessions.PupilMark("absent", "ill")}), actor=None)
    log_delivered(group, _today(), engagement=5)
    overall = _figures(school).overall
    assert overall.attendance_percent == 75.0  # 3 of 4 marks present or late
    assert overall.engagement == 4.0  # (2 + 5 + 5) / 3: the absent pupil has no rating


def test_progress_is_current_minus_baseline_and_the_share_at_target(db_session):
    school = make_school()
    group = make_group(school, pupil_count=3, starts_on=_weeks_ago(2))
    log_delivered(group, _weeks_ago(2))
    on_target, behind, unmeasured = group.places
    on_target.baseline, on_target.current, on_target.target = 40, 52, 50
    behind.baseline, behind.current, behind.target = 30, 34, 45
    unmeasured.baseline = 20  # no current status yet: not measured
    db_session.flush()
    overall = _figures(school).overall
    assert overall.measured == 2
    assert overall.mean_progress == 8.0 and overall.scale.unit == "points"
    assert overall.at_target_percent == 50.0


def test_progress_is_not_averaged_across_different_scales(db_session):
    school = make_school()
    scored = make_group(school, pupil_count=1, starts_on=_weeks_ago(1))
    graded = make_group(school, pupil_count=1, starts_on=_weeks_ago(1), programme=make_programme(
        school.trust, measure_scale="gcse_grade"))
    scored.places[0].baseline, scored.places[0].current = 40, 60
    graded.places[0].baseline, graded.places[0].current = 3, 4
    db_session.flush()
    result = _figures(school)
    assert result.overall.mean_progress is None  # points and grades do not add up
    by_programme = {r.key: r.mean_progress for r in result.rows("programme")}
    assert by_programme == {scored.programme_key: 20.0, graded.programme_key: 1.0}


# --- cost ------------------------------------------------------------------------------------


def test_cost_per_attended_hour_divides_the_cost_by_the_hours_pupils_came(db_session):
    school = make_school()
    programme = make_programme(school.trust, rate_pence=3000, school_contribution_percent=25)
    group = make_group(school, programme=programme, pupil_count=2, starts_on=_weeks_ago(1))
    log_delivered(group, _weeks_ago(1), absent=(group.places[1].pupil_id,))
    overall = _figures(school).overall
    assert overall.cost == 30.0  # one tutor hour at £30
    assert overall.cost_per_attended_hour == 30.0  # one pupil-hour attended: the ghost costs
    assert overall.cost_per_pupil == 30.0
    assert overall.school_contribution == 7.5
    log_delivered(group, _today())
    overall = _figures(school).overall
    assert overall.cost == 60.0 and overall.cost_per_attended_hour == 20.0  # 3 hours came


# --- splits ----------------------------------------------------------------------------------


def test_figures_split_by_school_programme_model_and_pupil_characteristics(db_session):
    school = make_school()
    other = make_school(school.trust)
    here = make_group(school, pupil_count=2, starts_on=_weeks_ago(1))
    there = make_group(other, pupil_count=1, starts_on=_weeks_ago(1),
                       programme=make_programme(school.trust, delivery_model="one_to_one",
                                                max_group_size=1))
    here.places[0].pupil.disadvantaged = True
    here.places[1].pupil.send = True
    log_delivered(here, _weeks_ago(1))
    log_delivered(there, _weeks_ago(1))
    result = _figures(school)
    assert {r.label: r.pupils for r in result.rows("school")} == {school.name: 2, other.name: 1}
    assert {r.key: r.pupils for r in result.rows("delivery_model")} == {
        "small_group": 2, "one_to_one": 1}
    assert {r.key: r.pupils for r in result.rows("disadvantaged")} == {"yes": 1, "no": 2}
    assert {r.key: r.pupils for r in result.rows("send")} == {"yes": 1, "no": 2}
    assert result.overall.disadvantaged_percent == 33.3
    # Sessions and cost belong to groups: the pupils' splits leave them out.
    assert result.row("send", "yes").delivered is None
    assert result.row("school", str(school.id)).delivered == 1


def test_the_tutor_pathway_is_their_enrolment_and_a_providers_tutor_is_other(db_session):
    school = make_school()
    secondary = make_cleared_tutor(school, tutoring_phase="secondary")
    provider = make_provider()
    delivered_by_provider = make_programme(school.trust, delivery_model="provider",
                                           provider_id=provider.id)
    own = make_group(school, tutor=secondary, pupil_count=1, starts_on=_weeks_ago(1))
    bought = make_group(school, programme=delivered_by_provider, pupil_count=1,
                        starts_on=_weeks_ago(1))
    log_delivered(own, _weeks_ago(1))
    log_delivered(bought, _weeks_ago(1))
    pathways = {r.key: r.delivered for r in _figures(school).rows("pathway")}
    assert pathways == {"secondary": 1, "other": 1}


def test_figures_count_only_the_period(db_session):
    school = make_school()
    group = make_group(school, pupil_count=1, starts_on=_weeks_ago(8))
    log_delivered(group, _weeks_ago(8))
    log_delivered(group, _weeks_ago(1))
    assert _figures(school).overall.delivered == 1
    assert _figures(school, Period(_weeks_ago(9), _today())).overall.delivered == 2


def test_a_period_is_checked_with_a_clear_message():
    with pytest.raises(DomainError, match="same as or after"):
        figures.check_period(date(2025, 9, 10), date(2025, 9, 1))
    with pytest.raises(DomainError, match="2 years or shorter"):
        figures.check_period(date(2022, 9, 1), date(2025, 9, 1))
    assert figures.check_period(date(2025, 9, 1), date(2025, 12, 31)).label == \
        "Autumn term 2025"
