"""The kept tutoring totals (``lms.tutoring.totals``): a trust's dashboards read marks and
sessions added up as they are logged, and every figure is the same as adding up the marks."""

from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy import delete, func, select

from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring import figures, groups, sessions, totals
from lms.tutoring.figures import Coverage, Period
from lms.tutoring.models import (
    GroupTermTotal,
    PlaceTermTotal,
    SchoolDayTotal,
    TutoringTotalsBuild,
)
from lms.tutoring.periods import term_of, whole_term
from tests.factories import make_school
from tests.tutoring_factory import (
    log_cancelled,
    log_delivered,
    make_group,
    make_programme,
    make_pupil,
)


def _weeks_ago(n: int) -> date:
    return clock.today() - timedelta(days=7 * n)


def _seen(result: figures.TutoringFigures) -> dict:
    """Every figure of a result, to compare two ways of working them out."""
    return {"overall": asdict(result.overall),
            "splits": {name: [asdict(row) for row in rows]
                       for name, rows in sorted(result.splits.items())},
            "weeks": [asdict(week) for week in result.weeks]}


def _both_ways(coverage: Coverage, period: Period) -> tuple[dict, dict]:
    """The figures from the kept totals, and from the marks (the trust's build set aside)."""
    kept = _seen(figures.tutoring_figures(coverage, period))
    build = db.session.get(TutoringTotalsBuild, coverage.trust_id)
    db.session.delete(build)
    db.session.flush()
    try:
        live = _seen(figures.tutoring_figures(coverage, period))
    finally:
        db.session.add(TutoringTotalsBuild(trust_id=build.trust_id, built_at=build.built_at))
        db.session.flush()
    return kept, live


def _rows(trust_id: int) -> dict:
    def table(model, *order):
        columns = [c for c in model.__table__.columns]
        return [tuple(row) for row in db.session.execute(
            select(*columns).where(model.trust_id == trust_id, *order[1:]).order_by(*order[:1]
                                                                                     or columns))]
    return {model.__tablename__: table(model) for model in totals.TABLES}


def _trust_with_tutoring():
    """Two schools: per-hour, per-pupil and per-term programmes, pupils of every kind,
    sessions this term and last, absences, unrated pupils and cancellations."""
    school = make_school()
    other = make_school(school.trust)
    assert totals.built(school.trust_id)  # kept from the start: every session below is added
    hourly = make_programme(school.trust, cost_model="per_tutor_hour", rate_pence=3000)
    per_pupil = make_programme(school.trust, cost_model="per_pupil", rate_pence=12000,
                               delivery_model="one_to_one", max_group_size=1)
    termly = make_programme(school.trust, cost_model="per_term", rate_pence=50000,
                            measure_scale="reading_age")
    long_running = make_group(school, programme=hourly, pupil_count=3, starts_on=_weeks_ago(24))
    first, second, third = (p.pupil_id for p in long_running.places)
    for n in (22, 21, 20, 6, 5, 4):
        log_delivered(long_running, _weeks_ago(n), absent=(third,) if n % 2 else (),
                      minutes=50 if n == 5 else None)
    log_cancelled(long_running, _weeks_ago(3))
    log_delivered(long_running, _weeks_ago(2), absent=(first, second))
    one_to_one = make_group(other, programme=per_pupil, pupil_count=1,
                            starts_on=_weeks_ago(3))
    log_delivered(one_to_one, _weeks_ago(3), engagement=None)
    log_cancelled(one_to_one, _weeks_ago(2))
    reading = make_group(other, programme=termly, pupil_count=2, starts_on=_weeks_ago(4))
    reading.places[0].pupil.disadvantaged = True
    reading.places[1].pupil.send = True
    reading.places[0].baseline, reading.places[0].current, reading.places[0].target = 90, 96, 95
    log_delivered(reading, _weeks_ago(4))
    log_delivered(reading, _weeks_ago(1), minutes=45)
    log_cancelled(reading, clock.today())
    db.session.flush()
    return school, other, (long_running, one_to_one, reading)


def test_a_whole_term_is_read_from_the_kept_totals_and_other_periods_from_the_marks():
    today = date(2026, 12, 7)
    assert whole_term(Period(date(2026, 9, 1), today), today) == 2026 * 3 + 2
    assert whole_term(Period(date(2026, 9, 1), date(2026, 12, 31)), today) == 2026 * 3 + 2
    assert whole_term(Period(date(2026, 4, 1), date(2026, 8, 31)), today) == 2026 * 3 + 1
    assert whole_term(Period(date(2026, 9, 2), today), today) is None  # not from the start
    assert whole_term(Period(date(2026, 9, 1), date(2026, 11, 30)), today) is None  # not to today
    assert whole_term(Period(date(2026, 4, 1), today), today) is None  # two terms


def test_every_figure_from_the_kept_totals_is_the_figure_from_the_marks(db_session):
    school, other, _ = _trust_with_tutoring()
    _, start, end = term_of(clock.today() - timedelta(days=7 * 22))
    for coverage in (Coverage("Trust", school.trust_id),
                     Coverage("One school", school.trust_id, frozenset({other.id}))):
        for period in (figures.this_term(), Period(start, end)):
            kept, live = _both_ways(coverage, period)
            assert kept == live, (coverage.title, period)
    whole = figures.tutoring_figures(Coverage("Trust", school.trust_id), figures.this_term())
    assert whole.overall.delivered > 0 and whole.overall.cost_pence > 0


def test_changing_a_session_moves_its_totals_and_no_more(db_session):
    school, _, (long_running, one_to_one, _) = _trust_with_tutoring()
    session = sessions.session_on(long_running, _weeks_ago(2))
    everyone_came = {p.pupil_id: sessions.PupilMark("present", engagement=5)
                     for p in sessions.pupils_on(long_running, session.held_on)}
    sessions.edit_session(session, sessions.SessionLog(
        held_on=session.held_on, status="delivered", minutes_delivered=30,
        marks=everyone_came), actor=None, as_school=True, reason="Register was wrong")
    cancelled = sessions.session_on(one_to_one, _weeks_ago(3))
    sessions.edit_session(cancelled, sessions.SessionLog(
        held_on=cancelled.held_on, status="cancelled", cancel_reason="tutor_absent"),
        actor=None, as_school=True, reason="It did not happen")
    db.session.flush()
    kept, live = _both_ways(Coverage("Trust", school.trust_id), figures.this_term())
    assert kept == live
    incremental = _rows(school.trust_id)
    totals.rebuild([school.trust_id])
    rebuilt = _rows(school.trust_id)
    # A rebuild leaves out rows that changes brought to nothing; every other row is the same.
    assert {name: [r for r in rows if any(r[-4:])] for name, rows in incremental.items()} == \
        {name: [r for r in rows if any(r[-4:])] for name, rows in rebuilt.items()}


def _from_before_the_totals(trust_id: int) -> None:
    """A trust whose sessions were logged before totals were kept (or loaded in bulk)."""
    for model in (*totals.TABLES, TutoringTotalsBuild):
        db.session.execute(delete(model).where(model.trust_id == trust_id))


def test_a_new_trust_keeps_its_totals_from_the_start(db_session):
    school = make_school()
    assert totals.built(school.trust_id)
    log_delivered(make_group(school, starts_on=_weeks_ago(1)), _weeks_ago(1))
    assert db.session.scalar(select(func.sum(GroupTermTotal.delivered)).where(
        GroupTermTotal.trust_id == school.trust_id)) == 1


def test_a_trust_never_rebuilt_is_added_up_from_the_marks(db_session):
    school = make_school()
    group = make_group(school, starts_on=_weeks_ago(2))
    log_delivered(group, _weeks_ago(1))
    _from_before_the_totals(school.trust_id)
    assert not totals.built(school.trust_id)
    overall = figures.tutoring_figures(Coverage("Trust", school.trust_id),
                                       figures.this_term()).overall
    assert overall.delivered == 1 and overall.marks == 2
    totals.rebuild([school.trust_id])
    log_delivered(group, clock.today())
    assert totals.built(school.trust_id)
    overall = figures.tutoring_figures(Coverage("Trust", school.trust_id),
                                       figures.this_term()).overall
    assert overall.delivered == 2 and overall.marks == 4  # counted once each, not twice


def test_every_trust_is_read_from_totals_only_when_every_trust_was_rebuilt(db_session):
    first, second = make_school(), make_school()
    for school in (first, second):
        log_delivered(make_group(school, starts_on=_weeks_ago(1)), _weeks_ago(1))
        _from_before_the_totals(school.trust_id)
    totals.rebuild([first.trust_id])
    assert totals.built(first.trust_id) and not totals.built(None)
    totals.rebuild_all()
    assert totals.built(None)


def test_a_rebuild_counts_each_session_once_however_often_it_runs(db_session):
    school, _, _ = _trust_with_tutoring()
    before = _rows(school.trust_id)
    totals.rebuild([school.trust_id])
    totals.rebuild([school.trust_id])
    after = _rows(school.trust_id)
    assert {name: len(rows) for name, rows in after.items()} == {
        name: len([r for r in rows if any(r[-4:])]) for name, rows in before.items()}
    assert db.session.scalar(select(func.sum(GroupTermTotal.delivered)).where(
        GroupTermTotal.trust_id == school.trust_id)) == 10
    assert db.session.scalar(select(func.count()).select_from(PlaceTermTotal).where(
        PlaceTermTotal.trust_id == school.trust_id)) > 0
    assert db.session.scalar(select(func.count()).select_from(SchoolDayTotal).where(
        SchoolDayTotal.trust_id == school.trust_id)) > 0


def test_a_pupil_added_to_a_group_later_is_kept_from_their_first_mark(db_session):
    school = make_school()
    totals.rebuild([school.trust_id])
    group = make_group(school, pupil_count=1, starts_on=_weeks_ago(3))
    log_delivered(group, _weeks_ago(3))
    newcomer = make_pupil(school)
    groups.add_pupils(group, [newcomer], on=_weeks_ago(2))
    log_delivered(group, _weeks_ago(1))
    kept, live = _both_ways(Coverage("Trust", school.trust_id), figures.this_term())
    assert kept == live and kept["overall"]["pupils_on_registers"] == 2


def test_a_session_withdrawn_before_it_is_deleted_leaves_its_totals_as_if_never_logged(
        db_session):
    school = make_school()
    group = make_group(school, starts_on=_weeks_ago(2))
    log_delivered(group, _weeks_ago(1))
    before = _rows(school.trust_id)
    session = log_delivered(group, clock.today(), absent=(group.places[0].pupil_id,))
    totals.withdraw(session)
    db.session.delete(session)
    db.session.flush()
    after = _rows(school.trust_id)
    assert {name: [r for r in rows if any(r[-4:])] for name, rows in after.items()} == before
