"""The approved-tutor register: its status derived from the facts, never typed in; DBS checks
recorded safely; and status moving by itself when a fact changes or lapses."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from credentials.endorsements import services
from credentials.endorsements.models import EndorsementStatus
from credentials.register import derivation
from credentials.register import services as register
from credentials.register.derivation import DbsFact, EndorsementFact, Facts, derive
from credentials.register.models import DbsCheck, RegisterEntry, RegisterStatus, RiskDecision
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from tests.factories import make_endorsement, make_member, make_school, make_trust

TODAY = date(2026, 6, 15)
LATER = TODAY + timedelta(days=200)

# --- the rule, over every combination -----------------------------------------------------

ENDORSEMENTS = {
    "none": None,
    "valid": EndorsementFact(EndorsementStatus.ACTIVE, LATER, None),
    "suspended": EndorsementFact(EndorsementStatus.SUSPENDED, LATER, TODAY),
    "revoked": EndorsementFact(EndorsementStatus.REVOKED, LATER, TODAY),
    "expired": EndorsementFact(EndorsementStatus.EXPIRED, TODAY - timedelta(days=1), None),
}
DBS = {
    "none": None,
    "current": DbsFact(True, LATER, False, None, None, None),
    "wrong_level": DbsFact(False, LATER, False, None, None, None),
    "lapsed": DbsFact(True, TODAY, False, None, None, None),
    "new_information": DbsFact(True, LATER, False, None, None, TODAY - timedelta(days=3)),
    "awaiting_decision": DbsFact(True, LATER, True, None, None, None),
    "suitable": DbsFact(True, LATER, True, RiskDecision.SUITABLE, TODAY, None),
    "not_suitable": DbsFact(True, LATER, True, RiskDecision.NOT_SUITABLE, TODAY, None),
}
TRAINING = {"none": None, "current": LATER, "lapsed": TODAY}

LAPSING = {("endorsement", "suspended"), ("endorsement", "revoked"), ("endorsement", "expired"),
           ("dbs", "lapsed"), ("dbs", "new_information"), ("dbs", "not_suitable"),
           ("training", "lapsed")}
MISSING = {("endorsement", "none"), ("dbs", "none"), ("dbs", "wrong_level"),
           ("dbs", "awaiting_decision"), ("training", "none")}
CASES = list(itertools.product(ENDORSEMENTS, DBS, TRAINING, [False, True]))


def _expected(endorsement: str, dbs: str, training: str, removed: bool) -> RegisterStatus:
    facts = {("endorsement", endorsement), ("dbs", dbs), ("training", training)}
    if removed:
        return RegisterStatus.REMOVED
    if facts & LAPSING:
        return RegisterStatus.SUSPENDED
    if facts & MISSING:
        return RegisterStatus.PENDING
    return RegisterStatus.APPROVED


@pytest.mark.parametrize(("endorsement", "dbs", "training", "removed"), CASES,
                         ids=["-".join(map(str, case)) for case in CASES])
def test_the_status_follows_from_every_combination_of_facts(endorsement, dbs, training,
                                                            removed):
    facts = Facts(ENDORSEMENTS[endorsement], DBS[dbs], TRAINING[training],
                  TODAY - timedelta(days=2) if removed else None,
                  "Left the trust" if removed else None)
    derived = derive(facts, TODAY)
    assert derived.status == _expected(endorsement, dbs, training, removed)
    if derived.status == RegisterStatus.APPROVED:
        assert derived.reasons == [] and derived.next_due_on == LATER - timedelta(days=0)
    else:
        assert derived.reasons, "a status short of approved always says why"
    if derived.status == RegisterStatus.SUSPENDED:
        assert derived.since is not None and derived.since <= TODAY
    if removed:
        assert "Left the trust" in derived.reasons[0]


def test_the_reasons_name_each_missing_and_lapsed_fact():
    derived = derive(Facts(ENDORSEMENTS["suspended"], DBS["none"], TRAINING["lapsed"]), TODAY)
    assert derived.status == RegisterStatus.SUSPENDED
    assert derived.reasons == [
        "Endorsement suspended (since 15 June 2026)",
        "Safeguarding training due on 15 June 2026",
        "No DBS check recorded",
    ]
    pending = derive(Facts(ENDORSEMENTS["valid"], DBS["awaiting_decision"], None), TODAY)
    assert pending.reasons == [
        "The DBS certificate showed information: a risk decision is needed",
        "No safeguarding training recorded",
    ]


def test_a_check_due_today_has_lapsed_and_one_due_tomorrow_has_not():
    tomorrow = TODAY + timedelta(days=1)
    due_tomorrow = DbsFact(True, tomorrow, False, None, None, None)
    facts = Facts(ENDORSEMENTS["valid"], due_tomorrow, LATER)
    assert derive(facts, TODAY).status == RegisterStatus.APPROVED
    assert derive(facts, TODAY).next_due_on == tomorrow
    assert derive(facts, tomorrow).status == RegisterStatus.SUSPENDED
    assert derive(facts, tomorrow).since == tomorrow


def test_months_are_added_as_people_count_them():
    assert derivation.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert derivation.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert derivation.add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


# --- recording DBS checks and training ----------------------------------------------------

NUMBER = "001234567890"


def _record(person, trust, **overrides):
    fields = {
        "certificate_number": NUMBER, "issued_on": clock.today() - timedelta(days=30),
        "level": "enhanced_barred", "workforce": "child", "barred_lists": ["children"],
        "original_seen_by": "Jo Bloggs, School Business Manager",
        "original_seen_on": clock.today() - timedelta(days=20), "update_service": False,
        "showed_information": False,
    }
    fields.update(overrides)
    return register.record_dbs_check(person, trust, **fields)


def _approved_tutor(db_session):
    endorsement = make_endorsement()
    trust = endorsement.trust
    _record(endorsement.user, trust)
    register.record_training(endorsement.user, trust,
                             completed_on=clock.today() - timedelta(days=10))
    db_session.commit()
    entry = db_session.scalars(select(RegisterEntry)).one()
    return endorsement, entry


def test_an_endorsed_tutor_joins_the_register_and_is_approved_once_checked_and_trained(
        db_session):
    endorsement = make_endorsement()
    entry = db_session.scalars(select(RegisterEntry)).one()
    assert (entry.trust_id, entry.user_id) == (endorsement.trust_id, endorsement.user_id)
    assert entry.schools == [endorsement.school]
    assert entry.status == RegisterStatus.PENDING
    assert "No DBS check recorded" in entry.reasons
    _record(endorsement.user, endorsement.trust)
    register.record_training(endorsement.user, endorsement.trust,
                             completed_on=clock.today())
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.APPROVED and entry.reasons == []


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"certificate_number": "12345678901"}, "certificate_number", "12-digit"),
    ({"certificate_number": "12345678901a"}, "certificate_number", "12-digit"),
    ({"issued_on": date.today() + timedelta(days=3)}, "issued_on", "future"),
    ({"level": "basic"}, "level", "children"),
    ({"level": "enhanced"}, "level", "children"),
    ({"workforce": "adult"}, "workforce", "children"),
    ({"barred_lists": ["adults"]}, "barred_lists", "children"),
    ({"original_seen_by": "  "}, "original_seen_by", "who saw"),
    ({"original_seen_on": date(2000, 1, 1)}, "original_seen_on", "after its issue date"),
    ({"showed_information": True, "risk_decision": "suitable"}, "risk_decision_on", "date"),
    ({"risk_decision": "suitable", "risk_decision_on": date.today(),
      "risk_decision_by": "Head"}, "risk_decision", "showed information"),
])
def test_bad_dbs_details_are_refused_with_a_clear_message(db_session, overrides, field,
                                                          message):
    endorsement = make_endorsement()
    with pytest.raises(DomainError, match=message) as refused:
        _record(endorsement.user, endorsement.trust, **overrides)
    assert refused.value.field == field
    assert db_session.scalars(select(DbsCheck)).all() == []


def test_spaces_and_dashes_in_a_certificate_number_are_ignored(db_session):
    endorsement = make_endorsement()
    _record(endorsement.user, endorsement.trust, certificate_number="0012 3456-7890")
    assert register.find_certificate(endorsement.trust, NUMBER)


def test_the_certificate_number_is_encrypted_found_by_exact_match_and_shown_masked(
        db_session, caplog):
    endorsement = make_endorsement()
    check = _record(endorsement.user, endorsement.trust)
    db_session.commit()
    raw = db_session.execute(text(
        "SELECT certificate_number_encrypted, certificate_number_lookup FROM dbs_checks"
    )).one()
    stored = bytes(raw[0])
    assert NUMBER.encode() not in stored and NUMBER not in raw[1]
    assert "7890" not in raw[1]
    assert register.certificate_number(check) == NUMBER
    assert derivation.masked(NUMBER) == "••••••••7890"
    assert [c.id for c in register.find_certificate(endorsement.trust, NUMBER)] == [check.id]
    assert register.find_certificate(endorsement.trust, "001234567891") == []
    assert register.find_certificate(make_trust(), NUMBER) == []
    assert NUMBER not in caplog.text
    audit_text = " ".join(str(e.changes) for e in db_session.scalars(select(AuditEntry)))
    assert NUMBER not in audit_text


def test_the_provider_view_of_the_register_holds_no_dbs_details(db_session):
    endorsement, entry = _approved_tutor(db_session)
    seen = register.register_status_for(endorsement, {endorsement.trust_id})
    assert seen == {"status": "approved", "trust": endorsement.trust.name,
                    "schools": [endorsement.school.name], "reasons": []}
    assert register.register_status_for(endorsement, set()) is None


def test_a_provider_sees_the_register_of_the_trust_a_tutor_moved_to(db_session):
    endorsement, entry = _approved_tutor(db_session)
    register.remove_from_register(entry, reason="Moved to Moorland Trust")
    new_trust = make_trust("Moorland Trust")
    new_school = make_school(new_trust, name="Moor Primary")
    register.add_to_register(new_trust, endorsement.user, schools=[new_school])
    db_session.commit()
    both = register.register_status_for(endorsement, {endorsement.trust_id, new_trust.id})
    assert (both["trust"], both["status"]) == ("Moorland Trust", "pending")
    assert both["schools"] == ["Moor Primary"]
    only_new = register.register_status_for(endorsement, {new_trust.id})
    assert only_new["trust"] == "Moorland Trust"
    only_old = register.register_status_for(endorsement, {endorsement.trust_id})
    assert (only_old["status"], only_old["schools"]) == ("removed", [])


# --- status changing by itself ------------------------------------------------------------


def test_suspending_the_endorsement_suspends_the_entry_and_tells_the_keepers(db_session):
    endorsement, entry = _approved_tutor(db_session)
    central = make_member(Role.CENTRAL_TEAM, trust=endorsement.trust)
    leader = make_member(Role.SCHOOL_LEADER, school=endorsement.school)
    elsewhere = make_member(Role.SCHOOL_LEADER, school=make_school(endorsement.trust))
    db_session.commit()
    services.suspend_endorsement(endorsement, reason="Investigation", actor=central)
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.SUSPENDED
    assert entry.reasons[0].startswith("Endorsement suspended")
    change = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "register_entry.status_changed")).all()[-1]
    assert change.changes == {"status": ["approved", "suspended"]}
    told = {e.to_address for e in db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "register_changes"))}
    assert {central.email, leader.email} <= told and elsewhere.email not in told
    services.reinstate_endorsement(endorsement, reason="Cleared", actor=central)
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.APPROVED


def test_a_dbs_check_lapses_at_midnight_uk_time(db_session):
    endorsement, entry = _approved_tutor(db_session)
    # Training renewed every three years, so the DBS check is the first thing to lapse.
    register.set_policy(endorsement.trust, dbs_renewal="certificate", certificate_years=3,
                        status_check_months=12, training_months=36, actor=None)
    check = db_session.scalars(select(DbsCheck)).one()
    due = derivation.add_months(check.issued_on, 36)
    midnight = datetime(due.year, due.month, due.day, tzinfo=clock.LONDON).astimezone(UTC)
    db_session.commit()
    clock.travel_to(midnight - timedelta(minutes=1))
    assert derivation.refresh_register() == []
    clock.travel_to(midnight)
    [change] = derivation.refresh_register()
    assert (change.before, change.after) == (RegisterStatus.APPROVED, RegisterStatus.SUSPENDED)
    db_session.commit()
    db_session.refresh(entry)
    assert entry.reasons == [f"DBS check due on {due:%-d %B %Y}"]
    assert derivation.refresh_register() == []


def test_under_an_update_service_policy_a_status_check_keeps_the_check_current(db_session):
    endorsement = make_endorsement()
    trust = endorsement.trust
    register.set_policy(trust, dbs_renewal="update_service", certificate_years=3,
                        status_check_months=12, training_months=12, actor=None)
    issued = clock.today() - timedelta(days=400)
    check = _record(endorsement.user, trust, issued_on=issued,
                    original_seen_on=issued + timedelta(days=1), update_service=True)
    register.record_training(endorsement.user, trust, completed_on=clock.today())
    db_session.commit()
    entry = db_session.scalars(select(RegisterEntry)).one()
    assert entry.status == RegisterStatus.SUSPENDED, "no status check in over 12 months"
    register.record_status_check(check, checked_on=clock.today() - timedelta(days=5),
                                 result="no_new_information")
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.APPROVED
    register.record_status_check(check, checked_on=clock.today(), result="new_information")
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.SUSPENDED
    assert "new information" in entry.reasons[0]


def test_a_status_check_needs_a_subscriber_and_a_sensible_date(db_session):
    endorsement = make_endorsement()
    check = _record(endorsement.user, endorsement.trust)
    with pytest.raises(DomainError, match="Update Service"):
        register.record_status_check(check, checked_on=clock.today(),
                                     result="no_new_information")
    subscribed = _record(endorsement.user, endorsement.trust, update_service=True)
    with pytest.raises(DomainError, match="future"):
        register.record_status_check(subscribed, checked_on=clock.today() + timedelta(days=1),
                                     result="no_new_information")


def test_information_on_a_certificate_keeps_a_tutor_pending_until_a_risk_decision(db_session):
    endorsement = make_endorsement()
    check = _record(endorsement.user, endorsement.trust, showed_information=True)
    register.record_training(endorsement.user, endorsement.trust, completed_on=clock.today())
    db_session.commit()
    entry = db_session.scalars(select(RegisterEntry)).one()
    assert entry.status == RegisterStatus.PENDING
    register.record_risk_decision(check, decision="suitable", decided_on=clock.today(),
                                  decided_by="Headteacher, after a risk assessment")
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.APPROVED
    assert check.risk_decision == RiskDecision.SUITABLE


def test_removal_is_a_persons_decision_with_a_reason_and_can_be_undone(db_session):
    endorsement, entry = _approved_tutor(db_session)
    with pytest.raises(DomainError, match="reason"):
        register.remove_from_register(entry, reason=" ", actor=None)
    register.remove_from_register(entry, reason="Moved to another region", actor=None)
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.REMOVED
    assert "Moved to another region" in entry.reasons[0]
    register.add_to_register(endorsement.trust, endorsement.user,
                             schools=[endorsement.school])
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.APPROVED and entry.removed_at is None


def test_only_the_trusts_own_schools_can_be_listed(db_session):
    endorsement, entry = _approved_tutor(db_session)
    with pytest.raises(DomainError, match="this trust's schools"):
        register.set_register_schools(entry, [make_school()])
    with pytest.raises(DomainError, match="at least one"):
        register.set_register_schools(entry, [])


def test_a_tutor_who_moves_trust_keeps_the_endorsement_and_needs_the_new_trusts_checks(
        db_session):
    endorsement, _ = _approved_tutor(db_session)
    new_trust = make_trust("Moorland Trust")
    new_school = make_school(new_trust)
    moved = register.add_to_register(new_trust, endorsement.user, schools=[new_school])
    db_session.commit()
    assert moved.status == RegisterStatus.PENDING
    assert moved.reasons == ["No DBS check recorded", "No safeguarding training recorded"]
    _record(endorsement.user, new_trust, certificate_number="009876543210")
    register.record_training(endorsement.user, new_trust, completed_on=clock.today())
    db_session.commit()
    db_session.refresh(moved)
    assert moved.status == RegisterStatus.APPROVED


def test_checks_due_within_30_days_or_overdue_are_listed_and_reminded_once(db_session):
    endorsement = make_endorsement()
    trust = endorsement.trust
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    issued = derivation.add_months(clock.today(), -36) + timedelta(days=10)
    _record(endorsement.user, trust, issued_on=issued, original_seen_on=issued)
    register.record_training(endorsement.user, trust,
                             completed_on=derivation.add_months(clock.today(), -12))
    db_session.commit()
    due = register.due_checks(trust)
    assert [(d.what, d.overdue) for d in due] == [("Safeguarding training", True),
                                                   ("DBS check", False)]
    assert register.send_due_reminders() == 2
    assert register.send_due_reminders() == 0
    email = db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "register_due")).one()
    assert email.to_address == central.email and endorsement.user.name in email.body_text


def test_a_stricter_policy_is_applied_to_every_entry_at_once(db_session):
    endorsement, entry = _approved_tutor(db_session)
    register.set_policy(endorsement.trust, dbs_renewal="certificate", certificate_years=3,
                        status_check_months=12, training_months=1, actor=None)
    db_session.commit()
    db_session.refresh(entry)
    assert entry.status == RegisterStatus.APPROVED
    with pytest.raises(DomainError, match="between 1 and 5"):
        register.set_policy(endorsement.trust, dbs_renewal="certificate", certificate_years=9,
                            status_check_months=12, training_months=12, actor=None)


def test_an_unknown_choice_gets_a_message_on_its_field(db_session):
    endorsement = make_endorsement()
    for field, value in (("level", "platinum"), ("workforce", "pupils")):
        with pytest.raises(DomainError, match="from the list") as refused:
            _record(endorsement.user, endorsement.trust, **{field: value})
        assert refused.value.field == field
    check = _record(endorsement.user, endorsement.trust, update_service=True,
                    showed_information=True)
    with pytest.raises(DomainError, match="from the list") as refused:
        register.record_status_check(check, checked_on=clock.today(), result="maybe")
    assert refused.value.field == "result"
    with pytest.raises(DomainError) as refused:
        register.record_risk_decision(check, decision="suitable", decided_on=clock.today(),
                                      decided_by=" ")
    assert refused.value.field == "decided_by"
    with pytest.raises(DomainError) as refused:
        register.record_risk_decision(check, decision="suitable", decided_by="Head",
                                      decided_on=check.issued_on - timedelta(days=1))
    assert refused.value.field == "decided_on"
    with pytest.raises(DomainError, match="from the list"):
        register.set_policy(endorsement.trust, dbs_renewal="yearly", certificate_years=3,
                            status_check_months=12, training_months=12, actor=None)


def test_a_missing_barred_list_or_wrong_workforce_is_named(db_session):
    endorsement = make_endorsement()
    with pytest.raises(DomainError) as refused:
        _record(endorsement.user, endorsement.trust, barred_lists=["adults"])
    assert refused.value.field == "barred_lists"
    with pytest.raises(DomainError) as refused:
        _record(endorsement.user, endorsement.trust, workforce="adult")
    assert refused.value.field == "workforce"


def test_an_overdue_date_stays_the_next_due_date_and_the_suspension_dates_from_the_lapse(
        db_session):
    endorsement = make_endorsement()
    trust = endorsement.trust
    issued = derivation.add_months(clock.today(), -36) - timedelta(days=5)
    _record(endorsement.user, trust, issued_on=issued, original_seen_on=issued)
    register.record_training(endorsement.user, trust, completed_on=clock.today())
    db_session.commit()
    entry = db_session.scalars(select(RegisterEntry)).one()
    due = derivation.add_months(issued, 36)
    assert entry.status == RegisterStatus.SUSPENDED
    assert entry.next_due_on == due <= clock.today()
    lapsed_at = datetime(due.year, due.month, due.day, tzinfo=clock.LONDON)
    assert entry.status_since == lapsed_at.astimezone(UTC)


def test_nobody_keeps_their_own_safeguarding_records(db_session):
    from credentials.register.policies import may_keep_records

    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    colleague = make_member(Role.TUTOR, school=school)
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    assert may_keep_records(leader, school.trust_id, colleague)
    assert not may_keep_records(leader, school.trust_id, leader)
    assert not may_keep_records(central, school.trust_id, central)
    assert may_keep_records(central, school.trust_id, leader)


def test_a_removed_entry_keeps_its_schools_until_it_is_added_back(db_session):
    endorsement, entry = _approved_tutor(db_session)
    register.remove_from_register(entry, reason="Left")
    with pytest.raises(DomainError, match="add them back"):
        register.set_register_schools(entry, [endorsement.school])
    db_session.rollback()
    before = db_session.scalar(select(func.count(AuditEntry.id)))
    register.set_register_schools(entry, [endorsement.school])
    assert db_session.scalar(select(func.count(AuditEntry.id))) == before, "nothing changed"
