"""The action lists read from the states kept as sessions are logged (``lms.tutoring.states``)
say what the same lists worked out from every session and mark say: after corrections,
cancellations and pupils leaving, for a school and for the trust; the nightly rebuild gives
the same states as keeping them; and reading them runs as many statements whatever the data.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring import action_list, groups, sessions, states, totals
from lms.tutoring.figures import Coverage
from lms.tutoring.models import GroupState, PlaceState, TutoringSession
from tests.factories import make_school, make_trust
from tests.statements import statements_run
from tests.tutoring_factory import log_cancelled, log_delivered, make_group

KEYS = ("missed", "low_attendance", "no_session", "no_baseline", "stale_progress",
        "not_cleared")


def _weeks_ago(n: int) -> date:
    return clock.today() - timedelta(days=7 * n)


@pytest.fixture
def built(monkeypatch):
    """Whether the trust's read models count as built: ``built(True)`` reads the states."""
    def choose(value: bool) -> None:
        monkeypatch.setattr(totals, "built", lambda trust_id: value)
    return choose


def _lists(coverage: Coverage) -> dict:
    return {found.key: found for found in action_list.action_lists(coverage)}


def _both_ways(coverage: Coverage, built) -> tuple[dict, dict]:
    """Every list read from the states, and worked out from the sessions and marks."""
    built(True)
    kept = _lists(coverage)
    built(False)
    return kept, _lists(coverage)


def _flagged(lists: dict, key: str) -> set:
    return {(i.group_id, i.pseudonym) for i in lists[key].items}


def _pupils(group) -> list:
    return [place.pupil for place in group.places]


def _trust(school) -> Coverage:
    return Coverage("Trust", school.trust_id)


def _correct(session, *, absent: tuple = (), status: str = "delivered"):
    """The school's tutoring lead corrects a session's register: only ``absent`` were away
    (or, with ``status="cancelled"``, it did not happen)."""
    log = sessions.SessionLog(
        held_on=session.held_on, status=status,
        cancel_reason="tutor_absent" if status == "cancelled" else None,
        marks={a.pupil_id: sessions.PupilMark("absent", "ill") if a.pupil_id in absent
               else sessions.PupilMark("present", engagement=4) for a in session.attendance})
    return sessions.edit_session(session, log, actor=None, as_school=True,
                                 reason="The register was wrong")


def _one_of_each(school):
    """Three groups: "Busy" with a pupil absent from its last 2 sessions (a cancelled one
    between them), 5 of 9 marks over 3 sessions and one baseline; "Quiet", last met 3 weeks
    ago, at 50%; "Never met", started 3 weeks ago with no session logged."""
    busy = make_group(school, pupil_count=3, starts_on=_weeks_ago(5), name="Busy")
    twice, once, fine = _pupils(busy)
    log_delivered(busy, _weeks_ago(4), absent=(once.id,))
    log_delivered(busy, _weeks_ago(3), absent=(twice.id, once.id))
    log_cancelled(busy, _weeks_ago(2))
    log_delivered(busy, _weeks_ago(1), absent=(twice.id,))
    busy.places[2].baseline = 40
    quiet = make_group(school, pupil_count=2, starts_on=_weeks_ago(5), name="Quiet")
    log_delivered(quiet, _weeks_ago(3), absent=(_pupils(quiet)[0].id,))
    make_group(school, pupil_count=1, starts_on=_weeks_ago(3), name="Never met")
    db.session.flush()
    return busy, quiet


# --- the same answer both ways ----------------------------------------------------------------


def test_every_list_from_the_states_is_the_list_from_the_marks(db_session, built):
    school = make_school()
    busy, quiet = _one_of_each(school)
    kept, live = _both_ways(_trust(school), built)
    assert kept == live
    twice = _pupils(busy)[0]
    assert _flagged(kept, "missed") == {(busy.id, twice.pseudonym)}
    assert [i.detail for i in kept["low_attendance"].items] == [
        "50% attendance over the last 1 session", "55.6% attendance over the last 3 sessions"]
    assert [i.group for i in kept["no_session"].items] == ["Quiet", "Never met"]
    assert kept["no_baseline"].count == 4  # all but the one with a baseline; none never met


def test_a_corrected_absence_takes_the_pupil_off_the_missed_list(db_session, built):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(3))
    away, there = _pupils(group)
    old = log_delivered(group, _weeks_ago(2), absent=(away.id,))
    log_delivered(group, _weeks_ago(1), absent=(away.id,))
    kept, live = _both_ways(_trust(school), built)
    assert kept == live and _flagged(kept, "missed") == {(group.id, away.pseudonym)}
    _correct(old)  # they were there two weeks ago after all
    kept, live = _both_ways(_trust(school), built)
    assert kept == live and kept["missed"].count == 0
    assert kept["low_attendance"].count == 0  # 3 of 4 marks: 75%


def test_a_session_changed_to_cancelled_leaves_the_marks_before_it(db_session, built):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(4))
    away, _ = _pupils(group)
    log_delivered(group, _weeks_ago(3))
    log_delivered(group, _weeks_ago(2), absent=(away.id,))
    latest = log_delivered(group, _weeks_ago(1), absent=(away.id,))
    assert _flagged(_both_ways(_trust(school), built)[0], "missed") == {
        (group.id, away.pseudonym)}
    _correct(latest, status="cancelled")
    kept, live = _both_ways(_trust(school), built)
    assert kept == live and kept["missed"].count == 0
    assert kept["no_session"].count == 0  # a cancelled session is still a session logged
    log_cancelled(group, clock.today())
    kept, live = _both_ways(_trust(school), built)
    assert kept == live and kept["missed"].count == 0


def test_a_pupil_who_left_the_group_is_on_no_list_of_it(db_session, built):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(3))
    leaving, staying = _pupils(group)
    log_delivered(group, _weeks_ago(2), absent=(leaving.id,))
    log_delivered(group, _weeks_ago(1), absent=(leaving.id,))
    groups.remove_pupil(group, leaving)
    db.session.flush()
    kept, live = _both_ways(_trust(school), built)
    assert kept == live
    assert kept["missed"].count == 0
    assert _flagged(kept, "no_baseline") == {(group.id, staying.pseudonym)}


def test_a_school_sees_its_own_groups_and_the_trust_every_school(db_session, built):
    trust = make_trust()
    oak, elm = make_school(trust), make_school(trust)
    oak_groups, elm_groups = _one_of_each(oak), _one_of_each(elm)
    for coverage, shown in ((Coverage("Oak", trust.id, frozenset({oak.id})), oak_groups),
                            (Coverage("Trust", trust.id), (*oak_groups, *elm_groups))):
        kept, live = _both_ways(coverage, built)
        assert kept == live
        listed = {i.group_id for key in KEYS[:4] for i in kept[key].items}
        assert {g.id for g in shown} <= listed
        assert {i.school_id for key in KEYS for i in kept[key].items} == {
            g.school_id for g in shown}


def test_the_states_judge_the_latest_marks_however_long_ago(db_session, built):
    """The lists from the marks look back 70 days; the states keep a group's latest marks,
    however old: a group gone quiet stays on the missed and attendance lists, as well as on
    the no-session list."""
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(12))
    away, _ = _pupils(group)
    log_delivered(group, _weeks_ago(12), absent=(away.id,))
    log_delivered(group, _weeks_ago(11), absent=(away.id,))
    kept, live = _both_ways(_trust(school), built)
    assert _flagged(kept, "missed") == {(group.id, away.pseudonym)}
    assert [i.group_id for i in kept["low_attendance"].items] == [group.id]
    assert live["missed"].count == live["low_attendance"].count == 0
    assert kept["no_session"] == live["no_session"] and live["no_session"].count == 1


def test_a_trust_whose_read_models_are_not_built_is_listed_from_its_marks(db_session, built):
    school = make_school()
    busy, _ = _one_of_each(school)
    db.session.execute(delete(PlaceState))
    db.session.execute(delete(GroupState))
    built(False)
    assert _flagged(_lists(_trust(school)), "missed") == {(busy.id, _pupils(busy)[0].pseudonym)}


# --- keeping the states, and rebuilding them --------------------------------------------------


def _sessions_of(group) -> list[TutoringSession]:
    return list(db.session.scalars(select(TutoringSession).where(
        TutoringSession.group_id == group.id)))


def _states(trust_id: int) -> tuple[list, list]:
    def rows(model) -> list:
        table = model.__table__
        return sorted(tuple(r) for r in db.session.execute(
            select(table).where(table.c.trust_id == trust_id)))
    return rows(GroupState), rows(PlaceState)


def test_rebuilding_gives_the_states_kept_session_by_session(db_session):
    school, other = make_school(), make_school()
    busy, quiet = _one_of_each(school)
    _one_of_each(other)
    earlier = next(s for s in _sessions_of(busy) if s.held_on == _weeks_ago(3))
    _correct(earlier, absent=(_pupils(busy)[1].id,))
    groups.remove_pupil(quiet, _pupils(quiet)[0])
    db.session.flush()
    kept, elsewhere = _states(school.trust_id), _states(other.trust_id)
    assert (len(kept[0]), len(kept[1])) == (2, 5)  # "Never met" has no state yet
    for model in (PlaceState, GroupState):  # as if its sessions had come in bulk
        db.session.execute(delete(model).where(model.trust_id == school.trust_id))
    states.rebuild([school.trust_id])
    assert _states(school.trust_id) == kept
    assert _states(other.trust_id) == elsewhere


def test_a_place_state_counts_the_absences_in_a_row_up_to_the_latest_mark(db_session):
    school = make_school()
    group = make_group(school, pupil_count=2, starts_on=_weeks_ago(5))
    away, there = _pupils(group)
    for weeks, absent in ((4, ()), (3, (away.id,)), (2, (away.id,)), (1, (away.id,))):
        log_delivered(group, _weeks_ago(weeks), absent=absent)
    found = {s.pupil_id: s for s in db.session.scalars(select(PlaceState))}
    assert (found[away.id].absent_run, found[there.id].absent_run) == (3, 0)
    assert found[away.id].last_mark_on == _weeks_ago(1)
    assert found[away.id].first_mark_on == _weeks_ago(4)
    state = db.session.get(GroupState, group.id)
    assert (state.recent_sessions, state.recent_marks, state.recent_attended) == (4, 8, 5)


# --- the SQL does not grow with the data ------------------------------------------------------


def _statements(coverage: Coverage) -> int:
    action_list.action_lists(coverage)
    with statements_run() as statements:
        action_list.action_lists(coverage)
    return len(statements)


def test_the_lists_run_as_many_statements_however_many_groups(db_session, built):
    built(True)
    school = make_school()
    _one_of_each(school)
    coverages = (_trust(school), Coverage("School", school.trust_id, frozenset({school.id})))
    before = [_statements(coverage) for coverage in coverages]
    for _ in range(3):
        _one_of_each(make_school(school.trust))
        _one_of_each(school)
    assert [_statements(coverage) for coverage in coverages] == before
