"""Endorsements: issuing, the credential's content, status lists, suspension and revocation,
key rotation, expiry, and what the public sees."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import func, select

from credentials.endorsements import keys, services, status
from credentials.endorsements.models import Endorsement, EndorsementStatus, IssuerKey, StatusList
from credentials.endorsements.verify import (
    StaticResolver,
    keys_from_did_document,
    verify_credential,
)
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.errors import DomainError, InvalidTransition
from lms.platform.roles import Role
from lms.programme.models import EnrolmentStatus
from tests.factories import make_endorsement, make_enrolment, make_member, make_school

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "credentials" / "standards" /
                     "ob_v3p0_achievementcredential_schema.json").read_text())


def _credential(endorsement: Endorsement) -> dict:
    return json.loads(endorsement.credential)


def _resolver(db_session) -> StaticResolver:
    """What an independent verifier would fetch: the DID document and the status lists."""
    lists = {status.list_url(item): json.loads(item.credential)
             for item in db_session.scalars(select(StatusList))}
    return StaticResolver(keys_from_did_document(keys.did_document()), lists)


# --- issuing ------------------------------------------------------------------------------


def test_a_pass_is_endorsed_in_the_background_once_however_often_it_is_asked(db_session):
    enrolment = make_enrolment()
    enrolment.move_to(EnrolmentStatus.PASSED, "Passed the assessment.")
    services.request_endorsement(enrolment)
    services.request_endorsement(enrolment)
    db_session.commit()
    issued = db_session.scalars(select(Endorsement)).all()
    assert len(issued) == 1 and issued[0].enrolment_id == enrolment.id
    assert services.issue_endorsement(enrolment).id == issued[0].id
    assert services.passed_without_endorsement() == []
    emails = db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.to_address == enrolment.user.email,
        OutboxEmail.template == "endorsement_issued")).all()
    assert len(emails) == 1 and issued[0].public_id in emails[0].body_text


def test_only_a_passed_enrolment_is_endorsed(db_session):
    enrolment = make_enrolment()
    with pytest.raises(DomainError, match="passed"):
        services.issue_endorsement(enrolment)


def test_the_credential_is_an_open_badge_that_meets_the_published_schema(db_session):
    credential = _credential(make_endorsement())
    validator = jsonschema.Draft201909Validator(
        SCHEMA, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(credential), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["@context"] == services.CONTEXTS
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


def test_the_credential_says_who_what_and_when_and_hashes_the_email(db_session):
    endorsement = make_endorsement(name="Amira Hussain", email="amira@school.example",
                                   tutoring_phase="secondary")
    credential = _credential(endorsement)
    assert "amira@school.example" not in endorsement.credential
    subject = credential["credentialSubject"]
    name, email = subject["identifier"]
    assert name == {"type": "IdentityObject", "identityType": "name", "hashed": False,
                    "identityHash": "Amira Hussain"}
    assert email["hashed"] and email["identityType"] == "emailAddress"
    assert email["identityHash"] == "sha256$" + hashlib.sha256(
        ("amira@school.example" + email["salt"]).encode()).hexdigest()
    achievement = subject["achievement"]
    assert achievement["name"] == "School-Led Tutor (Secondary)"
    assert achievement["criteria"]["narrative"] and achievement["description"]
    assert credential["issuer"]["id"] == keys.issuer_did() == "did:web:localhost"
    assert credential["issuer"]["name"] == "School-Led Tutoring Programme"
    assert "test-course-version" in credential["evidence"][0]["narrative"]
    assert credential["validFrom"] < credential["validUntil"]
    assert endorsement.valid_until - endorsement.valid_from >= timedelta(days=3 * 365)
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "suspension"
    assert entry["statusListIndex"] == str(endorsement.status_index)


def test_an_issued_endorsement_verifies_as_any_verifier_would_check_it(db_session):
    endorsement = make_endorsement()
    verdict = verify_credential(endorsement.credential, _resolver(db_session))
    assert verdict.valid, verdict.reason
    assert verdict.credential_id == services.credential_url(endorsement.public_id)


def test_public_ids_are_unguessable(db_session):
    ids = {make_endorsement().public_id for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


# --- status lists -------------------------------------------------------------------------


def test_a_status_list_is_large_random_signed_and_cacheable(db_session, client):
    endorsements = [make_endorsement() for _ in range(12)]
    db_session.commit()
    indexes = [e.status_index for e in endorsements]
    assert indexes != sorted(indexes) and max(indexes) > 1000, "indexes look sequential"
    listing = endorsements[0].status_list
    response = client.get(f"/status/{listing.public_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["ETag"]
    document = response.get_json()
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = document["credentialSubject"]
    assert subject["statusPurpose"] == "suspension" and subject["ttl"] == 300_000
    assert subject["encodedList"].startswith("u")
    bits = status.decoded_list(subject["encodedList"])
    assert len(bits) * 8 >= 131_072 and not any(bits)
    again = client.get(f"/status/{listing.public_id}",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/status/nope").status_code == 404


def test_suspending_sets_the_bit_and_reinstating_clears_it_at_once(db_session, client):
    endorsement = make_endorsement()
    central = make_member(Role.CENTRAL_TEAM, trust=endorsement.trust)
    services.suspend_endorsement(endorsement, reason="Allegation under investigation",
                                 actor=central)
    db_session.commit()
    listing = client.get(f"/status/{endorsement.status_list.public_id}").get_json()
    assert status.is_set(status.decoded_list(listing["credentialSubject"]["encodedList"]),
                         endorsement.status_index)
    verdict = verify_credential(endorsement.credential, _resolver(db_session))
    assert (verdict.valid, verdict.code) == (False, "suspended")
    services.reinstate_endorsement(endorsement, reason="Cleared", actor=central)
    db_session.commit()
    assert verify_credential(endorsement.credential, _resolver(db_session)).valid


def test_revoking_is_final_and_shows_as_not_valid_to_any_verifier(db_session):
    endorsement = make_endorsement()
    services.revoke_endorsement(endorsement, reason="Barred from regulated activity",
                                actor=None)
    db_session.commit()
    assert verify_credential(endorsement.credential, _resolver(db_session)).code == "suspended"
    with pytest.raises(InvalidTransition):
        services.reinstate_endorsement(endorsement, reason="Mistake", actor=None)
    with pytest.raises(InvalidTransition):
        services.suspend_endorsement(endorsement, reason="Again", actor=None)
    assert services.public_status(endorsement).code == "revoked"


def test_every_change_needs_a_reason_is_audited_and_the_tutor_is_told(db_session):
    endorsement = make_endorsement()
    with pytest.raises(DomainError, match="reason"):
        services.suspend_endorsement(endorsement, reason="  ", actor=None)
    central = make_member(Role.CENTRAL_TEAM, trust=endorsement.trust)
    services.suspend_endorsement(endorsement, reason="DBS check lapsed", actor=central)
    db_session.commit()
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "endorsement.suspended")).one()
    assert (entry.actor_id, entry.reason) == (central.id, "DBS check lapsed")
    told = db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "endorsement_status")).one()
    assert told.to_address == endorsement.user.email and "DBS check lapsed" in told.body_text


# --- keys ---------------------------------------------------------------------------------


def test_after_a_key_rotation_old_and_new_credentials_both_verify(app, db_session):
    first = make_endorsement()
    db_session.commit()
    old_key = db_session.get(IssuerKey, first.issuer_key_id)
    result = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])
    assert result.exit_code == 0, result.output
    second = make_endorsement()
    db_session.commit()
    db_session.expire_all()
    assert second.issuer_key_id != first.issuer_key_id
    assert db_session.get(IssuerKey, old_key.id).private_key_encrypted is None
    methods = [m["id"] for m in keys.did_document()["verificationMethod"]]
    assert len(methods) == 2 and methods == keys.did_document()["assertionMethod"]
    resolver = _resolver(db_session)
    assert verify_credential(first.credential, resolver).valid
    assert verify_credential(second.credential, resolver).valid
    listing = json.loads(db_session.get(StatusList, first.status_list_id).credential)
    assert listing["proof"][0]["verificationMethod"].endswith(
        db_session.get(IssuerKey, second.issuer_key_id).public_key_multibase)


def test_signing_keys_are_encrypted_at_rest_and_never_logged(db_session, caplog):
    endorsement = make_endorsement()
    db_session.commit()
    key = db_session.get(IssuerKey, endorsement.issuer_key_id)
    seed = keys.signing_key(key).private_bytes_raw()
    assert seed not in key.private_key_encrypted
    assert seed.hex() not in caplog.text


def test_the_did_document_is_served_for_did_web(client, db_session):
    make_endorsement()
    db_session.commit()
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["id"] == "did:web:localhost"
    method = document["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")
    assert method["controller"] == "did:web:localhost"


def test_did_web_identifiers_follow_the_method_for_ports_and_paths(app):
    for base, did in [("https://tutors.example.org", "did:web:tutors.example.org"),
                      ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
                      ("https://example.org/tutors", "did:web:example.org:tutors")]:
        with app.test_request_context():
            app.config["BASE_URL"] = base
            try:
                assert keys.issuer_did() == did
            finally:
                app.config["BASE_URL"] = "http://localhost"


# --- expiry -------------------------------------------------------------------------------


def test_endorsements_expire_on_their_date_and_reminders_go_at_60_and_14_days(db_session):
    endorsement = make_endorsement(school=make_school())
    leader = make_member(Role.SCHOOL_LEADER, school=endorsement.school)
    db_session.commit()
    clock.travel_to(endorsement.valid_until - timedelta(days=59))
    assert services.send_expiry_reminders() == 1
    assert services.send_expiry_reminders() == 0
    reminded = {e.to_address for e in db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "endorsement_expiring"))}
    assert reminded == {endorsement.user.email, leader.email}
    clock.travel_to(endorsement.valid_until - timedelta(days=13))
    assert services.send_expiry_reminders() == 1
    assert services.expire_endorsements() == 0
    clock.travel_to(endorsement.valid_until)
    assert services.expire_endorsements() == 1 and services.expire_endorsements() == 0
    assert endorsement.status == EndorsementStatus.EXPIRED
    verdict = verify_credential(endorsement.credential, _resolver(db_session),
                                now=clock.now())
    assert verdict.code == "expired"


# --- the pages ----------------------------------------------------------------------------


def test_the_public_page_leads_with_the_status_and_shows_only_the_name(client, db_session):
    endorsement = make_endorsement(name="Grace Okoro", email="grace@school.example")
    db_session.commit()
    page = client.get(f"/credentials/{endorsement.public_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-cache"
    text = page.get_data(as_text=True)
    assert text.index("Valid") < text.index("Grace Okoro")
    assert "grace@school.example" not in text and endorsement.school.name not in text
    assert "Primary" in text and "School-Led Tutoring Programme" in text
    services.revoke_endorsement(endorsement, reason="Misconduct", actor=None)
    db_session.commit()
    text = client.get(f"/credentials/{endorsement.public_id}").get_data(as_text=True)
    assert "Revoked" in text and "status-revoked" in text and "Misconduct" not in text
    missing = client.get("/credentials/doesnotexist")
    assert missing.status_code == 404 and "Not found" in missing.get_data(as_text=True)


def test_the_signed_credential_by_address_or_by_content_negotiation(client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    by_suffix = client.get(f"/credentials/{endorsement.public_id}.json")
    assert by_suffix.status_code == 200
    assert by_suffix.get_data(as_text=True) == endorsement.credential
    negotiated = client.get(f"/credentials/{endorsement.public_id}",
                            headers={"Accept": "application/vc+ld+json"})
    assert negotiated.mimetype == "application/vc+ld+json"
    assert negotiated.get_data(as_text=True) == endorsement.credential
    assert "Accept" in negotiated.headers["Vary"]
    download = client.get(f"/credentials/{endorsement.public_id}.json?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.get("/credentials/nope.json").status_code == 404


def test_the_qr_code_and_the_certificate(client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    qr = client.get(f"/credentials/{endorsement.public_id}/qr.svg")
    assert qr.mimetype == "image/svg+xml" and qr.get_data(as_text=True).startswith("<svg")
    pdf = client.get(f"/credentials/{endorsement.public_id}/certificate.pdf")
    assert pdf.mimetype == "application/pdf"
    body = pdf.get_data()
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert body.count(b"/Type /Page\n") + body.count(b"/Type /Page>") + body.count(
        b"/Type /Page ") >= 1
    assert b"School-Led Tutor endorsement" in body
    assert client.get("/credentials/nope/qr.svg").status_code == 404


def test_the_tutor_can_download_share_and_add_to_linkedin(client, db_session, sign_in):
    endorsement = make_endorsement()
    db_session.commit()
    sign_in(endorsement.user, "tutor password 2026")
    page = client.get("/my/endorsements").get_data(as_text=True)
    url = services.credential_url(endorsement.public_id)
    assert f'value="{url}"' in page
    assert f"/credentials/{endorsement.public_id}.json?download=1" in page
    assert f"/credentials/{endorsement.public_id}/certificate.pdf?download=1" in page
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in page
    assert "No tutoring provider has checked it" in page


def test_the_central_team_suspends_from_the_endorsement_page(client, db_session, sign_in):
    endorsement = make_endorsement()
    central = make_member(Role.CENTRAL_TEAM, trust=endorsement.trust)
    db_session.commit()
    sign_in(central)
    page = f"/endorsements/{endorsement.id}"
    assert "Suspend the endorsement" in client.get(page).get_data(as_text=True)
    refused = client.post(f"{page}/suspend", data={"suspend-reason": ""})
    assert refused.status_code == 400 and "Give a reason" in refused.get_data(as_text=True)
    done = client.post(f"{page}/suspend", data={"suspend-reason": "Safeguarding concern"})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(Endorsement, endorsement.id).status == EndorsementStatus.SUSPENDED
    public = client.get(f"/credentials/{endorsement.public_id}").get_data(as_text=True)
    assert "Suspended" in public


@pytest.mark.parametrize("who", ["other_trust", "school_leader", "tutor"])
def test_only_the_issuing_trusts_central_team_may_change_an_endorsement(client, db_session,
                                                                        sign_in, who):
    endorsement = make_endorsement()
    person = {
        "other_trust": lambda: make_member(Role.CENTRAL_TEAM),
        "school_leader": lambda: make_member(Role.SCHOOL_LEADER, school=endorsement.school),
        "tutor": lambda: endorsement.user,
    }[who]()
    db_session.commit()
    sign_in(person, "tutor password 2026" if who == "tutor" else
            "correct horse battery staple")
    response = client.post(f"/endorsements/{endorsement.id}/revoke",
                           data={"revoke-reason": "No"})
    assert response.status_code == (404 if who == "other_trust" else 403)
    db_session.expire_all()
    assert db_session.get(Endorsement, endorsement.id).status == EndorsementStatus.ACTIVE
    assert db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "endorsement.revoked")) == 0
