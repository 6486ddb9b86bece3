"""Pilots: the central team sets a programme (or some of its schools) against a comparison
group, and at the end reads the side-by-side with intervals and the caution that a
comparison is not proof of cause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.research import pilots
from lms.research.pilots import (
    PilotTerms,
    change_pilot,
    create_pilot,
    difference,
    mean_interval,
    pilot_result,
    ratio_interval,
    t_quantile,
    wilson_interval,
)
from lms.tutoring.figures import Coverage, Period, tutoring_figures
from tests.factories import make_member, make_school, make_trust
from tests.research_factory import make_pilot, make_trained_tutor, make_tutored_group
from tests.tutoring_factory import make_programme


@pytest.fixture
def world(db_session):
    trust = make_trust()
    north, south, east = (make_school(trust) for _ in range(3))
    small = make_programme(trust, name="Small groups", delivery_model="small_group")
    one = make_programme(trust, name="Blended", delivery_model="blended", max_group_size=4)
    tutor = make_trained_tutor(north)
    # The pilot: 2 groups of 3 at the north school, one pupil absent from the first session.
    make_tutored_group(north, tutor, pupils=3, sessions=4, absent_first=1, programme=small)
    make_tutored_group(north, tutor, pupils=3, sessions=4, programme=small,
                       progress=(40, 50, 52))
    # The comparison: blended tutoring at the south school, two of four absent once.
    other = make_trained_tutor(south)
    make_tutored_group(south, other, pupils=4, sessions=4, absent_first=2, programme=one)
    db.session.commit()
    return {"trust": trust, "north": north, "south": south, "east": east, "small": small,
            "one": one}


def _terms(world, **changes) -> PilotTerms:
    today = clock.today()
    terms = {"name": "Pilot", "programme_key": world["small"].key,
             "comparison_kind": "programme", "comparison_programme_key": world["one"].key,
             "starts_on": today - timedelta(days=60), "ends_on": today - timedelta(days=1),
             "outcome": "attendance_percent", **changes}
    return PilotTerms(**terms)


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("changes, field, message", [
    ({"ends_on": None}, "ends_on", "Enter the pilot's end date"),
    ({"starts_on": clock.today(), "ends_on": clock.today()}, "ends_on",
     "The end date must be after the start date"),
    ({"comparison_programme_key": None}, "comparison_programme_key",
     "Choose the programme to compare with"),
    ({"outcome": "smiles"}, "outcome", "Choose the outcome measure"),
    ({"name": " "}, "name", "Enter the pilot name"),
])
def test_a_pilot_needs_its_dates_in_order_a_comparison_and_a_measure(world, changes, field,
                                                                        message):
    with pytest.raises(DomainError) as refused:
        create_pilot(world["trust"], _terms(world, **changes))
    assert (refused.value.field, refused.value.message) == (field, message)


def test_the_comparison_cannot_be_the_pilots_own_programme(world):
    with pytest.raises(DomainError, match="different programme from the pilot's"):
        create_pilot(world["trust"], _terms(world, comparison_programme_key=world["small"].key))


def test_a_school_cannot_be_in_both_groups(world):
    with pytest.raises(DomainError, match="cannot be in both the pilot and the comparison"):
        create_pilot(world["trust"], _terms(
            world, comparison_kind="schools", school_ids=[world["north"].id],
            comparison_school_ids=[world["north"].id, world["east"].id]))


def test_comparison_schools_must_not_have_started_the_pilot_programme(world):
    with pytest.raises(DomainError, match="compare with schools that have not started it") \
            as refused:
        create_pilot(world["trust"], _terms(world, comparison_kind="schools",
                                            comparison_school_ids=[world["north"].id]))
    assert world["north"].name in refused.value.message


def test_programmes_and_schools_must_be_the_trusts_own(world):
    elsewhere = make_trust()
    their_school = make_school(elsewhere)
    their_programme = make_programme(elsewhere)
    with pytest.raises(DomainError, match="this trust's programmes"):
        create_pilot(world["trust"], _terms(world, comparison_programme_key=their_programme.key))
    with pytest.raises(DomainError, match="this trust's programmes"):
        create_pilot(world["trust"], _terms(world, programme_key=their_programme.key))
    with pytest.raises(DomainError, match="this trust's own schools"):
        create_pilot(world["trust"], _terms(world, school_ids=[their_school.id]))


def test_creating_and_changing_a_pilot_is_audited(world):
    pilot = create_pilot(world["trust"], _terms(world))
    change_pilot(pilot, _terms(world, name="Renamed", outcome="hours_per_pupil"))
    db.session.commit()
    actions = [e.action for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "Pilot").order_by(AuditEntry.id))]
    assert actions == ["research.pilot_created", "research.pilot_changed"]
    changed = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "research.pilot_changed")).one()
    assert changed.changes["name"] == ["Pilot", "Renamed"]
    assert changed.trust_id == world["trust"].id


# --- the side-by-side ---------------------------------------------------------------------


def test_the_side_by_side_counts_pupils_and_tutors_and_agrees_with_the_figures(world):
    pilot = make_pilot(world["trust"], world["small"], comparison_programme=world["one"])
    result = pilot_result(pilot)
    assert (result.pilot_side.pupils, result.pilot_side.tutors) == (6, 1)
    assert (result.comparison.pupils, result.comparison.tutors) == (4, 1)
    # 23 of 24 marks attended in the pilot, 14 of 16 in the comparison.
    assert result.pilot_side.estimate.value == pytest.approx(100 * 23 / 24)
    assert result.comparison.estimate.value == pytest.approx(87.5)
    assert result.difference.value == pytest.approx(100 * 23 / 24 - 87.5)
    figures = tutoring_figures(Coverage("t", world["trust"].id),
                               Period(pilot.starts_on, pilot.ends_on), splits=("programme",))
    assert result.pilot_side.figure == figures.row("programme", world["small"].key
                                                   ).attendance_percent
    assert result.pilot_side.figure == pytest.approx(result.pilot_side.estimate.value, abs=0.05)
    low, high = result.pilot_side.estimate.low, result.pilot_side.estimate.high
    assert low < result.pilot_side.estimate.value < high
    assert "t-interval over pupils" in result.method


def test_a_share_at_target_uses_the_wilson_interval(world):
    pilot = make_pilot(world["trust"], world["small"], comparison_programme=world["one"],
                       outcome="at_target_percent")
    result = pilot_result(pilot)
    # The pilot's second group reached target (52 >= 50); the first did not (45 < 50).
    assert result.pilot_side.estimate.value == pytest.approx(50.0)
    assert result.pilot_side.estimate.method == "Wilson score interval"
    assert result.difference.method.startswith("Newcombe")


def test_a_schools_comparison_reads_their_other_tutoring(world):
    pilot = make_pilot(world["trust"], world["small"], comparison_schools=[world["south"]],
                       outcome="hours_per_pupil")
    result = pilot_result(pilot)
    assert result.comparison.pupils == 4
    assert result.comparison.estimate.value == pytest.approx(3.5)  # 4, 4, 3 and 3 hours
    assert result.comparison.figure == pytest.approx(3.5)


def test_intervals_follow_the_textbook():
    assert t_quantile(1) == 12.706
    assert t_quantile(40) == pytest.approx(2.021, abs=0.001)
    assert t_quantile(1000) == pytest.approx(1.962, abs=0.001)
    mean = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert (mean.value, round(mean.low, 3), round(mean.high, 3)) == (2.5, 0.446, 4.554)
    share = wilson_interval(8, 10)
    assert (round(share.low, 1), round(share.high, 1)) == (49.0, 94.3)
    assert ratio_interval([5, 5], [10, 10], 100).low == pytest.approx(50.0)
    single = mean_interval([3.0])
    assert single.value == 3.0 and single.low is None
    gap = difference(mean_interval([1.0, 2.0, 3.0]), mean_interval([2.0, 3.0, 4.0]))
    assert gap.value == -1.0 and gap.low < -1 < gap.high


# --- the pages ----------------------------------------------------------------------------


def test_the_central_team_sets_up_a_pilot_on_the_page(world, sign_in):
    lead = make_member(Role.CENTRAL_TEAM, trust=world["trust"])
    db.session.commit()
    client = sign_in(lead)
    page = client.get(f"/trusts/{world['trust'].id}/research/pilots")
    assert page.status_code == 200
    assert "pilot tutoring in a small number of schools before scaling" in page.get_data(
        as_text=True)
    today = clock.today()
    refused = client.post(f"/trusts/{world['trust'].id}/research/pilots", data={
        "name": "Pilot", "programme_key": world["small"].key, "comparison_kind": "programme",
        "comparison_programme_key": world["one"].key, "starts_on": today.isoformat(),
        "ends_on": (today - timedelta(days=3)).isoformat(), "outcome": "attendance_percent"})
    assert refused.status_code == 400
    assert "The end date must be after the start date" in refused.get_data(as_text=True)
    assert 'value="Pilot"' in refused.get_data(as_text=True)
    made = client.post(f"/trusts/{world['trust'].id}/research/pilots", data={
        "name": "Pilot", "programme_key": world["small"].key, "comparison_kind": "programme",
        "comparison_programme_key": world["one"].key,
        "starts_on": (today - timedelta(days=60)).isoformat(),
        "ends_on": (today - timedelta(days=1)).isoformat(), "outcome": "attendance_percent"})
    assert made.status_code == 302
    result = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "not proof that the pilot caused the difference" in result
    assert "95% interval" in result and "Difference (pilot minus comparison)" in result
    assert "t-interval over pupils" in result


def test_only_the_trusts_central_team_and_admins_see_pilots(world, sign_in, client):
    pilot = make_pilot(world["trust"], world["small"], comparison_programme=world["one"])
    outsider = make_member(Role.CENTRAL_TEAM, trust=make_trust())
    trustee = make_member(Role.TRUSTEE, trust=world["trust"])
    leader = make_member(Role.SCHOOL_LEADER, school=world["north"])
    admin = make_member(Role.PROGRAMME_ADMIN)
    db.session.commit()
    for person, pilot_page, list_page in [(outsider, 404, 404), (trustee, 404, 403),
                                          (leader, 404, 404), (admin, 200, 200)]:
        sign_in(person)
        assert client.get(f"/research/pilots/{pilot.id}").status_code == pilot_page
        assert client.get(f"/trusts/{world['trust'].id}/research/pilots"
                          ).status_code == list_page
        assert client.get(f"/research/pilots/{pilot.id}/edit").status_code in (
            (200,) if pilot_page == 200 else (403, 404))
        client.post("/sign-out")


def test_a_running_pilot_says_its_figures_are_so_far(world, sign_in):
    pilot = make_pilot(world["trust"], world["small"], comparison_programme=world["one"],
                       ends_in_days=20)
    lead = make_member(Role.CENTRAL_TEAM, trust=world["trust"])
    db.session.commit()
    page = sign_in(lead).get(f"/research/pilots/{pilot.id}").get_data(as_text=True)
    assert "The pilot is still running" in page
    assert pilots.PLAYBOOK_SOURCE in page


def test_the_demo_sets_up_consent_and_an_ended_pilot_and_puts_the_clock_back(world):
    from lms.research.demo import load_demo
    from lms.research.export import consenting_school_ids

    make_member(Role.CENTRAL_TEAM, trust=world["trust"])
    before = clock.now()
    pilot = load_demo(world["trust"])
    db.session.commit()
    assert abs((clock.now() - before).total_seconds()) < 60
    assert pilot.ended() and pilot.created_at < before - timedelta(days=1)
    assert len(consenting_school_ids(world["trust"].id)) == 2
    result = pilot_result(pilot)
    assert result.pilot_side.pupils == 6 and result.comparison.pupils == 4
