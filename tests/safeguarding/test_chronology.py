"""The chronology: every action, who and when, append-only; corrections are new entries.
Recording the concern in the school's own system purges the account here after the trust's
period, leaving the pointer."""

from datetime import date, timedelta

import pytest

from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.safeguarding import services
from lms.safeguarding.models import ConcernEntry, EntryKind, ReferralTo
from tests.safeguarding_factory import PLANTED, make_safeguarding_school, raise_about_child


@pytest.fixture
def acknowledged(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    clock.travel(timedelta(minutes=12))
    services.acknowledge(concern, actor=world.dsl)
    return world, concern


def test_acknowledging_records_who_and_when(acknowledged):
    world, concern = acknowledged
    assert concern.acknowledged_by_id == world.dsl.id
    assert round(concern.minutes_to_acknowledge) == 12
    assert concern.entries[-1].kind == EntryKind.ACKNOWLEDGED
    with pytest.raises(DomainError):
        services.acknowledge(concern, actor=world.deputies[0])


def test_nothing_is_added_before_the_concern_is_acknowledged(db_session):
    world = make_safeguarding_school()
    concern = raise_about_child(world)
    with pytest.raises(DomainError, match="Acknowledge"):
        services.add_entry(concern, actor=world.dsl, kind="note", text="Spoke to the tutor")


def test_a_referral_needs_who_it_went_to_its_date_and_its_reference(acknowledged):
    world, concern = acknowledged
    for missing, field in (({"referral_to": None}, "referral_to"), ({"on": None}, "on"),
                           ({"text": ""}, "text")):
        values = {"referral_to": "social_care", "on": clock.today(), "text": "MASH-1234",
                  **missing}
        with pytest.raises(DomainError) as refused:
            services.add_entry(concern, actor=world.dsl, kind="referral", **values)
        assert refused.value.field == field
    entry = services.add_entry(concern, actor=world.dsl, kind="referral",
                               referral_to="lado", on=clock.today(), text="LADO-77")
    assert entry.referral_to == ReferralTo.LADO and services.details_of(entry) == "LADO-77"


def test_a_date_in_the_future_is_refused(acknowledged):
    world, concern = acknowledged
    with pytest.raises(DomainError) as refused:
        services.add_entry(concern, actor=world.dsl, kind="parents_informed",
                           on=clock.today() + timedelta(days=1))
    assert refused.value.field == "on"


def test_an_entry_is_never_changed(acknowledged):
    world, concern = acknowledged
    entry = services.add_entry(concern, actor=world.dsl, kind="note", text="First note")
    entry.on = date(2026, 1, 1)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


def test_an_entry_is_never_deleted(acknowledged):
    world, concern = acknowledged
    db.session.delete(db.session.get(ConcernEntry, concern.entries[0].id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


def test_a_correction_is_a_new_entry_naming_the_one_it_corrects(acknowledged):
    world, concern = acknowledged
    wrong = services.add_entry(concern, actor=world.dsl, kind="note", text="Spoke to mum")
    fixed = services.add_entry(concern, actor=world.dsl, kind="correction",
                               text="It was the child's aunt", corrects_id=wrong.id)
    assert fixed.corrects_id == wrong.id
    assert services.details_of(wrong) == "Spoke to mum"
    with pytest.raises(DomainError) as refused:
        services.add_entry(concern, actor=world.dsl, kind="correction", text="x",
                           corrects_id=999_999)
    assert refused.value.field == "corrects_id"


def test_entry_details_are_encrypted_at_rest(acknowledged):
    world, concern = acknowledged
    entry = services.add_entry(concern, actor=world.dsl, kind="note", text=PLANTED)
    assert PLANTED.encode() not in entry.details_encrypted


def test_closing_needs_an_outcome(acknowledged):
    world, concern = acknowledged
    with pytest.raises(DomainError) as refused:
        services.close(concern, actor=world.dsl, outcome=" ")
    assert refused.value.field == "outcome"
    services.close(concern, actor=world.dsl, outcome="Early help offered")
    assert concern.closed_at is not None
    assert [e.kind for e in concern.entries][-2:] == [EntryKind.OUTCOME, EntryKind.CLOSED]


def test_recorded_in_the_schools_system_it_is_purged_after_the_trusts_period(acknowledged):
    world, concern = acknowledged
    services.add_entry(concern, actor=world.dsl, kind="note", text="A note")
    services.record_elsewhere(concern, actor=world.dsl, system="CPOMS", reference="C-991")
    assert services.purge_due() == 0
    clock.travel(timedelta(days=30, minutes=1))
    assert services.purge_due() == 1
    assert concern.account_encrypted is None and services.account_of(concern) == {}
    assert all(e.details_encrypted is None for e in concern.entries)
    # The pointer: where, who, when, the chronology's kinds and dates, the reference.
    assert (concern.school_id, concern.reporter_id, concern.external_reference) == (
        world.school.id, world.tutor.id, "C-991")
    assert [e.kind for e in concern.entries] == [
        EntryKind.RAISED, EntryKind.TOLD, EntryKind.ACKNOWLEDGED, EntryKind.NOTE,
        EntryKind.RECORDED_ELSEWHERE, EntryKind.PURGED]
    assert concern.raised_at and concern.told_at and concern.acknowledged_at
    with pytest.raises(DomainError, match="purged"):
        services.add_entry(concern, actor=world.dsl, kind="note", text="more")


def test_a_concern_never_recorded_elsewhere_is_never_purged(acknowledged):
    world, concern = acknowledged
    clock.travel(timedelta(days=400))
    assert services.purge_due() == 0
    assert services.account_of(concern)["account"] == PLANTED


def test_the_purge_period_is_the_trusts(acknowledged):
    world, concern = acknowledged
    services.set_settings(world.trust.id, first=60, second=240, purge_days=7,
                          actor=world.trust_lead)
    services.record_elsewhere(concern, actor=world.dsl, system="MyConcern", reference="M-1")
    clock.travel(timedelta(days=7, minutes=1))
    assert services.purge_due() == 1


def test_the_school_system_and_reference_are_required(acknowledged):
    world, concern = acknowledged
    for system, reference, field in (("", "R1", "system"), ("CPOMS", " ", "reference")):
        with pytest.raises(DomainError) as refused:
            services.record_elsewhere(concern, actor=world.dsl, system=system,
                                      reference=reference)
        assert refused.value.field == field


def test_settings_out_of_range_are_refused(db_session):
    world = make_safeguarding_school()
    for first, second, days, field in ((2, 240, 30, "first_escalation_minutes"),
                                       (60, 60, 30, "second_escalation_minutes"),
                                       (60, 240, 0, "purge_days")):
        with pytest.raises(DomainError) as refused:
            services.set_settings(world.trust.id, first=first, second=second,
                                  purge_days=days, actor=world.trust_lead)
        assert refused.value.field == field
