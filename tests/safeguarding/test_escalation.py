"""Unacknowledged concerns escalate in real time: to the deputies and the trust safeguarding
lead at the first threshold (an hour by default), to everyone again at the second (four
hours). The clock is moved, never slept; running the sweep again changes nothing."""

from datetime import timedelta

from sqlalchemy import func, select

from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.extensions import db
from lms.safeguarding import escalation, services
from lms.safeguarding.models import ConcernAlert, ConcernEntry, EntryKind
from tests.safeguarding_factory import make_safeguarding_school, raise_about_child


def _alerted(concern, level) -> set[int]:
    return set(db.session.scalars(select(ConcernAlert.user_id).where(
        ConcernAlert.concern_id == concern.id, ConcernAlert.level == level)))


def _sweep() -> list[int]:
    """What the beat's task does: each concern due escalated on its own."""
    levels = [escalation.escalate(concern_id) for concern_id in escalation.due()]
    db.session.flush()
    return levels


def test_nothing_escalates_before_the_first_threshold(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=59))
    assert _sweep() == [] and concern.escalation_level == 0


def test_at_the_first_threshold_the_deputies_and_the_trust_lead_are_alerted(db_session):
    world = make_safeguarding_school(deputies=2)
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=60))
    assert _sweep() == [1]
    assert concern.escalation_level == 1
    assert concern.escalated_at - concern.raised_at >= timedelta(minutes=60)
    assert _alerted(concern, 1) == {world.trust_lead.id, *(d.id for d in world.deputies)}
    entries = [e for e in concern.entries if e.kind == EntryKind.ESCALATED]
    assert [(e.level, e.actor_id) for e in entries] == [(1, None)]


def test_at_the_second_threshold_everyone_is_alerted_again(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=61))
    _sweep()
    clock.travel(timedelta(minutes=180))
    assert _sweep() == [2]
    assert _alerted(concern, 2) == {world.dsl.id, world.trust_lead.id,
                                    *(d.id for d in world.deputies)}
    assert concern.escalated_again_at - concern.raised_at >= timedelta(minutes=241)


def test_a_concern_found_late_goes_straight_through_both_levels_once(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(hours=5))
    assert _sweep() == [2]
    assert [e.level for e in concern.entries if e.kind == EntryKind.ESCALATED] == [1, 2]


def test_the_sweep_run_twice_escalates_and_emails_nobody_twice(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=90))
    _sweep()
    emails = db.session.scalar(select(func.count(OutboxEmail.id)))
    assert _sweep() == []
    assert escalation.escalate(concern.id) == 0  # a task handed to a second worker
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == emails
    assert db.session.scalar(select(func.count(ConcernEntry.id)).where(
        ConcernEntry.concern_id == concern.id, ConcernEntry.kind == EntryKind.ESCALATED)) == 1


def test_an_acknowledged_concern_never_escalates(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=30))
    services.acknowledge(concern, actor=world.dsl)
    clock.travel(timedelta(hours=6))
    assert _sweep() == [] and concern.escalation_level == 0


def test_the_trust_sets_its_own_thresholds(db_session):
    world = make_safeguarding_school()
    services.set_settings(world.trust.id, first=15, second=45, purge_days=30,
                          actor=world.trust_lead)
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=15))
    assert _sweep() == [1]
    clock.travel(timedelta(minutes=30))
    assert _sweep() == [2]
    assert concern.escalation_level == 2


def test_time_counts_through_nights_and_weekends(db_session):
    from datetime import datetime

    world = make_safeguarding_school()
    clock.travel_to(datetime(2026, 12, 4, 17, 30, tzinfo=clock.LONDON))  # a Friday evening
    concern = raise_about_child(world)
    clock.travel(timedelta(hours=1))
    assert _sweep() == [1] and concern.escalated_at.astimezone(clock.LONDON).hour == 18


def test_acknowledging_clears_everyones_alerts(db_session):
    world = make_safeguarding_school(deputies=2)
    concern = raise_about_child(world)
    assert len(services.alerts_for(world.deputies[0])) == 1
    services.acknowledge(concern, actor=world.deputies[1])
    assert services.alerts_for(world.deputies[0]) == []
    assert services.alerts_for(world.dsl) == []


def test_with_no_deputy_or_trust_lead_the_escalation_reminds_the_dsl(db_session):
    world = make_safeguarding_school(deputies=0, trust_lead=False)
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=61))
    assert _sweep() == [1]
    assert _alerted(concern, 1) == {world.dsl.id}
    assert not db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "safeguarding_nobody")).all()
