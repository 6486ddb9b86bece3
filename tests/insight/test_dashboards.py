"""Dashboard figures against a hand-built trust: one candidate at every stage, each figure
worked out by hand, and who may see which part."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from credentials.endorsements.models import Endorsement
from credentials.endorsements.services import suspend_endorsement
from lms.demo import study
from lms.insight import action_lists, dashboards, figures, pipeline, scopes
from lms.insight.models import PipelineBuild, PipelineRecord, PipelineStage
from lms.insight.pipeline import AttemptFacts, stage_of
from lms.insight.scopes import Filters
from lms.platform import clock
from lms.platform.roles import Role
from lms.programme import nominations, window
from lms.programme.models import EnrolmentStatus, Pathway, TutoringPhase
from lms.programme.models import NominationStatus as N
from tests.dashboard_world import build_world
from tests.factories import make_member

S = PipelineStage


# --- the rule for a candidate's stage -----------------------------------------------------------

FAILED = AttemptFacts(1, clock.now(), False)


@pytest.mark.parametrize(("nomination", "enrolment", "complete", "attempts", "entry", "stage"), [
    (N.SUBMITTED, None, False, [], None, S.AWAITING_APPROVAL),
    (N.APPROVED, None, False, [], None, S.INVITED),
    (N.INVITED, None, False, [], None, S.INVITED),
    (N.REJECTED, None, False, [], None, S.NOT_STARTED),
    (N.DECLINED, None, False, [], None, S.NOT_STARTED),
    (N.EXPIRED, None, False, [], None, S.NOT_STARTED),
    (N.WITHDRAWN, None, False, [], None, S.NOT_STARTED),
    (N.ACCEPTED, EnrolmentStatus.ACTIVE, False, [], None, S.IN_TRAINING),
    (N.ACCEPTED, EnrolmentStatus.ACTIVE, True, [], None, S.READY_FOR_ASSESSMENT),
    (N.ACCEPTED, EnrolmentStatus.ACTIVE, True, [AttemptFacts(1, None, None)], None,
     S.READY_FOR_ASSESSMENT),
    (N.ACCEPTED, EnrolmentStatus.ACTIVE, True, [FAILED], None, S.FAILED_FIRST_ATTEMPT),
    (N.ACCEPTED, EnrolmentStatus.PASSED, True, [], "pending", S.ENDORSED),
    (N.ACCEPTED, EnrolmentStatus.PASSED, True, [], "suspended", S.ENDORSED),
    (N.ACCEPTED, EnrolmentStatus.PASSED, True, [], None, S.ENDORSED),
    (N.ACCEPTED, EnrolmentStatus.PASSED, True, [], "approved", S.APPROVED),
    (N.ACCEPTED, EnrolmentStatus.FAILED, True, [FAILED], None, S.FAILED),
    (N.ACCEPTED, EnrolmentStatus.LAPSED, False, [], None, S.LAPSED),
    (N.ACCEPTED, EnrolmentStatus.WITHDRAWN, False, [], None, S.WITHDRAWN),
])
def test_each_candidate_is_in_exactly_one_stage(nomination, enrolment, complete, attempts,
                                                 entry, stage):
    assert stage_of(nomination, enrolment, course_complete=complete, attempts=attempts,
                    register_status=entry) == stage


# --- a trust with a candidate at every stage ----------------------------------------------------


@pytest.fixture
def world(db_session):
    """Trust A: Oak (in the North cluster) and Elm; one candidate at each stage, the
    endorsed ones 10 and 20 days from nomination to endorsement. Trust B: one candidate."""
    return build_world(db_session)


def _scope(world):
    return scopes.Scope("Trust A", frozenset({world.trust.id}), None, trust=world.trust)


def test_every_candidate_is_counted_in_the_stage_they_are_in(world, db_session):
    board = dashboards.dashboard(_scope(world), Filters())
    counts = {s.stage: s.count for s in board.pipeline.stages}
    assert counts == {S.AWAITING_APPROVAL: 1, S.INVITED: 1, S.NOT_STARTED: 1,
                      S.IN_TRAINING: 2, S.READY_FOR_ASSESSMENT: 1, S.FAILED_FIRST_ATTEMPT: 1,
                      S.ENDORSED: 1, S.APPROVED: 1, S.FAILED: 1, S.LAPSED: 1, S.WITHDRAWN: 1}
    assert board.pipeline.total == 12
    assert next(s for s in board.pipeline.stages if s.stage == S.IN_TRAINING).percent == 16.7
    by_school = {g.name: g.total for g in board.pipeline.groups}
    assert by_school == {"Oak Primary": 7, "Elm Academy": 5}


def test_pass_rates_count_first_and_second_attempts_per_pathway(world):
    rates = figures.pass_rates(_scope(world), Filters())
    primary = next(r for r in rates if r.pathway == Pathway.PRIMARY)
    assert (primary.first_taken, primary.first_passed) == (4, 2)
    assert (primary.second_taken, primary.second_passed) == (1, 0)
    assert (primary.first_rate, primary.second_rate) == (50.0, 0.0)
    overall = rates[-1]
    assert overall.pathway is None and overall.first_taken == 4


def test_median_days_from_nomination_to_endorsement(world):
    assert figures.median_days_to_endorsement(_scope(world), Filters()) == 15


def test_tutors_in_training_are_banded_against_the_time_they_have_left(world):
    progress = figures.training_progress(_scope(world), Filters())
    assert (progress.at_risk, progress.behind, progress.on_track) == (1, 0, 1)


def test_action_lists_name_each_tutor_and_lead_to_their_record(world):
    lists = {a.key: a for a in action_lists.action_lists(_scope(world), Filters())}
    assert [(i.name, i.endpoint) for i in lists["deadline_soon"].items] == [
        ("Ravi Risk", "lms.enrolment")]
    assert lists["deadline_soon"].items[0].args == {"enrolment_id": world.at_risk.id}
    assert [i.name for i in lists["second_attempt"].items] == ["Fay First"]
    assert [i.name for i in lists["invitations"].items] == ["Ivy Invited"]
    assert [i.name for i in lists["approvals"].items] == ["Abe Awaiting"]
    assert lists["approvals"].items[0].endpoint == "lms.nomination"
    assert [i.name for i in lists["checks_due"].items] == ["Bea Ten"]
    assert "Safeguarding training due" in lists["checks_due"].items[0].detail
    assert lists["expiring"].count == 0
    assert lists["suspended"].count == 0


def test_a_suspension_shows_on_the_register_list_and_in_compliance(world, db_session):
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == world.endorsed_fast.user_id)).one()
    suspend_endorsement(endorsement, reason="Allegation under investigation",
                        actor=world.central)
    db_session.commit()
    board = dashboards.dashboard(_scope(world), Filters())
    lists = {a.key: a for a in board.actions}
    assert [i.name for i in lists["suspended"].items] == ["Bea Ten"]
    assert board.register.statuses == {"pending": 1, "suspended": 1}
    assert {s.stage: s.count for s in board.pipeline.stages}[S.APPROVED] == 0


def test_register_compliance_counts_the_register_as_it_stands(world):
    compliance = action_lists.register_compliance(_scope(world), Filters())
    assert compliance.statuses == {"pending": 1, "approved": 1}
    assert (compliance.listed, compliance.approved_percent) == (2, 50.0)
    assert (compliance.training_due_soon, compliance.training_overdue) == (1, 0)
    assert (compliance.dbs_overdue, compliance.dbs_due_soon) == (0, 0)


@pytest.mark.parametrize(("filters", "total"), [
    ({"school_id": "oak"}, 7),
    ({"cluster_id": "north"}, 7),
    ({"pathway": Pathway.SECONDARY}, 0),
    ({"phase": TutoringPhase.PRIMARY}, 12),
    ({"nominated_from": -4}, 7),
    ({"nominated_to": -21}, 3),
])
def test_each_filter_narrows_every_figure(world, filters, total):
    values = {}
    for key, value in filters.items():
        if value == "oak":
            value = world.oak.id
        elif value == "north":
            value = world.north.id
        elif isinstance(value, int):
            value = clock.today() + timedelta(days=value)
        values[key] = value
    board = dashboards.dashboard(_scope(world), Filters(**values))
    assert board.pipeline.total == total
    assert sum(g.total for g in board.pipeline.groups) == total


# --- who sees what ---------------------------------------------------------------------------


def test_a_trusts_staff_see_the_trust_and_a_cluster_lead_only_their_cluster(world):
    trustee = make_member(Role.TRUSTEE, trust=world.trust)
    lead = make_member(Role.CLUSTER_LEAD, cluster=world.north)
    stranger = make_member(Role.CENTRAL_TEAM, trust=world.other)
    assert scopes.trust_scope(world.central, world.trust).school_ids is None
    assert scopes.trust_scope(trustee, world.trust).school_ids is None
    assert scopes.trust_scope(lead, world.trust).school_ids == {world.oak.id}
    assert scopes.trust_scope(stranger, world.trust) is None
    assert scopes.trust_scope(lead, world.other) is None
    scope = scopes.trust_scope(lead, world.trust)
    assert dashboards.dashboard(scope, Filters()).pipeline.total == 7


def test_a_school_leader_sees_their_own_school_only(world):
    leader = make_member(Role.SCHOOL_LEADER, school=world.elm)
    scope = scopes.school_scope(leader, world.elm)
    board = dashboards.dashboard(scope, Filters())
    assert board.pipeline.total == 5
    lists = {a.key: a for a in board.actions}
    assert [i.name for i in lists["second_attempt"].items] == ["Fay First"]
    assert lists["deadline_soon"].count == 0
    assert scopes.school_scope(leader, world.oak) is None
    assert scopes.trust_scope(leader, world.trust) is None


def test_the_programme_view_covers_every_trust_for_programme_admins_only(world):
    admin = make_member(Role.PROGRAMME_ADMIN)
    scope = scopes.programme_scope(admin)
    board = dashboards.dashboard(scope, Filters())
    assert board.pipeline.total == 13
    assert {g.name: g.total for g in board.pipeline.groups} == {"Trust A": 12, "Trust B": 1}
    assert scopes.programme_scope(world.central) is None
    only_b = dashboards.dashboard(scope, Filters(trust_id=world.other.id))
    assert only_b.pipeline.total == 1


# --- keeping the records fresh ------------------------------------------------------------------


def test_a_change_shows_on_the_next_view_and_unchanged_trusts_are_not_rebuilt(world, db_session):
    db_session.execute(delete(PipelineBuild).where(PipelineBuild.trust_id == world.other.id))
    clock.travel(timedelta(minutes=5))
    # Trust B was never built; trust A changed just before its build, so once more to be sure.
    assert pipeline.refresh() == {world.trust.id, world.other.id}
    built = db_session.get(PipelineBuild, world.trust.id).built_at
    clock.travel(timedelta(minutes=5))
    assert pipeline.refresh() == set()
    nominations.approve_nomination(world.awaiting, actor=world.central)
    db_session.commit()
    assert pipeline.changed_trusts(None) == {world.trust.id}
    board = dashboards.dashboard(_scope(world), Filters())
    assert {s.stage: s.count for s in board.pipeline.stages}[S.AWAITING_APPROVAL] == 0
    assert board.built_at > built


def test_records_younger_than_the_maximum_age_are_kept_for_page_views(world, app, db_session):
    pipeline.rebuild()  # now: the world's own build may be minutes old by this test
    study(world.on_track, lessons=1)
    db_session.commit()
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 120
    try:
        assert pipeline.refresh([world.trust.id]) == set()
        clock.travel(timedelta(minutes=3))
        assert pipeline.refresh([world.trust.id]) == {world.trust.id}
    finally:
        app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0


def test_rebuilding_twice_writes_the_same_records(world, db_session):
    first = pipeline.rebuild()
    rows = sorted(db_session.execute(select(PipelineRecord.nomination_id, PipelineRecord.stage))
                  .all())
    assert pipeline.rebuild() == first == 13
    assert sorted(db_session.execute(select(PipelineRecord.nomination_id, PipelineRecord.stage))
                  .all()) == rows
    assert db_session.scalar(select(func.count(PipelineBuild.trust_id))) == 2


# --- exceptions for the board -------------------------------------------------------------------


def test_exceptions_in_a_period_carry_their_reasons(world, db_session):
    window.extend_deadline(world.on_track, days=7, reason="Bereavement leave",
                                actor=world.central)
    db_session.commit()
    today = clock.today()
    found = action_lists.exceptions({world.trust.id}, today - timedelta(days=7), today)
    assert [(e.kind, e.reason) for e in found] == [
        ("Training withdrawn", "Left the school"), ("Deadline extended", "Bereavement leave")]
    assert action_lists.exceptions({world.other.id}, today, today) == []
    assert action_lists.exceptions({world.trust.id}, today - timedelta(days=30),
                                 today - timedelta(days=8)) == []
