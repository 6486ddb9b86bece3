"""The training impact report's rules: which group each tutor falls in, what each measure is
per tutor, the 95% t-interval over tutors and "too few to compare", and SQL that does not
grow with the data."""

import math

import pytest

from lms.research import impact
from lms.research.impact import GROUPINGS, UnknownGrouping, impact_report
from lms.research.intervals import estimate, t_critical
from lms.tutoring.models import MeasureScale
from tests.factories import make_school, make_trust
from tests.research_factory import make_trained_tutor, make_tutored_group
from tests.statements import statements_run

OBSERVED: dict[int, float] = {}
UNITS: dict[int, int] = {}


@pytest.fixture(autouse=True)
def _practice_and_library(monkeypatch):
    """Observation scores and library units as their packages answer them."""
    OBSERVED.clear()
    UNITS.clear()
    monkeypatch.setattr(impact, "observation_scores", lambda ids: dict(OBSERVED))
    monkeypatch.setattr(impact, "units_completed", lambda ids: dict(UNITS))


def _world():
    school = make_school()
    strong = make_trained_tutor(school, score=85, attempts=1, weeks_ago=1, phase="primary")
    second = make_trained_tutor(school, score=65, attempts=2, weeks_ago=10, phase="secondary")
    make_tutored_group(school, strong, pupils=2, sessions=2, progress=(40, 50, 45))
    make_tutored_group(school, second, pupils=2, sessions=2, absent_first=1,
                       progress=(40, 50, 52))
    OBSERVED.update({strong.id: 3.5, second.id: 2.0})
    UNITS.update({strong.id: 3, second.id: 1})
    return school, strong, second


def _row(report, key):
    return next(r for r in report.rows if r.key == key)


# --- grouping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("grouping", "strong_in", "second_in"), [
    ("pathway", "primary", "secondary"),
    ("score_band", "80_plus", "60_69"),
    ("attempts", "1", "2"),
    ("weeks", "0_6", "7_12"),
    ("units", "3_plus", "1_2"),
])
def test_each_tutor_falls_in_the_group_their_training_puts_them_in(db_session, grouping,
                                                                   strong_in, second_in):
    school, strong, second = _world()
    report = impact_report("Trust", school.trust_id, grouping)
    assert _row(report, strong_in).tutors == 1
    assert _row(report, second_in).tutors == 1
    assert _row(report, strong_in).cells["observation"].mean == 3.5
    assert _row(report, second_in).cells["observation"].mean == 2.0
    assert report.overall.tutors == 2
    assert [r.key for r in report.rows if r.key != "not_known"] == [
        k for k in GROUPINGS[grouping].groups if k != "not_known"]


def test_score_bands_cut_at_60_70_and_80_percent():
    assert [impact._score_band(s) for s in (59.9, 60, 69.9, 70, 79.9, 80, 100, None)] == [
        "under_60", "60_69", "60_69", "70_79", "70_79", "80_plus", "80_plus", "not_known"]
    assert [impact._weeks_band(w) for w in (0, 6, 7, 12, 13, 26, 27)] == [
        "0_6", "0_6", "7_12", "7_12", "13_26", "13_26", "27_plus"]
    assert [impact._units_band(u) for u in (0, 1, 2, 3, 9)] == ["0", "1_2", "1_2", "3_plus",
                                                                "3_plus"]


def test_attendance_dosage_and_progress_per_tutor_use_tutorings_definitions(db_session):
    school, strong, second = _world()
    facts = impact.tutor_facts(school.trust_id)
    # 2 pupils, 2 sessions of 60 minutes each; the second tutor's first pupil missed one.
    assert facts[strong.id].attendance_percent == 100
    assert facts[second.id].attendance_percent == 75
    assert facts[strong.id].hours_per_pupil == 2
    assert facts[second.id].hours_per_pupil == 1.5
    assert facts[strong.id].mean_change("score") == 5
    assert facts[second.id].mean_change("score") == 12
    assert facts[strong.id].at_target_percent == 0
    assert facts[second.id].at_target_percent == 100
    report = impact_report("Trust", school.trust_id, "attempts")
    assert report.scale == MeasureScale.SCORE
    cell = _row(report, "2").cells["attendance"]
    assert (cell.tutors, cell.pupils, cell.mean) == (1, 2, 75)


def test_a_trusts_report_holds_only_its_own_tutors_the_programmes_every_trust(db_session):
    school, strong, second = _world()
    elsewhere = make_school(make_trust())
    other = make_trained_tutor(elsewhere, score=55)
    assert set(impact.tutor_facts(school.trust_id)) == {strong.id, second.id}
    assert {strong.id, second.id, other.id} <= set(impact.tutor_facts(None))
    assert _row(impact_report("All", None, "score_band"), "under_60").tutors >= 1


def test_an_unknown_grouping_is_refused_with_the_groupings_there_are(db_session):
    with pytest.raises(UnknownGrouping, match="pathway"):
        impact_report("Trust", None, "favourite_colour")


# --- intervals ---------------------------------------------------------------------------------


def test_the_t_interval_matches_a_hand_computation():
    # 1..5: mean 3, s = sqrt(2.5), se = s / sqrt(5) = 0.7071; t(0.975, 4) = 2.776.
    found = estimate([1, 2, 3, 4, 5], pupils=12)
    half = 2.776 * math.sqrt(2.5) / math.sqrt(5)
    assert found.mean == 3 and found.tutors == 5 and found.pupils == 12
    assert found.low == pytest.approx(3 - half) and found.high == pytest.approx(3 + half)
    assert found.low == pytest.approx(1.037, abs=1e-3)


def test_t_critical_values_beyond_the_table_follow_students_t():
    assert t_critical(4) == 2.776 and t_critical(30) == 2.042
    assert t_critical(40) == pytest.approx(2.0211, abs=5e-4)
    assert t_critical(100) == pytest.approx(1.9840, abs=5e-4)
    assert t_critical(10_000) == pytest.approx(1.9602, abs=5e-4)


def test_fewer_than_five_tutors_give_a_mean_but_no_interval():
    four = estimate([1, 2, 3, 4])
    assert four.mean == 2.5 and four.too_few and not four.has_interval
    assert not estimate([]).too_few and estimate([]).mean is None


def test_a_group_of_five_tutors_gets_its_interval(db_session):
    school = make_school()
    tutors = [make_trained_tutor(school, phase="primary") for _ in range(5)]
    OBSERVED.update(dict(zip((t.id for t in tutors), (1.0, 2.0, 3.0, 4.0, 5.0), strict=True)))
    cell = _row(impact_report("Trust", school.trust_id, "pathway"), "primary").cells[
        "observation"]
    assert cell.tutors == 5 and cell.has_interval
    assert cell.low == pytest.approx(estimate([1, 2, 3, 4, 5]).low)


# --- speed ---------------------------------------------------------------------------------------


def test_the_report_runs_as_many_statements_whatever_the_datas_size(db_session):
    school, *_ = _world()
    with statements_run() as small:
        impact_report("Trust", school.trust_id, "weeks")
    for n in range(4):
        tutor = make_trained_tutor(school, score=60 + 5 * n, attempts=1 + n % 2,
                                   weeks_ago=5 * n)
        make_tutored_group(school, tutor, pupils=3, sessions=3, absent_first=1)
    with statements_run() as big:
        report = impact_report("Trust", school.trust_id, "weeks")
    assert report.overall.tutors == 6
    assert len(big) == len(small) == 4  # tutors, totals built?, attendance, progress


def test_attendance_from_the_kept_totals_matches_the_marks(db_session, monkeypatch):
    school, *_ = _world()
    kept = impact.tutor_facts(school.trust_id)
    monkeypatch.setattr(impact.totals, "built", lambda trust_id: False)
    counted = impact.tutor_facts(school.trust_id)
    assert {t: (f.marks, f.attended, f.minutes, f.pupils) for t, f in kept.items()} == {
        t: (f.marks, f.attended, f.minutes, f.pupils) for t, f in counted.items()}
    assert any(f.marks for f in kept.values())


def test_the_report_reads_the_observations_and_library_packages_answers(db_session,
                                                                        monkeypatch):
    monkeypatch.undo()  # their real queries: nobody observed or reading yet
    school, strong, _ = _world()
    facts = impact.tutor_facts(school.trust_id)
    assert facts[strong.id].observation is None and facts[strong.id].units == 0
