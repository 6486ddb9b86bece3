"""Recording an observation: a score from 1 to 4 for every one of the eight practices, a next
step, a date within the group's life, by a school leader or tutoring lead at the group's
school who is not the tutor observed. Every problem is reported at once; nothing is saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.audit.models import AuditEntry
from lms.observations import services
from lms.observations.models import Observation, ObservationScore
from lms.observations.rubric import RUBRIC, RUBRIC_VERSION
from lms.organisations import people
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring import groups
from tests.factories import make_member
from tests.observations_factory import make_observed_school, observe, record_of, scores
from tests.tutoring_factory import clear_for, log_cancelled, log_delivered, make_cleared_tutor


def _saved() -> int:
    return db.session.scalar(select(func.count(Observation.id)))


def _refusal(world, observer=None, **record) -> list[DomainError]:
    before = _saved()
    with pytest.raises(services.ObservationRefused) as refused:
        services.record_observation(world.group, record_of(**record),
                                    observer=observer or world.leader)
    assert _saved() == before
    return refused.value.problems


def test_an_observation_keeps_all_eight_scores_notes_and_the_rubric_version(db_session):
    world = make_observed_school()
    observation = observe(world.group, world.lead, given=scores(2, specific_feedback=4),
                          notes={"specific_feedback": "Named exactly what was right."},
                          comment="A calm, well-paced session.")
    assert observation.tutor_id == world.tutor.id and observation.observer_id == world.lead.id
    assert observation.school_id == world.school.id and observation.trust_id == world.trust.id
    assert observation.rubric_version == RUBRIC_VERSION
    assert {s.criterion: s.score for s in observation.scores} == scores(
        2, specific_feedback=4)
    assert observation.score_for("specific_feedback").note == "Named exactly what was right."
    assert observation.mean_score == pytest.approx((2 * 7 + 4) / 8)
    assert observation.next_step and observation.comment == "A calm, well-paced session."


def test_every_one_of_the_eight_scores_is_needed(db_session):
    world = make_observed_school()
    problems = _refusal(world, given=scores(checks_understanding=None, manages_time=None))
    assert [p.field for p in problems] == ["checks_understanding_score", "manages_time_score"]
    assert "Checks understanding" in problems[0].message


def test_a_score_missing_from_the_record_entirely_is_refused(db_session):
    world = make_observed_school()
    given = scores()
    del given["builds_independence"]
    assert [p.field for p in _refusal(world, given=given)] == ["builds_independence_score"]


@pytest.mark.parametrize("score", [0, 5, -1, 40])
def test_scores_are_1_to_4_only(db_session, score):
    world = make_observed_school()
    problems = _refusal(world, given=scores(keeps_every_pupil_engaged=score))
    assert [p.field for p in problems] == ["keeps_every_pupil_engaged_score"]
    assert "must be 1, 2, 3 or 4" in problems[0].message


def test_the_database_refuses_a_score_out_of_range_too(db_session):
    world = make_observed_school()
    observation = observe(world.group, world.leader)
    with pytest.raises(IntegrityError, match="score_in_range"):
        db.session.execute(ObservationScore.__table__.insert().values(
            observation_id=observation.id, criterion="extra", score=5, note=""))
    db.session.rollback()


def test_an_unknown_criterion_is_refused(db_session):
    world = make_observed_school()
    problems = _refusal(world, given={**scores(), "neat_handwriting": 3})
    assert "neat_handwriting" in problems[0].message


def test_notes_are_optional_and_at_most_500_characters(db_session):
    world = make_observed_school()
    problems = _refusal(world, notes={"manages_time": "x" * 501})
    assert [p.field for p in problems] == ["manages_time_note"]
    assert observe(world.group, world.leader, notes={"manages_time": "x" * 500}
                   ).score_for("manages_time").note == "x" * 500


def test_one_next_step_is_needed(db_session):
    world = make_observed_school()
    assert [p.field for p in _refusal(world, next_step="   ")] == ["next_step"]
    assert [p.field for p in _refusal(world, next_step="x" * 301)] == ["next_step"]


def test_every_problem_is_reported_at_once(db_session):
    world = make_observed_school()
    problems = _refusal(world, observed_on=clock.today() + timedelta(days=1),
                        given=scores(starts_from_prior_knowledge=None, manages_time=7),
                        next_step="")
    assert [p.field for p in problems] == [
        "observed_on", "starts_from_prior_knowledge_score", "manages_time_score", "next_step"]


def test_the_date_cannot_be_in_the_future(db_session):
    world = make_observed_school()
    problems = _refusal(world, observed_on=clock.today() + timedelta(days=1))
    assert problems[0].field == "observed_on" and "future" in problems[0].message
    assert observe(world.group, world.leader, observed_on=clock.today())


def test_the_date_cannot_be_before_the_group_started(db_session):
    world = make_observed_school()
    problems = _refusal(world, observed_on=world.group.starts_on - timedelta(days=1))
    assert problems[0].field == "observed_on" and "before the group started" in \
        problems[0].message
    assert observe(world.group, world.leader, observed_on=world.group.starts_on)


def test_the_date_cannot_be_after_the_group_ended(db_session):
    world = make_observed_school()
    clock.travel(timedelta(days=-7))
    groups.end_group(world.group, actor=None)
    clock.reset()
    problems = _refusal(world, observed_on=clock.today())
    assert "after the group ended" in problems[0].message


def test_an_observation_from_a_session_is_of_that_session_and_its_day(db_session):
    world = make_observed_school()
    session = log_delivered(world.group, clock.today() - timedelta(days=7))
    observation = observe(world.group, world.leader, session=session)
    assert observation.session_id == session.id
    assert observation.observed_on == session.held_on
    problems = _refusal(world, session=session, observed_on=clock.today())
    assert problems[0].field == "observed_on" and "enter that date" in problems[0].message


def test_a_cancelled_session_or_another_groups_session_cannot_be_observed(db_session):
    world = make_observed_school()
    other = make_observed_school()
    cancelled = log_cancelled(world.group, clock.today() - timedelta(days=7))
    elsewhere = log_delivered(other.group, clock.today() - timedelta(days=7))
    assert _refusal(world, session=cancelled)[0].field == "session_id"
    assert _refusal(world, session=elsewhere)[0].field == "session_id"


def test_a_cover_tutors_session_observes_the_cover_tutor(db_session):
    world = make_observed_school()
    cover = clear_for(make_cleared_tutor(world.school), world.school)
    session = log_delivered(world.group, clock.today() - timedelta(days=7),
                            cover_tutor_id=cover.id)
    assert session.tutor_id == cover.id
    assert observe(world.group, world.leader, session=session).tutor_id == cover.id


def test_the_tutor_cannot_observe_themselves(db_session):
    world = make_observed_school()
    people.grant_membership(world.tutor, Role.TUTORING_LEAD, actor=None, trust=world.trust,
                            school=world.school)
    with pytest.raises(DomainError, match="never of themselves"):
        observe(world.group, world.tutor)
    assert _saved() == 0


def test_a_tutoring_lead_covering_a_session_cannot_observe_it(db_session):
    world = make_observed_school()
    lead = make_cleared_tutor(world.school)
    people.grant_membership(lead, Role.TUTORING_LEAD, actor=None, trust=world.trust,
                            school=world.school)
    session = log_delivered(world.group, clock.today() - timedelta(days=7),
                            cover_tutor_id=lead.id)
    problems = _refusal(world, observer=lead, session=session)
    assert "cannot observe your own tutoring" in problems[0].message


@pytest.mark.parametrize("who", ["central", "other_leader", "other_trust", "dsl"])
def test_only_the_schools_leaders_and_tutoring_leads_record(db_session, who):
    world = make_observed_school()
    other = make_observed_school()
    observer = {"central": world.central, "other_leader": other.leader,
                "other_trust": make_member(Role.SCHOOL_LEADER),
                "dsl": make_member(Role.DSL, school=world.school)}[who]
    with pytest.raises(DomainError, match="school leader or tutoring lead"):
        observe(world.group, observer)
    assert _saved() == 0


def test_the_audit_log_names_the_scores_but_never_the_notes(db_session):
    world = make_observed_school()
    observation = observe(world.group, world.leader,
                          notes={key: f"Private note {key}" for key in RUBRIC.keys},
                          comment="A private comment", next_step="A private next step")
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "observations.observation_recorded"))
    assert entry.object_id == str(observation.id) and entry.actor_id == world.leader.id
    assert entry.trust_id == world.trust.id
    assert entry.changes["scores"][1] == scores()
    text = str(entry.changes) + str(entry.reason)
    assert "Private" not in text and "private" not in text


def test_erasing_the_tutor_keeps_the_scores_and_drops_the_words_about_them(db_session):
    from lms.platform.roles import Role
    from lms.privacy.services import erase_person

    world = make_observed_school()
    observation = observe(world.group, world.leader, notes={"checks_understanding": "Rushed"},
                          comment="Warm with the pupils")
    erase_person(world.group.tutor, reason="Request 12", actor=make_member(Role.PROGRAMME_ADMIN))
    db_session.refresh(observation)
    assert observation.comment == "" and observation.next_step == ""
    assert {s.note for s in observation.scores} == {""}
    assert len(observation.scores) == 8
