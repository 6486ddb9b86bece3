"""Nominating tutors: eligibility, the form, duplicates, approval and invitations."""

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.organisations.services import set_nomination_approval
from lms.platform import clock
from lms.platform.errors import DomainError, InvalidTransition, TokenInvalid
from lms.platform.roles import Role
from lms.programme.models import (
    Enrolment,
    EnrolmentStatus,
    Nomination,
    NominationStatus,
    Pathway,
    TutoringPhase,
)
from lms.programme.nominations import (
    accept_nomination,
    approve_nomination,
    check_nomination_invitation,
    choose_pathway,
    decide_nominations,
    reject_nomination,
    send_nomination_invitation,
    withdraw_nomination,
)
from lms.programme.window import withdraw_enrolment
from tests.factories import (
    invitation_token,
    make_candidate,
    make_enrolment,
    make_member,
    make_nomination,
    make_school,
    make_trust,
    make_user,
)

FORM = {
    "name": "Sam Patel",
    "email": "sam.patel@school.example",
    "role_in_school": "teacher",
    "holds_qts": "yes",
    "trn": "1234567",
    "tutoring_phase": "secondary",
    "subject_focus": "Maths",
}


def _nominations(db_session):
    return db_session.scalars(select(Nomination)).all()


def _emails_to(db_session, address):
    return db_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)).all()


@pytest.mark.parametrize(
    ("holds_qts", "phase", "pathway"),
    [
        (True, TutoringPhase.PRIMARY, Pathway.QTS_REFRESHER),
        (True, TutoringPhase.SECONDARY, Pathway.QTS_REFRESHER),
        (False, TutoringPhase.PRIMARY, Pathway.PRIMARY),
        (False, TutoringPhase.SECONDARY, Pathway.SECONDARY),
    ],
)
def test_eligibility_picks_the_pathway_and_says_why(holds_qts, phase, pathway):
    chosen, why = choose_pathway(holds_qts, phase)
    assert chosen == pathway
    assert ("QTS" in why) and len(why) > 40


@pytest.fixture
def leader_client(db_session, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    db_session.commit()
    return school, leader, sign_in(leader)


def test_leader_sees_the_pathway_and_why_before_submitting(db_session, leader_client):
    school, _, client = leader_client
    page = client.post(f"/schools/{school.id}/nominations/new", data=FORM)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "QTS refresher" in body and "qualified teacher status" in body
    assert _nominations(db_session) == []


def test_confirmed_nomination_is_saved_and_invitation_sent_when_no_approval_needed(
    db_session, leader_client
):
    school, leader, client = leader_client
    response = client.post(f"/schools/{school.id}/nominations/new",
                           data={**FORM, "confirmed": "yes"})
    assert response.status_code == 302
    (nomination,) = _nominations(db_session)
    assert nomination.status == NominationStatus.INVITED
    assert nomination.pathway == Pathway.QTS_REFRESHER
    assert nomination.nominated_by_id == leader.id
    assert nomination.trn == "1234567"
    (email,) = _emails_to(db_session, "sam.patel@school.example")
    assert "/join/" in email.body_text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": ""}, "Enter the candidate&#39;s email address"),
        ({"email": "not-an-email"}, "valid email address"),
        ({"trn": "123456"}, "must be 7 digits"),
        ({"trn": ""}, "Enter the teacher reference number"),
        ({"tutoring_phase": "nursery"}, "must be primary or secondary"),
        ({"role_in_school": ""}, "Role in school must be"),
        ({"name": ""}, "full name"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_kept(db_session, leader_client, change,
                                                      message):
    school, _, client = leader_client
    response = client.post(f"/schools/{school.id}/nominations/new",
                           data={**FORM, **change, "confirmed": "yes"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in body
    assert "There is a problem" in body
    assert 'value="Maths"' in body
    assert _nominations(db_session) == []


def test_trn_is_ignored_for_someone_without_qts(db_session):
    candidate = make_candidate(holds_qts="no", trn="7654321")
    assert candidate.trn is None and candidate.pathway == Pathway.PRIMARY


def test_a_candidate_with_an_open_nomination_cannot_be_nominated_again(db_session):
    school = make_school()
    make_nomination(school, email="twice@school.example")
    with pytest.raises(DomainError, match="already has an open nomination"):
        make_nomination(make_school(), email="TWICE@school.example")


def test_a_tutor_in_training_cannot_be_nominated_again(db_session):
    enrolment = make_enrolment(email="busy@school.example")
    assert enrolment.is_active
    with pytest.raises(DomainError, match="already in training"):
        make_nomination(email="busy@school.example")


@pytest.mark.parametrize("closing", ["lapsed", "failed", "withdrawn"])
def test_a_tutor_who_failed_or_lapsed_can_be_nominated_again(db_session, closing):
    enrolment = make_enrolment(email="again@school.example")
    enrolment.move_to(EnrolmentStatus(closing), "closed for the test")
    db_session.commit()
    nomination = make_nomination(email="again@school.example")
    assert nomination.status == NominationStatus.INVITED


def test_the_database_refuses_two_open_nominations_for_one_candidate(db_session):
    from sqlalchemy.exc import IntegrityError

    first = make_nomination(email="race@school.example")
    db_session.commit()
    clone = Nomination(
        school_id=first.school_id, trust_id=first.trust_id, candidate_name="x",
        candidate_email="race@school.example", role_in_school=first.role_in_school,
        tutoring_phase=first.tutoring_phase, pathway=first.pathway,
        status=NominationStatus.SUBMITTED,
    )
    db_session.add(clone)
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


# --- approval -----------------------------------------------------------------------------


@pytest.fixture
def approving_trust(db_session):
    trust = make_trust()
    set_nomination_approval(trust, True, actor=None)
    return trust


def test_where_the_trust_approves_the_nomination_waits_and_nothing_is_sent(
    db_session, approving_trust
):
    nomination = make_nomination(make_school(approving_trust), email="wait@school.example")
    db_session.commit()
    assert nomination.status == NominationStatus.SUBMITTED
    assert _emails_to(db_session, "wait@school.example") == []


def test_central_team_approves_and_the_invitation_goes_out(db_session, approving_trust):
    central = make_member(Role.CENTRAL_TEAM, trust=approving_trust)
    nomination = make_nomination(make_school(approving_trust), email="ok@school.example")
    approve_nomination(nomination, actor=central)
    db_session.commit()
    assert nomination.status == NominationStatus.INVITED
    assert nomination.decided_by_id == central.id
    assert len(_emails_to(db_session, "ok@school.example")) == 1


def test_rejecting_needs_a_reason_and_tells_the_nominator(db_session, approving_trust):
    school = make_school(approving_trust)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    nomination = make_nomination(school, actor=leader)
    with pytest.raises(DomainError, match="reason"):
        reject_nomination(nomination, actor=None, reason="  ")
    reject_nomination(nomination, actor=None, reason="Not on the staff list")
    db_session.commit()
    assert nomination.status == NominationStatus.REJECTED
    assert any("Not on the staff list" in e.body_text for e in _emails_to(db_session,
                                                                           leader.email))


def test_bulk_approval_through_the_queue(db_session, approving_trust, sign_in):
    central = make_member(Role.CENTRAL_TEAM, trust=approving_trust)
    school = make_school(approving_trust)
    first, second, third = (make_nomination(school) for _ in range(3))
    db_session.commit()
    client = sign_in(central)
    queue = client.get(f"/trusts/{approving_trust.id}/approvals").get_data(as_text=True)
    assert first.candidate_name in queue and third.candidate_name in queue
    response = client.post(f"/trusts/{approving_trust.id}/approvals",
                           data={"nomination_ids": [first.id, second.id], "decision": "approve"})
    assert response.status_code == 302
    db_session.expire_all()
    assert [n.status for n in (first, second, third)] == [
        NominationStatus.INVITED, NominationStatus.INVITED, NominationStatus.SUBMITTED]


def test_bulk_rejection_without_a_reason_changes_nothing(db_session, approving_trust, sign_in):
    central = make_member(Role.CENTRAL_TEAM, trust=approving_trust)
    nominations = [make_nomination(make_school(approving_trust)) for _ in range(2)]
    db_session.commit()
    client = sign_in(central)
    response = client.post(f"/trusts/{approving_trust.id}/approvals",
                           data={"nomination_ids": [n.id for n in nominations],
                                 "decision": "reject", "reason": ""})
    assert response.status_code == 400
    assert "Give a reason" in response.get_data(as_text=True)
    db_session.expire_all()
    assert {n.status for n in nominations} == {NominationStatus.SUBMITTED}


def test_a_school_leader_cannot_approve(db_session, approving_trust, sign_in):
    school = make_school(approving_trust)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    nomination = make_nomination(school)
    db_session.commit()
    client = sign_in(leader)
    response = client.post(f"/trusts/{approving_trust.id}/approvals",
                           data={"nomination_ids": [nomination.id], "decision": "approve"})
    assert response.status_code == 404
    db_session.expire_all()
    assert nomination.status == NominationStatus.SUBMITTED


def test_decide_is_all_or_nothing(db_session, approving_trust):
    school = make_school(approving_trust)
    waiting = make_nomination(school)
    decided = make_nomination(school)
    approve_nomination(decided, actor=None)
    with pytest.raises(InvalidTransition):
        decide_nominations([waiting, decided], approve=True, actor=None)


# --- invitations --------------------------------------------------------------------------


def test_invitation_link_opens_the_window_and_works_only_once(db_session):
    nomination = make_nomination(email="once@school.example")
    db_session.commit()
    token = invitation_token(nomination)
    enrolment = accept_nomination(token, password="a long tutor password", privacy_consent=True)
    db_session.commit()
    assert enrolment.user.email == "once@school.example"
    assert enrolment.user.has_role(Role.TUTOR)
    assert nomination.privacy_consent_at is not None
    with pytest.raises(TokenInvalid, match="already been"):
        accept_nomination(token, password="a long tutor password", privacy_consent=True)


def test_invitation_link_expires_after_14_days(db_session):
    nomination = make_nomination()
    db_session.commit()
    token = invitation_token(nomination)
    clock.travel(__import__("datetime").timedelta(days=14, minutes=1))
    with pytest.raises(TokenInvalid, match="expired"):
        check_nomination_invitation(token)


def test_resending_replaces_the_old_link(db_session):
    nomination = make_nomination()
    db_session.commit()
    old = invitation_token(nomination)
    send_nomination_invitation(nomination, actor=None)
    db_session.commit()
    new = invitation_token(nomination)
    with pytest.raises(TokenInvalid, match="newer invitation"):
        check_nomination_invitation(old)
    assert check_nomination_invitation(new) == nomination


def test_a_withdrawn_nomination_link_no_longer_works(db_session):
    nomination = make_nomination()
    db_session.commit()
    token = invitation_token(nomination)
    withdraw_nomination(nomination, actor=None, reason="Left the school")
    db_session.commit()
    with pytest.raises(TokenInvalid, match="no longer open"):
        check_nomination_invitation(token)


def test_accepting_needs_consent_and_a_password_and_changes_nothing_without(db_session, client):
    nomination = make_nomination()
    db_session.commit()
    token = invitation_token(nomination)
    response = client.post(f"/join/{token}", data={"password": "a long tutor password",
                                                   "confirm": "a long tutor password"})
    assert response.status_code == 400
    assert "privacy notice" in response.get_data(as_text=True)
    response = client.post(f"/join/{token}", data={"privacy_consent": "y"})
    assert response.status_code == 400
    assert db_session.scalars(select(Enrolment)).all() == []
    response = client.post(f"/join/{token}", data={"password": "a long tutor password",
                                                   "confirm": "a long tutor password",
                                                   "privacy_consent": "y"})
    assert response.status_code == 302


def test_accepting_links_an_existing_account_without_a_new_password(db_session):
    existing = make_user("known@school.example")
    old_hash = existing.password_hash
    nomination = make_nomination(email="known@school.example")
    db_session.commit()
    enrolment = accept_nomination(invitation_token(nomination), password=None,
                                  privacy_consent=True)
    assert enrolment.user_id == existing.id
    assert existing.password_hash == old_hash


def test_declining_closes_the_nomination_and_tells_the_school(db_session, client):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    nomination = make_nomination(school, actor=leader)
    db_session.commit()
    response = client.post(f"/join/{invitation_token(nomination)}/decline")
    assert response.status_code == 200
    db_session.expire_all()
    assert nomination.status == NominationStatus.DECLINED
    assert any("declined" in e.subject for e in _emails_to(db_session, leader.email))


def test_leader_resends_and_withdraws_from_the_nomination_page(db_session, leader_client):
    school, leader, client = leader_client
    nomination = make_nomination(school, actor=leader)
    db_session.commit()
    assert client.post(f"/nominations/{nomination.id}/resend").status_code == 302
    db_session.expire_all()
    assert nomination.invitation_version == 2
    assert client.post(f"/nominations/{nomination.id}/withdraw",
                       data={"reason": "Changed role"}).status_code == 302
    db_session.expire_all()
    assert nomination.status == NominationStatus.WITHDRAWN


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (NominationStatus.ACCEPTED, NominationStatus.WITHDRAWN),
        (NominationStatus.REJECTED, NominationStatus.APPROVED),
        (NominationStatus.EXPIRED, NominationStatus.INVITED),
        (NominationStatus.INVITED, NominationStatus.APPROVED),
        (NominationStatus.WITHDRAWN, NominationStatus.ACCEPTED),
    ],
)
def test_illegal_nomination_transitions_raise(start, target):
    nomination = Nomination(status=start)
    with pytest.raises(InvalidTransition):
        nomination.move_to(target)


def test_illegal_enrolment_transitions_raise(db_session):
    enrolment = make_enrolment()
    withdraw_enrolment(enrolment, reason="Moved away", actor=None)
    with pytest.raises(InvalidTransition):
        withdraw_enrolment(enrolment, reason="again", actor=None)
    with pytest.raises(InvalidTransition):
        enrolment.move_to(EnrolmentStatus.ACTIVE)


def test_every_step_is_audited(db_session, approving_trust):
    nomination = make_nomination(make_school(approving_trust))
    approve_nomination(nomination, actor=None)
    db_session.commit()
    accept_nomination(invitation_token(nomination), password="a long tutor password",
                      privacy_consent=True)
    db_session.commit()
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"nomination.submitted", "nomination.approved", "nomination.invited",
            "nomination.accepted", "enrolment.opened"} <= actions
