"""Verifying an endorsement offline, as a school would with ``flask credentials verify``: the
credential, the issuer's DID document and the status list as files, and the same checks with
the DID document and the status list fetched from where the credential says they are."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credentials.endorsements import keys, services, status
from credentials.endorsements.json_input import MAX_BYTES
from credentials.endorsements.models import Endorsement, StatusList
from credentials.endorsements.multibase import encode_multikey_public
from credentials.endorsements.verify import NetworkResolver, did_web_url, verify_credential
from lms.platform import clock
from tests.factories import make_endorsement

TAMPERED = "NOT VALID: the credential has been altered or was not signed by this key"
SUSPENDED = "NOT VALID: it is suspended or revoked by its issuer: do not rely on it"


def _credential(endorsement: Endorsement) -> dict:
    return json.loads(endorsement.credential)


def _write(path: Path, document: dict | str | bytes) -> Path:
    if isinstance(document, dict):
        document = json.dumps(document, indent=2)
    if isinstance(document, str):
        document = document.encode()
    path.write_bytes(document)
    return path


def _status_list(client, endorsement: Endorsement) -> dict:
    """The status list as any verifier would download it."""
    response = client.get(f"/status/{endorsement.status_list.public_id}")
    assert response.status_code == 200
    return response.get_json()


def _verify(app, credential: Path, *, did_document: Path | None = None,
            status_lists: tuple[Path, ...] = ()):
    args = ["credentials", "verify", str(credential)]
    if did_document is not None:
        args += ["--did-document", str(did_document)]
    for path in status_lists:
        args += ["--status-list", str(path)]
    return app.test_cli_runner().invoke(args=args)


def _files(tmp_path: Path, client, endorsement: Endorsement,
           credential: dict | None = None) -> dict:
    """The three files a school keeps: credential, DID document and status list."""
    return {
        "credential": _write(tmp_path / "credential.json", credential or _credential(endorsement)),
        "did_document": _write(tmp_path / "did.json", keys.did_document()),
        "status_lists": (_write(tmp_path / "status.json", _status_list(client, endorsement)),),
    }


def _changed(app, tmp_path, client, db_session, change) -> str:
    """The verdict line for a credential changed after it was signed."""
    endorsement = make_endorsement(name="Grace Okoro")
    db_session.commit()
    credential = _credential(endorsement)
    change(credential)
    result = _verify(app, **_files(tmp_path, client, endorsement, credential))
    assert result.exit_code == 1, result.output
    return result.output.strip()


# --- the command --------------------------------------------------------------------------


def test_an_untouched_credential_is_valid_with_the_published_did_document(app, tmp_path,
                                                                           client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    published = app.test_cli_runner().invoke(args=["credentials", "did-document"])
    assert published.exit_code == 0, published.output
    files = _files(tmp_path, client, endorsement)
    _write(files["did_document"], published.output)
    result = _verify(app, **files)
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith("VALID: signed by School-Led Tutoring Programme, valid until ")
    assert line.endswith("not suspended or revoked") and "\n" not in line


def test_a_changed_name_is_tampering(app, tmp_path, client, db_session):
    def rename(credential: dict) -> None:
        credential["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"

    assert _changed(app, tmp_path, client, db_session, rename) == TAMPERED


def test_a_changed_identity_hash_is_tampering(app, tmp_path, client, db_session):
    def rehash(credential: dict) -> None:
        email = credential["credentialSubject"]["identifier"][1]
        email["identityHash"] = services.identity_hash("impostor@example.org", email["salt"])

    assert _changed(app, tmp_path, client, db_session, rehash) == TAMPERED


def test_a_later_valid_until_is_tampering(app, tmp_path, client, db_session):
    def extend(credential: dict) -> None:
        credential["validUntil"] = "2099-12-31T00:00:00Z"

    assert _changed(app, tmp_path, client, db_session, extend) == TAMPERED


def test_a_did_document_without_the_signing_key_is_refused(app, tmp_path, client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    other = encode_multikey_public(Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw))
    method = f"{keys.issuer_did()}#{other}"
    _write(files["did_document"], {
        **keys.did_document(),
        "verificationMethod": [{"id": method, "type": "Multikey",
                                "controller": keys.issuer_did(), "publicKeyMultibase": other}],
        "assertionMethod": [method],
    })
    result = _verify(app, **files)
    assert result.exit_code == 1
    signed_with = _credential(endorsement)["proof"][0]["verificationMethod"]
    assert result.output.strip() == (
        f"NOT VALID: the verification method {signed_with} is not known")


def test_a_context_the_platform_does_not_ship_is_refused(app, tmp_path, client, db_session):
    def add_context(credential: dict) -> None:
        credential["@context"].append("https://example.org/extra-context.json")

    assert _changed(app, tmp_path, client, db_session, add_context) == (
        "NOT VALID: the document uses a JSON-LD context this platform does not recognise: "
        "https://example.org/extra-context.json")


def test_a_property_no_context_defines_is_refused(app, tmp_path, client, db_session):
    def add_property(credential: dict) -> None:
        credential["credentialSubject"]["dbsChecked"] = True

    line = _changed(app, tmp_path, client, db_session, add_property)
    assert line.startswith("NOT VALID: the property 'dbsChecked' at ")
    assert "is not defined by the document's JSON-LD contexts" in line


def test_a_credential_past_its_valid_until_has_expired(app, tmp_path, client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    clock.travel_to(endorsement.valid_until - timedelta(minutes=1))
    assert _verify(app, **files).exit_code == 0
    clock.travel_to(endorsement.valid_until + timedelta(days=1))
    result = _verify(app, **files)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"NOT VALID: it expired on {endorsement.valid_until:%-d %B %Y}")


def test_a_suspended_endorsement_is_not_valid(app, tmp_path, client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    (tmp_path / "before").mkdir()
    before = _files(tmp_path / "before", client, endorsement)
    services.suspend_endorsement(endorsement, reason="Allegation under investigation",
                                 actor=None)
    db_session.commit()
    after = _files(tmp_path, client, endorsement)
    result = _verify(app, **after)
    assert result.exit_code == 1
    assert result.output.strip() == SUSPENDED
    assert _verify(app, **before).exit_code == 0, "the list saved earlier still says valid"


def test_a_revoked_endorsement_is_not_valid(app, tmp_path, client, db_session):
    """One status entry (purpose ``suspension``) carries both states, so offline a revoked
    endorsement reads as suspended or revoked; the API and the page say which."""
    endorsement = make_endorsement()
    services.revoke_endorsement(endorsement, reason="Barred from regulated activity",
                                actor=None)
    db_session.commit()
    result = _verify(app, **_files(tmp_path, client, endorsement))
    assert result.exit_code == 1
    assert result.output.strip() == SUSPENDED


def test_without_its_status_list_the_status_is_unknown(app, tmp_path, client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    result = _verify(app, files["credential"], did_document=files["did_document"])
    assert result.exit_code == 1
    url = _credential(endorsement)["credentialStatus"]["statusListCredential"]
    assert result.output.strip() == (
        f"NOT VALID: its status list could not be read ({url}), so its status is unknown")


def test_a_status_list_with_a_broken_signature_is_not_trusted(app, tmp_path, client,
                                                              db_session):
    endorsement = make_endorsement()
    services.suspend_endorsement(endorsement, reason="Allegation", actor=None)
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    cleared = json.loads(files["status_lists"][0].read_text())
    cleared["credentialSubject"]["encodedList"] = status.encoded_list(
        bytes(endorsement.status_list.size // 8))
    _write(files["status_lists"][0], cleared)
    result = _verify(app, **files)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "NOT VALID: its status list is not properly signed (the credential has been altered "
        "or was not signed by this key)")


def test_a_file_that_is_not_json_is_malformed(app, tmp_path, client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    _write(files["credential"], endorsement.credential[:-40])
    result = _verify(app, **files)
    assert result.exit_code == 1
    assert result.output.startswith("NOT VALID: the document is not valid JSON (")


def test_an_oversized_file_is_refused_before_it_is_read_as_json(app, tmp_path, client,
                                                                 db_session):
    endorsement = make_endorsement()
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    credential = _credential(endorsement)
    credential["description"] = "x" * (MAX_BYTES + 1)
    _write(files["credential"], credential)
    result = _verify(app, **files)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"NOT VALID: the document is larger than {MAX_BYTES // 1024} KiB")


def test_a_did_document_file_that_is_not_json_stops_the_command(app, tmp_path, client,
                                                                 db_session):
    endorsement = make_endorsement()
    db_session.commit()
    files = _files(tmp_path, client, endorsement)
    _write(files["did_document"], "{not json")
    result = _verify(app, **files)
    assert result.exit_code == 1
    assert "Error: cannot read a file given: the document is not valid JSON" in result.output


def test_a_credential_signed_before_a_key_rotation_verifies_after_it(app, tmp_path, client,
                                                                      db_session):
    endorsement = make_endorsement()
    db_session.commit()
    rotated = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    db_session.expire_all()
    files = _files(tmp_path, client, endorsement)
    published = json.loads(files["did_document"].read_text())
    assert len(published["verificationMethod"]) == 2
    listing = json.loads(files["status_lists"][0].read_text())
    assert listing["proof"][0]["verificationMethod"] != \
        _credential(endorsement)["proof"][0]["verificationMethod"], "the list is signed anew"
    result = _verify(app, **files)
    assert result.exit_code == 0, result.output


# --- fetching the DID document and the status list ----------------------------------------


class _Web:
    """A fake network: serves the platform's public documents through the test client."""

    def __init__(self, client, *, down: bool = False) -> None:
        self.client = client
        self.down = down
        self.asked: list[str] = []

    def __call__(self, url: str) -> dict:
        self.asked.append(url)
        if self.down:
            raise OSError("connection refused")
        response = self.client.get(urlsplit(url).path)
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code}")
        return response.get_json()


def test_the_did_document_is_fetched_from_its_did_web_address_and_the_list_by_url(
        client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    web = _Web(client)
    credential = _credential(endorsement)
    verdict = verify_credential(endorsement.credential,
                                NetworkResolver(fetch=web, allow_http=True), clock.now())
    assert verdict.valid, verdict.reason
    assert web.asked == [did_web_url(keys.issuer_did(), allow_http=True),
                         credential["credentialStatus"]["statusListCredential"]]
    assert web.asked[0] == "http://localhost/.well-known/did.json"


def test_did_web_is_fetched_over_https_unless_plain_http_is_allowed(app):
    assert did_web_url("did:web:tutors.example.org") == \
        "https://tutors.example.org/.well-known/did.json"
    assert did_web_url("did:web:localhost%3A5000", allow_http=True) == \
        "http://localhost:5000/.well-known/did.json"
    assert did_web_url("did:web:example.org:tutors") == "https://example.org/tutors/did.json"


def test_when_the_did_document_cannot_be_fetched_the_key_is_unknown(client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    verdict = verify_credential(endorsement.credential,
                                NetworkResolver(fetch=_Web(client, down=True)), clock.now())
    assert (verdict.valid, verdict.code) == (False, "unknown_key")
    assert verdict.reason.endswith("is not known")


def test_when_the_status_list_cannot_be_fetched_the_status_is_unavailable(client,
                                                                          db_session):
    endorsement = make_endorsement()
    db_session.commit()
    web = _Web(client, down=True)
    resolver = NetworkResolver(keys.did_document(), fetch=web, allow_http=True)
    verdict = verify_credential(endorsement.credential, resolver, clock.now())
    assert (verdict.valid, verdict.code) == (False, "status_unavailable")
    assert "could not be read" in verdict.reason and len(web.asked) == 1


def test_a_status_list_over_plain_http_is_not_fetched_unless_allowed(client, db_session):
    endorsement = make_endorsement()
    db_session.commit()
    web = _Web(client)
    verdict = verify_credential(endorsement.credential,
                                NetworkResolver(keys.did_document(), fetch=web), clock.now())
    assert verdict.code == "status_unavailable" and web.asked == []


def test_a_suspension_is_seen_in_the_fetched_status_list(client, db_session):
    endorsement = make_endorsement()
    services.suspend_endorsement(endorsement, reason="Allegation", actor=None)
    db_session.commit()
    verdict = verify_credential(endorsement.credential,
                                NetworkResolver(fetch=_Web(client), allow_http=True),
                                clock.now())
    assert (verdict.valid, verdict.code) == (False, "suspended")


def test_a_fetched_document_that_is_not_a_json_object_is_unavailable(db_session):
    endorsement = make_endorsement()
    db_session.commit()
    verdict = verify_credential(endorsement.credential,
                                NetworkResolver(fetch=lambda url: ["not", "an", "object"],
                                                allow_http=True), clock.now())
    assert verdict.code == "unknown_key"
    verdict = verify_credential(endorsement.credential,
                                NetworkResolver(keys.did_document(), allow_http=True,
                                                fetch=lambda url: ["not", "an", "object"]),
                                clock.now())
    assert verdict.code == "status_unavailable"


def test_another_list_served_in_place_of_the_credentials_list_is_refused(client, db_session):
    """A genuine list of the same issuer, but not the one named: its bits say nothing about
    this credential."""
    endorsement = make_endorsement()
    services.suspend_endorsement(endorsement, reason="Allegation", actor=None)
    another = StatusList(public_id="another", purpose=status.PURPOSE,
                         size=endorsement.status_list.size,
                         bits=bytes(endorsement.status_list.size // 8))
    db_session.add(another)
    db_session.flush()
    status.publish(another)
    db_session.commit()
    named = _credential(endorsement)["credentialStatus"]["statusListCredential"]
    web = _Web(client)
    resolver = NetworkResolver(keys.did_document(), allow_http=True,
                               fetch=lambda url: web(status.list_url(another)))
    verdict = verify_credential(endorsement.credential, resolver, clock.now())
    assert (verdict.valid, verdict.code) == (False, "status_unavailable")
    assert verdict.reason == f"its status list is not the one at {named}"
