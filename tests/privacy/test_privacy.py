"""A person's own data: the download of everything held about them, and erasure on request
(revoked for good, the audit chain and the status lists intact, nothing left that names them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from assessments.attempts.models import Attempt, AttemptItem
from assessments.attempts.services import (
    grant_adjustment,
    save_answer,
    start_attempt,
    submit_attempt,
)
from assessments.bank.models import ItemVersion
from assessments.bank.services import load_bank
from assessments.checks.models import FormativeResult
from assessments.checks.services import start_check, submit_check
from courses.models import Lesson, LessonProgress, ScenarioAnswer
from courses.services import answer_scenario, course_progress, load_content, view_lesson
from credentials.endorsements import keys, services, status
from credentials.endorsements.models import Endorsement, EndorsementStatus, StatusList
from credentials.endorsements.verify import (
    StaticResolver,
    keys_from_did_document,
    verify_credential,
)
from credentials.providers import services as providers
from credentials.register import derivation
from credentials.register import services as register
from credentials.register.models import (
    DbsCheck,
    DbsStatusCheck,
    RegisterEntry,
    RegisterStatus,
    SafeguardingTraining,
)
from lms.accounts.models import User
from lms.accounts.services import erased_email
from lms.audit import services as audit
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.organisations.models import Membership, School, Trust
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.privacy.services import (
    ERASED_NAME,
    ERASED_TRN,
    REMOVAL_REASON,
    REVOCATION_REASON,
    erase_person,
    personal_data,
)
from lms.programme.models import (
    Enrolment,
    EnrolmentStatus,
    Nomination,
    NominationImport,
    NominationStatus,
)
from lms.programme.nominations import accept_nomination
from lms.programme.window import extend_deadline
from tests.factories import (
    invitation_token,
    make_enrolment,
    make_member,
    make_nomination,
    make_provider,
    make_school,
    make_trust,
    read_lesson,
)
from tests.statements import statements_run

TUTOR_PASSWORD = "tutor password 2026"
NAME = "Zebedee Quillfeather"
EMAIL = "zq.marchbanks@privacy.example"
TRN = "8462917"
CERTIFICATE = "918273645546"
#: Names typed by staff about the tutor's records: personal data too.
DECIDER = "Ottoline Riskworth"
SEEN_BY = "Perpetua Sightley"
SECTIONS = ["account", "memberships", "nominations", "enrolments", "lesson_progress",
            "scenario_answers", "formative_checks", "summative_attempts", "adjustments",
            "endorsements", "verification_checks", "register_entries", "dbs_checks",
            "safeguarding_training",
            "emails"]


@dataclass
class Journey:
    tutor: User
    trust: Trust
    school: School
    leader: User
    central: User
    admin: User
    endorsement: Endorsement
    enrolment: Enrolment
    nomination_id: int


def _right(item: ItemVersion, order: list[int]) -> list[int]:
    return [p for p, i in enumerate(order) if item.options[i]["correct"]]


def _study_and_pass(db_session, enrolment: Enrolment) -> None:
    for module in course_progress(enrolment).modules:
        for lesson in module.module.lessons:
            view_lesson(enrolment, lesson)
            read_lesson(enrolment, lesson)
            full = db_session.get(Lesson, lesson.id)
            if full.scenarios:
                answer_scenario(enrolment, full, 1, f"{NAME} would listen first.")
        check = start_check(enrolment, module.module.slug)
        submit_check(check, {i: _right(db_session.get(ItemVersion, entry["item_version_id"]),
                                       entry["option_order"])
                             for i, entry in enumerate(check.items)})
    db_session.commit()
    attempt = start_attempt(enrolment)
    for row in attempt.items:
        save_answer(attempt, row.position, _right(row.item, row.option_order))
    submit_attempt(attempt)
    db_session.commit()  # the endorsement is issued in the background, just after


@pytest.fixture
def journey(db_session) -> Journey:
    """A QTS holder nominated, accepted, studied, passed and endorsed; then a DBS check (with a
    risk decision and an Update Service check), training, the register and a suspension."""
    load_content()
    load_bank()
    trust = make_trust("Privacy Learning Trust")
    school = make_school(trust, name="Quarry Hill Primary")
    sibling = make_school(trust, name="Larkspur Academy")
    leader = make_member(Role.SCHOOL_LEADER, school=school, name="Harriet Leaderson")
    central = make_member(Role.CENTRAL_TEAM, trust=trust, name="Cyril Centrale")
    admin = make_member(Role.PROGRAMME_ADMIN, name="Ada Admin")
    nomination = make_nomination(school, actor=leader, name=NAME, email=EMAIL,
                                 holds_qts="yes", trn=TRN, role_in_school="teacher",
                                 tutoring_phase="secondary", subject_focus="Maths")
    db_session.commit()
    enrolment = accept_nomination(invitation_token(nomination), password=TUTOR_PASSWORD,
                                  privacy_consent=True)
    extend_deadline(enrolment, days=3, reason="Illness", actor=central)
    grant_adjustment(enrolment, "extra_time", 25, reason="Access arrangement", actor=central)
    db_session.commit()
    _study_and_pass(db_session, enrolment)
    tutor = enrolment.user
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == tutor.id)).one()
    today = clock.today()
    check = register.record_dbs_check(
        tutor, trust, certificate_number=CERTIFICATE, issued_on=today - timedelta(days=60),
        level="enhanced_barred", workforce="child", barred_lists=["children"],
        original_seen_by=SEEN_BY, original_seen_on=today - timedelta(days=50),
        update_service=True, showed_information=True, actor=central)
    register.record_risk_decision(check, decision="suitable",
                                  decided_on=today - timedelta(days=40), decided_by=DECIDER,
                                  actor=central)
    register.record_status_check(check, checked_on=today - timedelta(days=10),
                                 result="no_new_information", actor=central)
    register.record_training(tutor, trust, completed_on=today - timedelta(days=30),
                             course="Keeping children safe", actor=central)
    entry = db_session.scalars(select(RegisterEntry).where(
        RegisterEntry.user_id == tutor.id)).one()
    register.set_register_schools(entry, [school, sibling], actor=central)
    key, _ = providers.create_api_key(make_provider("Checkwell Tutoring"), name="Bookings",
                                      actor=None)
    providers.verify_ids([endorsement.public_id], provider=key.provider, key=key)
    services.suspend_endorsement(endorsement, reason="Under review", actor=central)
    db_session.commit()
    return Journey(tutor, trust, school, leader, central, admin, endorsement, enrolment,
                   nomination.id)


def _sign_in_tutor(sign_in, journey: Journey):
    return sign_in(journey.tutor, TUTOR_PASSWORD)


def _values(journey: Journey) -> list[str]:
    """What must never be written into the audit log (or survive an erasure)."""
    first, last = NAME.split()
    return [NAME, first, last, EMAIL, TRN, CERTIFICATE, DECIDER, SEEN_BY]


def _bit_is_set(client, endorsement: Endorsement) -> bool:
    listing = client.get(f"/status/{endorsement.status_list.public_id}").get_json()
    return status.is_set(status.decoded_list(listing["credentialSubject"]["encodedList"]),
                         endorsement.status_index)


# --- the export ---------------------------------------------------------------------------


def test_the_export_holds_every_section_of_a_whole_journey(client, sign_in, db_session,
                                                          journey):
    _sign_in_tutor(sign_in, journey)
    response = client.get("/my/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="my-data-\d{4}-\d{2}-\d{2}\.json"',
                        response.headers["Content-Disposition"])
    data = json.loads(response.get_data().decode("utf-8"))
    assert data["generated_at"] and data["about"]
    for section in SECTIONS:
        assert data[section], f"{section} is empty"
    assert data["account"]["name"] == NAME and data["account"]["email"] == EMAIL
    assert data["account"]["email_verified_at"] and data["account"]["last_signed_in_at"]
    assert {(m["role"], m["scope"]) for m in data["memberships"]} == {
        ("Tutor", "Quarry Hill Primary")}
    [nomination] = data["nominations"]
    assert (nomination["school"], nomination["pathway"], nomination["phase"],
            nomination["subject_focus"], nomination["status"], nomination["nominated_by"],
            nomination["teacher_reference_number"]) == (
        "Quarry Hill Primary", "QTS refresher", "Secondary", "Maths", "Accepted",
        "Harriet Leaderson", TRN)
    [enrolment] = data["enrolments"]
    assert enrolment["status"] == "Passed" and enrolment["course_version"]
    assert enrolment["extensions"] == [{"days": 3, "reason": "Illness",
                                        "granted_at": enrolment["extensions"][0]["granted_at"]}]
    assert all(p["lesson"] and p["completed_at"] for p in data["lesson_progress"])
    assert all(c["passed"] for c in data["formative_checks"])
    [attempt] = data["summative_attempts"]
    assert attempt["passed"] and attempt["correct"] == attempt["out_of"] == 20
    assert {t["topic"] for t in attempt["topics"]} == {
        "qts-from-classroom-to-tutoring", "qts-tutoring-practice",
        "qts-safeguarding-and-partnership"}
    assert data["adjustments"][0]["reason"] == "Access arrangement"
    [endorsement] = data["endorsements"]
    assert (endorsement["public_id"], endorsement["status"], endorsement["status_reason"]) == (
        journey.endorsement.public_id, "Suspended", "Under review")
    assert endorsement["credential"] == json.loads(journey.endorsement.credential)
    assert data["verification_checks"][0]["provider"] == "Checkwell Tutoring"
    [entry] = data["register_entries"]
    assert entry["trust"] == "Privacy Learning Trust" and entry["status"] == "Suspended"
    assert entry["schools"] == ["Larkspur Academy", "Quarry Hill Primary"]
    [check] = data["dbs_checks"]
    assert check["certificate_number"] == derivation.masked(CERTIFICATE)
    assert check["risk_decision"] == "Suitable to work with children"
    assert check["showed_information"] and check["next_check_due_on"]
    assert set(check) == {"trust", "certificate_number", "issued_on", "level", "workforce",
                          "update_service", "next_check_due_on", "showed_information",
                          "risk_decision", "risk_decision_on"}
    assert data["safeguarding_training"][0]["due_again_on"]
    assert "Your tutor endorsement is ready" in {e["subject"] for e in data["emails"]}


def test_the_export_leaks_no_item_bank_no_certificate_number_and_nobody_else(
        client, sign_in, db_session, journey):
    other = make_enrolment(journey.school, name="Ophelia Otherperson",
                           email="ophelia@privacy.example")
    register.record_dbs_check(
        other.user, journey.trust, certificate_number="123412341234",
        issued_on=clock.today(), level="enhanced_barred", workforce="child",
        barred_lists=["children"], original_seen_by="Someone", original_seen_on=clock.today(),
        update_service=False, showed_information=False)
    db_session.commit()
    _sign_in_tutor(sign_in, journey)
    body = client.get("/my/data.json").get_data().decode("utf-8")
    for hidden in (CERTIFICATE, DECIDER, SEEN_BY, "Ophelia", "ophelia@privacy.example",
                   "123412341234", "item_version_id", "option_order", "is_correct", "seed"):
        assert hidden not in body, hidden
    shown = db_session.scalars(select(ItemVersion).join(
        AttemptItem, AttemptItem.item_version_id == ItemVersion.id)).all()
    for item in shown:
        assert item.key not in body and item.stem not in body
        assert not any(option["text"] in body for option in item.options if
                       len(option["text"]) > 25)


def test_the_export_takes_a_fixed_number_of_queries(db_session, journey):
    newcomer = make_enrolment(journey.school).user
    db_session.commit()
    counts = []
    for person in (journey.tutor, newcomer):
        db_session.expire_all()
        with statements_run() as statements:
            personal_data(person)
        # Only the reads: not the BEGIN of a session.
        counts.append(sum(s.lstrip().upper().startswith("SELECT") for s in statements))
    assert counts[0] == counts[1], counts


def test_the_account_page_links_to_the_download(client, sign_in, db_session):
    person = make_member(Role.SCHOOL_LEADER)
    db_session.commit()
    sign_in(person)
    assert 'href="/my/data.json"' in client.get("/account").get_data(as_text=True)
    data = client.get("/my/data.json").get_json()
    assert data["account"]["email"] == person.email and data["enrolments"] == []


def test_the_export_is_for_signed_in_people_only(client, db_session):
    response = client.get("/my/data.json")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- audit entries hold ids, never personal data --------------------------------------------


def _personal_data_in_audit(db_session, values: list[str]) -> list[tuple[str, str]]:
    found = []
    for entry in db_session.scalars(select(AuditEntry)):
        text = (json.dumps(entry.changes, ensure_ascii=False) + " " + (entry.reason or "")
                ).lower()
        found += [(entry.action, value) for value in values if value.lower() in text]
    return found


def test_audit_entries_of_a_whole_journey_hold_no_personal_data(db_session, journey):
    assert db_session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "dbs_check.risk_decision")) is not None
    assert _personal_data_in_audit(db_session, _values(journey)) == []


# --- erasure ------------------------------------------------------------------------------


def _erase(db_session, journey: Journey, reason: str = "Request received, ref 1234"):
    report = erase_person(journey.tutor, reason=reason, actor=journey.admin)
    db_session.commit()
    db_session.expire_all()
    return report


def test_erasure_revokes_the_endorsement_for_good_and_leaves_a_stub_naming_nobody(
        client, db_session, journey):
    endorsement = journey.endorsement
    original = endorsement.credential
    assert NAME in client.get(f"/credentials/{endorsement.public_id}.json").get_data(
        as_text=True)  # now cached, as a verifier's request would leave it
    report = _erase(db_session, journey)
    assert report.endorsements_revoked == 1 and report.credentials_erased == 1
    assert endorsement.status == EndorsementStatus.REVOKED
    assert endorsement.status_reason == REVOCATION_REASON
    assert _bit_is_set(client, endorsement)
    stub = json.loads(endorsement.credential)
    assert stub["credentialStatus"] == json.loads(original)["credentialStatus"]
    assert "credentialSubject" not in stub and "proof" not in stub
    served = client.get(f"/credentials/{endorsement.public_id}.json")
    assert served.status_code == 200 and served.get_json() == stub
    for value in _values(journey):
        assert value not in endorsement.credential
    page = client.get(f"/credentials/{endorsement.public_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Revoked" in text and "status-revoked" in text
    assert NAME not in text and ERASED_NAME not in text
    pdf = client.get(f"/credentials/{endorsement.public_id}/certificate.pdf")
    assert pdf.status_code == 200 and NAME.encode() not in pdf.data


def test_after_erasure_the_api_says_revoked_without_a_name(client, db_session, journey):
    key, token = providers.create_api_key(make_provider(), name="Checker", actor=None)
    db_session.commit()
    _erase(db_session, journey)
    response = client.post("/api/v1/verifications", csrf=False,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"credential_id": journey.endorsement.public_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()["results"]
    assert (result["status"], result["valid"], result["tutor_name"]) == (
        "revoked", False, None)
    assert NAME not in response.get_data(as_text=True)


def test_erasure_anonymises_and_closes_the_account_and_ends_every_role(
        client, db_session, journey):
    tutor = journey.tutor
    _erase(db_session, journey)
    assert (tutor.name, tutor.email) == (ERASED_NAME, erased_email(tutor.id))
    assert tutor.password_hash is None and tutor.deactivated_at is not None
    assert tutor.email_verified_at is None and tutor.last_signed_in_at is None
    for column in ("totp_secret_encrypted", "two_factor_enabled_at", "totp_last_step"):
        assert getattr(tutor, column, None) is None
    assert db_session.scalars(select(Membership).where(
        Membership.user_id == tutor.id, Membership.ended_at.is_(None))).all() == []
    response = client.post("/sign-in", data={"email": EMAIL, "password": TUTOR_PASSWORD})
    assert response.status_code == 400


def test_an_erased_persons_open_session_ends(client, sign_in, db_session, journey):
    _sign_in_tutor(sign_in, journey)
    assert client.get("/my/data.json").status_code == 200
    _erase(db_session, journey)
    response = client.get("/my/data.json")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_erasure_anonymises_nominations_and_clears_records_about_them(db_session, journey):
    tutor = journey.tutor
    upload = NominationImport(
        school=journey.school, filename="staff.csv", row_errors=[
            {"line": 3, "reason": f"{EMAIL.upper()} is already nominated or in training"}],
        content=("name,email,tutoring_phase\r\nAnn Other,ann@privacy.example,primary\r\n"
                 f"{NAME},{EMAIL.upper()},secondary\r\nBen Other,ben@privacy.example,primary\r\n"))
    db_session.add(upload)
    db_session.commit()
    progress_before = db_session.query(LessonProgress).count()
    report = _erase(db_session, journey)
    nomination = db_session.get(Nomination, journey.nomination_id)
    assert (nomination.candidate_name, nomination.candidate_email, nomination.trn) == (
        ERASED_NAME, erased_email(tutor.id), ERASED_TRN)
    assert report.nominations_anonymised == 1
    for model in (DbsCheck, DbsStatusCheck, SafeguardingTraining):
        assert db_session.query(model).count() == 0, model
    assert (report.dbs_checks_deleted, report.dbs_status_checks_deleted,
            report.training_records_deleted) == (1, 1, 1)
    entry = db_session.scalars(select(RegisterEntry).where(
        RegisterEntry.user_id == tutor.id)).one()
    assert entry.status == RegisterStatus.REMOVED and entry.removed_reason == REMOVAL_REASON
    assert db_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address.in_(
        [EMAIL, erased_email(tutor.id)]))).all() == []
    assert report.emails_deleted > 0
    # What they wrote in their own words goes; progress and results stay, so the trust's
    # figures stay right.
    assert db_session.query(ScenarioAnswer).count() == 0
    assert db_session.query(LessonProgress).count() == progress_before
    assert db_session.query(Attempt).count() == 1
    assert db_session.query(FormativeResult).count() >= 3
    assert db_session.get(Enrolment, journey.enrolment.id).user_id == tutor.id
    # Their row in an uploaded CSV is blanked in place; the others keep their line numbers.
    assert upload.content.splitlines() == [
        "name,email,tutoring_phase", "Ann Other,ann@privacy.example,primary", "",
        "Ben Other,ben@privacy.example,primary"]
    assert EMAIL not in json.dumps(upload.row_errors).lower()
    assert report.nomination_imports_cleaned == 1


def test_an_open_nomination_is_withdrawn_when_its_candidate_is_erased(db_session):
    enrolment = make_enrolment()
    enrolment.move_to(EnrolmentStatus.WITHDRAWN, "Left")
    tutor = enrolment.user
    again = make_nomination(enrolment.school, email=tutor.email, name=tutor.name)
    db_session.commit()
    report = erase_person(tutor, reason="Request", actor=None)
    db_session.commit()
    assert again.status == NominationStatus.WITHDRAWN
    assert again.candidate_email == erased_email(tutor.id)
    assert report.nominations_withdrawn == 1 and report.nominations_anonymised == 2


def test_after_erasure_the_audit_chain_and_status_lists_verify_and_hold_no_personal_data(
        client, db_session, journey):
    kept = journey.endorsement.credential  # a copy a verifier kept before the erasure
    before = db_session.query(AuditEntry).count()
    _erase(db_session, journey)
    audit.seal_all()
    report = audit.verify_chain()
    assert report.ok and report.entries_checked > before and report.awaiting_seal == 0
    erased = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "user.erased")).one()
    assert (erased.object_id, erased.actor_id, erased.reason) == (
        str(journey.tutor.id), journey.admin.id, "Request received, ref 1234")
    assert erased.changes["erased"] == [False, True]
    assert _personal_data_in_audit(db_session, _values(journey)) == []
    # Its signed status list still verifies, and says the kept copy is not valid any more.
    lists = {status.list_url(item): json.loads(item.credential)
             for item in db_session.scalars(select(StatusList))}
    resolver = StaticResolver(keys_from_did_document(keys.did_document()), lists)
    verdict = verify_credential(kept, resolver)
    assert (verdict.valid, verdict.code) == (False, "suspended"), verdict.reason


def test_a_second_erasure_changes_nothing(client, db_session, journey):
    _erase(db_session, journey)
    entries = db_session.query(AuditEntry).count()
    credential = journey.endorsement.credential
    report = erase_person(journey.tutor, reason="Asked again", actor=journey.admin)
    db_session.commit()
    assert report.total == 0
    assert db_session.query(AuditEntry).count() == entries
    assert journey.endorsement.credential == credential
    assert _bit_is_set(client, journey.endorsement)


def test_erasure_refuses_a_programme_admin_oneself_and_no_reason(db_session, journey):
    other_admin = make_member(Role.PROGRAMME_ADMIN)
    with pytest.raises(DomainError, match="programme admin"):
        erase_person(other_admin, reason="Asked", actor=journey.admin)
    with pytest.raises(DomainError, match="your own"):
        erase_person(journey.admin, reason="Asked", actor=journey.admin)
    with pytest.raises(DomainError, match="reason"):
        erase_person(journey.tutor, reason="  ", actor=journey.admin)
    db_session.rollback()
    assert db_session.get(User, journey.tutor.id).name == NAME


def test_credentials_are_only_erased_once_revoked(db_session, journey):
    services.reinstate_endorsement(journey.endorsement, reason="Cleared", actor=None)
    with pytest.raises(DomainError, match="Revoke"):
        services.erase_credential(journey.endorsement)


# --- the page and the command -------------------------------------------------------------


def _form(person: User, **overrides) -> dict:
    return {"reason": "Request received, ref 1234", "confirm_email": person.email, **overrides}


def test_a_programme_admin_erases_from_the_persons_page(client, sign_in, db_session, journey):
    sign_in(journey.admin)
    page = client.get(f"/users/{journey.tutor.id}").get_data(as_text=True)
    assert f'action="/users/{journey.tutor.id}/erase"' in page
    response = client.post(f"/users/{journey.tutor.id}/erase", data=_form(journey.tutor))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Personal data erased" in text
    assert "Endorsements revoked</dt><dd>1" in text and "DBS checks deleted</dt><dd>1" in text
    assert NAME not in text and EMAIL not in text
    assert "has been erased" in client.get(f"/users/{journey.tutor.id}").get_data(
        as_text=True)


@pytest.mark.parametrize("overrides, message", [
    ({"reason": ""}, "Give a reason for the erasure"),
    ({"confirm_email": "someone.else@privacy.example"}, "does not match"),
    ({"confirm_email": ""}, "Type the person&#39;s email address to confirm"),
])
def test_erasure_needs_a_reason_and_the_persons_email_typed(client, sign_in, db_session,
                                                           journey, overrides, message):
    sign_in(journey.admin)
    response = client.post(f"/users/{journey.tutor.id}/erase",
                           data=_form(journey.tutor, **overrides))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db_session.expire_all()
    assert journey.tutor.name == NAME


def test_the_page_refuses_to_erase_an_admin_or_oneself(client, sign_in, db_session, journey):
    other_admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(journey.admin)
    for person in (other_admin, journey.admin):
        response = client.post(f"/users/{person.id}/erase", data=_form(person))
        assert response.status_code == 400
        assert "programme admin" in response.get_data(as_text=True) or \
            "your own" in response.get_data(as_text=True)
    assert "cannot be erased" in client.get(f"/users/{other_admin.id}").get_data(as_text=True)


def test_only_a_programme_admin_may_erase(client, sign_in, db_session, journey):
    url = f"/users/{journey.tutor.id}/erase"
    for person in (journey.central, journey.leader, journey.tutor):
        sign_in(person, TUTOR_PASSWORD if person is journey.tutor else
                "correct horse battery staple")
        assert url not in client.get(f"/users/{journey.tutor.id}").get_data(as_text=True)
        assert client.post(url, data=_form(journey.tutor)).status_code == 403
        client.post("/sign-out")
    sign_in(journey.admin)
    assert client.post("/users/999999/erase", data=_form(journey.tutor)).status_code == 404
    db_session.expire_all()
    assert journey.tutor.name == NAME


def test_the_command_erases_a_person_by_email(app, db_session, journey):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "erase", "--email", EMAIL.upper(),
                                 "--reason", "Request received, ref 1234"])
    assert result.exit_code == 0, result.output
    assert "Endorsements revoked: 1" in result.output
    db_session.expire_all()
    assert journey.tutor.name == ERASED_NAME
    missing = runner.invoke(args=["users", "erase", "--email", EMAIL, "--reason", "Again"])
    assert missing.exit_code != 0 and "No account" in missing.output
    admin = runner.invoke(args=["users", "erase", "--email", journey.admin.email,
                                "--reason", "Asked"])
    assert admin.exit_code != 0 and "programme admin" in admin.output
