"""Data Integrity proofs (eddsa-rdfc-2022): published test vectors, a signed Open Badges 3.0
credential, tampering, and the limits and JSON-LD checks that keep hostile input harmless."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from credentials.endorsements import jsonld, multibase, proofs
from credentials.endorsements.json_input import (
    CredentialFormatError,
    LimitExceeded,
    check_limits,
    parse,
)
from credentials.endorsements.jsonld import (
    CONTEXTS,
    StaticLoader,
    UndefinedTerm,
    UnknownContext,
    canonize,
    document_loader,
    loader_with,
)
from credentials.endorsements.proofs import ProofCheck, hash_data, sign, verify

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
W3C = VECTORS / "eddsa-rdfc-2022"
OB_EXAMPLE = VECTORS / "ob-v3p0-example"
EXAMPLES_CONTEXT_URL = "https://www.w3.org/ns/credentials/examples/v2"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_3_0_3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

OB_PRIVATE_KEY_HEX = ("6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
                      "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
OB_PUBLIC_KEY_HEX = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
OB_PUBLIC_KEY_MULTIBASE = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
OB_DOCUMENT_HASH = "d994aebd5e53f4af4495dbe9e1155410bae683811107c26acf83671075c163b3"
OB_PROOF_HASH = "3cf3c265b6c8ebb29b4d5ea310b87d2f31c79b633eff8af561d2e8c97a85c8cb"
OB_SIGNATURE_HEX = ("17a898a91832fa58bd66433e18dc8256522bcf84382994c395c23c26cba71ff8"
                    "060a2587390e5ed20c4decec45c0c0c9eec1f7d2d1ce91e1ffc992983a74a300")
OB_PROOF_VALUE = ("zUSD5bjo6mYV1n9i9E6ZwUiHuj4JyZDjCDfDqoJcPi9XJrc9LYstik9mdBvutdwBdquWXjWrwJDVG"
                  "JrAarvRs8uD")

Resolver = Callable[[str], Ed25519PublicKey | None]
Doc = dict[str, Any]

ISSUER_DID = "did:web:tutors.example.org"
CREATED = "2025-09-01T09:30:00Z"


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _w3c_loader() -> StaticLoader:
    return loader_with({EXAMPLES_CONTEXT_URL: _read_json(W3C / "examples-v2-context.json")})


def _resolver(known: dict[str, Ed25519PublicKey]) -> Resolver:
    return known.get


def _sample_credential() -> Doc:
    """An Open Badges 3.0 endorsement shaped like the ones the platform issues."""
    email_hash = hashlib.sha256(b"tutor@example.org" + b"c2FsdC1mb3ItdGVzdHM").hexdigest()
    status_list = "https://tutors.example.org/credentials/status/{}"
    return {
        "@context": [VC_V2, OB_3_0_3],
        "id": "urn:uuid:0f6bb6c2-5a4e-4a39-8d0e-2b0c6f4e1a77",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": ISSUER_DID,
            "type": ["Profile"],
            "name": "Example Tutor Academy",
            "url": "https://tutors.example.org",
        },
        "validFrom": "2025-09-01T00:00:00Z",
        "validUntil": "2028-08-31T23:59:59Z",
        "name": "Approved School-Led Tutor",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "hashed": True,
                "identityType": "emailAddress",
                "identityHash": f"sha256${email_hash}",
                "salt": "c2FsdC1mb3ItdGVzdHM",
            }],
            "achievement": {
                "id": "https://tutors.example.org/achievements/approved-tutor",
                "type": ["Achievement"],
                "name": "Approved School-Led Tutor",
                "description": "Completed the tutor training and passed its assessment.",
                "criteria": {"narrative": "Complete every module and pass the final paper."},
            },
        },
        "evidence": [{
            "type": ["Evidence"],
            "name": "Final assessment",
            "description": "Passed the final paper with 84%.",
        }],
        "credentialStatus": [
            {
                "id": status_list.format("revocation/1#4711"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "4711",
                "statusListCredential": status_list.format("revocation/1"),
            },
            {
                "id": status_list.format("suspension/1#4711"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "suspension",
                "statusListIndex": "4711",
                "statusListCredential": status_list.format("suspension/1"),
            },
        ],
    }


@pytest.fixture(scope="module")
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def verification_method(issuer_key: Ed25519PrivateKey) -> str:
    return f"{ISSUER_DID}#{multibase.multikey_from_public_key(issuer_key.public_key())}"


@pytest.fixture(scope="module")
def signed_sample(issuer_key: Ed25519PrivateKey, verification_method: str) -> Doc:
    return sign(_sample_credential(), private_key=issuer_key,
                verification_method=verification_method, created=CREATED)


@pytest.fixture()
def signed(signed_sample: Doc) -> Doc:
    """A copy each test may tamper with."""
    return copy.deepcopy(signed_sample)


@pytest.fixture(scope="module")
def resolve(issuer_key: Ed25519PrivateKey,
            verification_method: str) -> Resolver:
    return _resolver({verification_method: issuer_key.public_key()})


# W3C Data Integrity EdDSA Cryptosuites v1.0 test vector


def _w3c_unsigned_and_proof() -> tuple[Doc, Doc]:
    signed_doc = _read_json(W3C / "signedDataInt.json")
    proof = signed_doc.pop("proof")
    return signed_doc, proof


def _w3c_private_key() -> Ed25519PrivateKey:
    return multibase.private_key_from_multikey(
        _read_json(W3C / "keyPair.json")["privateKeyMultibase"])


def test_signing_the_w3c_vector_reproduces_its_proof_value_byte_for_byte() -> None:
    unsigned, proof = _w3c_unsigned_and_proof()
    result = sign(unsigned, private_key=_w3c_private_key(),
                  verification_method=proof["verificationMethod"], created=proof["created"],
                  proof_purpose=proof["proofPurpose"], loader=_w3c_loader())
    assert result["proof"]["proofValue"] == proof["proofValue"]
    assert multibase.decode_z(result["proof"]["proofValue"]) == \
        multibase.decode_z(proof["proofValue"])


def test_signing_the_w3c_vector_reproduces_the_whole_signed_document_in_key_order() -> None:
    unsigned, proof = _w3c_unsigned_and_proof()
    expected = _read_json(W3C / "signedDataInt.json")
    result = sign(unsigned, private_key=_w3c_private_key(),
                  verification_method=proof["verificationMethod"], created=proof["created"],
                  loader=_w3c_loader())
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)


def test_signing_returns_a_new_document_and_leaves_the_input_untouched() -> None:
    unsigned, proof = _w3c_unsigned_and_proof()
    before = copy.deepcopy(unsigned)
    result = sign(unsigned, private_key=_w3c_private_key(),
                  verification_method=proof["verificationMethod"], created=proof["created"],
                  loader=_w3c_loader())
    assert unsigned == before
    assert result is not unsigned and "proof" not in unsigned


def test_the_w3c_vector_verifies_with_the_public_key_of_its_key_pair() -> None:
    signed_doc = _read_json(W3C / "signedDataInt.json")
    public = multibase.public_key_from_multikey(_read_json(W3C / "keyPair.json")
                                                ["publicKeyMultibase"])
    method = signed_doc["proof"]["verificationMethod"]
    check = verify(signed_doc, _resolver({method: public}), loader=_w3c_loader())
    assert check == ProofCheck(True, proofs.VALID, method)


def test_the_w3c_key_pair_private_key_derives_its_published_public_key() -> None:
    pair = _read_json(W3C / "keyPair.json")
    seed = multibase.decode_multikey_private(pair["privateKeyMultibase"])
    assert len(seed) == 32
    assert multibase.encode_multikey_private(seed) == pair["privateKeyMultibase"]
    derived = multibase.multikey_from_public_key(_w3c_private_key().public_key())
    assert derived == pair["publicKeyMultibase"]


def test_the_w3c_vector_is_refused_by_the_production_loader_even_after_the_test_loader_ran(
        ) -> None:
    signed_doc = _read_json(W3C / "signedDataInt.json")
    method = signed_doc["proof"]["verificationMethod"]
    public = _w3c_private_key().public_key()
    assert verify(signed_doc, _resolver({method: public}), loader=_w3c_loader()).valid
    check = verify(signed_doc, _resolver({method: public}))
    assert not check.valid
    assert check.reason == UnknownContext(EXAMPLES_CONTEXT_URL).reason


def test_canonize_gives_what_pyld_normalize_gives_with_urdna2015() -> None:
    loader = _w3c_loader()
    for document in (_w3c_unsigned_and_proof()[0], _sample_credential()):
        expected = pyld_jsonld.normalize(copy.deepcopy(document), {
            "algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader})
        assert canonize(document, loader) == expected


# 1EdTech Open Badges 3.0 linked-data-proof example (published canonical forms)


def _ob_canonical_forms() -> tuple[str, str]:
    return ((OB_EXAMPLE / "proof-canon.nq").read_text(encoding="utf-8"),
            (OB_EXAMPLE / "document-canon.nq").read_text(encoding="utf-8"))


def test_the_ob_example_hash_data_matches_the_published_hashes() -> None:
    data = hash_data(*_ob_canonical_forms())
    assert data.hex() == OB_PROOF_HASH + OB_DOCUMENT_HASH


def test_the_ob_example_key_signs_to_the_published_signature_and_proof_value() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OB_PRIVATE_KEY_HEX)[:32])
    signature = key.sign(hash_data(*_ob_canonical_forms()))
    assert signature.hex() == OB_SIGNATURE_HEX
    assert multibase.encode_z(signature) == OB_PROOF_VALUE
    key.public_key().verify(multibase.decode_z(OB_PROOF_VALUE), hash_data(*_ob_canonical_forms()))


def test_the_ob_example_public_key_encodes_to_its_published_multikey() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(OB_PRIVATE_KEY_HEX)[:32])
    raw = key.public_key().public_bytes_raw()
    assert raw.hex() == OB_PUBLIC_KEY_HEX
    assert multibase.encode_multikey_public(raw) == OB_PUBLIC_KEY_MULTIBASE
    assert multibase.decode_multikey_public(OB_PUBLIC_KEY_MULTIBASE) == raw


def test_the_signed_ob_example_is_refused_because_its_contexts_are_not_shipped() -> None:
    signed_doc = _read_json(OB_EXAMPLE / "signed-credential.json")
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(OB_PUBLIC_KEY_HEX))
    method = signed_doc["proof"]["verificationMethod"]
    check = verify(signed_doc, _resolver({method: public}))
    assert check == ProofCheck(False, UnknownContext("https://www.w3.org/2018/credentials/v1")
                               .reason, method)


# A freshly signed Open Badges 3.0 credential


def test_every_part_of_the_sample_credential_reaches_the_canonical_form() -> None:
    nquads = canonize(_sample_credential())
    vocab = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
    status = "https://www.w3.org/ns/credentials/status#"
    for iri in (f"{vocab}Profile", "https://schema.org/url", f"{vocab}AchievementSubject",
                f"{vocab}identifier", f"{vocab}IdentityObject", f"{vocab}hashed",
                f"{vocab}identityType", f"{vocab}identityHash", f"{vocab}salt",
                f"{vocab}achievement", f"{vocab}Criteria", f"{vocab}narrative", f"{vocab}Evidence",
                "https://www.w3.org/2018/credentials#evidence",
                "https://www.w3.org/2018/credentials#validFrom",
                "https://www.w3.org/2018/credentials#validUntil",
                "https://www.w3.org/2018/credentials#credentialStatus",
                f"{status}BitstringStatusListEntry", f"{status}statusPurpose",
                f"{status}statusListIndex", f"{status}statusListCredential"):
        assert f"<{iri}>" in nquads, iri
    assert nquads.count(f"<{status}statusListIndex> \"4711\"") == 2


def test_a_freshly_signed_credential_verifies(
        signed: Doc, resolve: Resolver, verification_method: str) -> None:
    assert list(signed["proof"]) == ["type", "cryptosuite", "created", "verificationMethod",
                                     "proofPurpose", "proofValue"]
    assert verify(signed, resolve) == ProofCheck(True, proofs.VALID, verification_method)


def test_a_credential_survives_a_round_trip_through_json_text(
        signed: Doc, resolve: Resolver) -> None:
    assert verify(parse(json.dumps(signed, indent=2).encode()), resolve).valid


def _mismatch(document: Doc,
              resolve: Resolver) -> None:
    check = verify(document, resolve)
    assert not check.valid
    assert check.reason == proofs.SIGNATURE_MISMATCH


def test_a_tampered_name_fails_verification(signed: Doc, resolve: Resolver) -> None:
    signed["name"] = "Approved School-Led Tutor (Distinction)"
    _mismatch(signed, resolve)


def test_a_tampered_identity_hash_fails_verification(signed: Doc, resolve: Resolver) -> None:
    signed["credentialSubject"]["identifier"][0]["identityHash"] = "sha256$" + "0" * 64
    _mismatch(signed, resolve)


def test_an_extended_valid_until_fails_verification(signed: Doc, resolve: Resolver) -> None:
    signed["validUntil"] = "2099-12-31T23:59:59Z"
    _mismatch(signed, resolve)


def test_a_changed_status_list_index_fails_verification(signed: Doc, resolve: Resolver) -> None:
    signed["credentialStatus"][0]["statusListIndex"] = "4712"
    _mismatch(signed, resolve)


def test_a_changed_proof_date_fails_verification(signed: Doc, resolve: Resolver) -> None:
    signed["proof"]["created"] = "2025-09-02T09:30:00Z"
    _mismatch(signed, resolve)


def test_a_different_key_fails_verification(signed: Doc, verification_method: str) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    _mismatch(signed, _resolver({verification_method: other}))


def test_a_flipped_signature_byte_fails_verification(signed: Doc, resolve: Resolver) -> None:
    signature = bytearray(multibase.decode_z(signed["proof"]["proofValue"]))
    signature[10] ^= 0x01
    signed["proof"]["proofValue"] = multibase.encode_z(bytes(signature))
    _mismatch(signed, resolve)


def test_a_credential_without_a_proof_is_not_valid(signed: Doc, resolve: Resolver) -> None:
    del signed["proof"]
    assert verify(signed, resolve) == ProofCheck(False, proofs.NO_PROOF, None)


def test_more_than_one_proof_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["proof"] = [signed["proof"], copy.deepcopy(signed["proof"])]
    assert verify(signed, resolve).reason == proofs.SEVERAL_PROOFS


def test_a_proof_that_is_not_an_object_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["proof"] = "signed, honestly"
    assert verify(signed, resolve).reason == proofs.PROOF_NOT_OBJECT


def test_a_proof_of_another_type_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["proof"]["type"] = "Ed25519Signature2020"
    assert verify(signed, resolve).reason == \
        "the proof type is 'Ed25519Signature2020', not 'DataIntegrityProof'"


def test_a_proof_with_another_cryptosuite_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["proof"]["cryptosuite"] = "eddsa-jcs-2022"
    assert verify(signed, resolve).reason == \
        "the proof uses the cryptosuite 'eddsa-jcs-2022', not 'eddsa-rdfc-2022'"


def test_a_proof_for_another_purpose_is_refused(signed: Doc, resolve: Resolver) -> None:
    check = verify(signed, resolve, expected_purpose="authentication")
    assert check.reason == "the proof purpose is 'assertionMethod', not 'authentication'"


@pytest.mark.parametrize(("proof_value", "reason"), [
    (None, proofs.NO_PROOF_VALUE),
    ("", proofs.NO_PROOF_VALUE),
    (42, proofs.NO_PROOF_VALUE),
    ("uF9hZ2FyYmxlZA", proofs.PROOF_VALUE_NOT_MULTIBASE),
    ("z0OIl", proofs.PROOF_VALUE_NOT_MULTIBASE),
    ("z3yZe7d", proofs.PROOF_VALUE_WRONG_LENGTH),
], ids=["missing", "empty", "number", "base64url", "not-base58", "too-short"])
def test_a_missing_or_garbled_proof_value_is_refused(
        signed: Doc, resolve: Resolver, proof_value: Any, reason: str) -> None:
    if proof_value is None:
        del signed["proof"]["proofValue"]
    else:
        signed["proof"]["proofValue"] = proof_value
    assert verify(signed, resolve).reason == reason


def test_a_proof_without_a_verification_method_is_refused(signed: Doc, resolve: Resolver) -> None:
    del signed["proof"]["verificationMethod"]
    assert verify(signed, resolve).reason == proofs.NO_VERIFICATION_METHOD


def test_an_unknown_verification_method_is_refused(signed: Doc, verification_method: str) -> None:
    check = verify(signed, _resolver({}))
    assert check == ProofCheck(
        False, f"the verification method {verification_method} is not known",
        verification_method)


def test_a_proof_with_an_invalid_created_date_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["proof"]["created"] = "2025-02-30T09:30:00Z"
    assert verify(signed, resolve).reason == proofs.BAD_CREATED


def test_a_proof_context_that_does_not_prefix_the_credential_context_is_refused(
        signed: Doc, resolve: Resolver) -> None:
    signed["proof"]["@context"] = [OB_3_0_3]
    assert verify(signed, resolve).reason == proofs.CONTEXT_MISMATCH


def test_a_proof_context_equal_to_the_credential_context_still_verifies(
        issuer_key: Ed25519PrivateKey, verification_method: str, resolve: Resolver) -> None:
    signed = sign(_sample_credential(), private_key=issuer_key,
                  verification_method=verification_method, created=CREATED)
    signed["proof"]["@context"] = [VC_V2, OB_3_0_3]
    assert verify(signed, resolve).valid


def test_an_added_unknown_context_is_refused_by_name(signed: Doc, resolve: Resolver) -> None:
    signed["@context"].append("https://evil.example/context.json")
    check = verify(signed, resolve)
    assert check.reason == ("the document uses a JSON-LD context this platform does not "
                            "recognise: https://evil.example/context.json")


def test_an_embedded_context_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["@context"].append({"nickname": "https://schema.org/alternateName"})
    assert verify(signed, resolve).reason == ('the @context at $["@context"] must list context '
                                              'URLs; embedded or empty contexts are not accepted')


def test_an_undefined_top_level_property_is_refused_by_name_and_path(
        signed: Doc, resolve: Resolver) -> None:
    signed["nmae"] = "Master Tutor"
    assert verify(signed, resolve).reason == (
        "the property 'nmae' at $.nmae is not defined by the document's JSON-LD contexts, "
        "so a signature would not cover it")


def test_an_undefined_nested_property_is_refused_by_name_and_path(
        signed: Doc, resolve: Resolver) -> None:
    signed["credentialSubject"]["achievement"]["level"] = "distinction"
    check = verify(signed, resolve)
    assert "'level' at $.credentialSubject.achievement.level is not defined" in check.reason


def test_an_undefined_property_in_the_proof_is_refused_by_name_and_path(
        signed: Doc, resolve: Resolver) -> None:
    signed["proof"]["signedBy"] = "the registrar"
    assert "'signedBy' at $.proof.signedBy is not defined" in verify(signed, resolve).reason


def test_an_undefined_type_is_refused_by_name_and_path(signed: Doc, resolve: Resolver) -> None:
    signed["credentialSubject"]["type"].append("MasterTutor")
    assert verify(signed, resolve).reason == ("the type 'MasterTutor' at $.credentialSubject.type "
                                              "is not defined by the document's JSON-LD contexts")


def test_a_relative_identifier_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["credentialStatus"][1]["statusListCredential"] = "status/suspension/1"
    assert verify(signed, resolve).reason == (
        "the identifier 'status/suspension/1' at $.credentialStatus[1].statusListCredential is "
        "not an absolute IRI, so a signature would not cover what it identifies")


def _put(document: Doc, path: tuple[str, ...], key: str, value: Any) -> None:
    for step in path:
        document = document[step]
    document[key] = value


@pytest.mark.parametrize(("path", "key", "value", "reason"), [
    (("credentialSubject",), "@vocab", "https://evil.example/",
     'the keyword \'@vocab\' at $.credentialSubject["@vocab"] is not accepted in a credential'),
    (("credentialSubject", "achievement"), "@index", "x",
     "the keyword '@index' at $.credentialSubject.achievement[\"@index\"] is not accepted"),
    (("credentialSubject", "achievement"), "image", None,
     "the value at $.credentialSubject.achievement.image is null or an empty list"),
    ((), "evidence", [],
     "the value at $.evidence is null or an empty list"),
    (("issuer",), "@language", "en",
     '@language at $.issuer["@language"] is not attached to a @value'),
    ((), "_:note", "x",
     'the property at $["_:note"] is a blank node'),
    (("credentialSubject",), "id", "tutor-42",
     "the identifier 'tutor-42' at $.credentialSubject.id is not an absolute IRI"),
], ids=["structural-keyword", "index", "null", "empty-array", "language-without-value",
        "blank-node-property", "relative-id"])
def test_json_that_json_ld_would_silently_drop_is_refused_with_its_path(
        signed: Doc, resolve: Resolver, path: tuple[str, ...], key: str, value: Any,
        reason: str) -> None:
    _put(signed, path, key, value)
    assert verify(signed, resolve).reason.startswith(reason)


def test_an_empty_ordered_list_is_data_and_is_accepted() -> None:
    document = _sample_credential()
    document["credentialSubject"]["achievement"]["resultDescription"] = [{
        "id": "https://tutors.example.org/achievements/approved-tutor/result",
        "type": ["ResultDescription"], "name": "Grade", "resultType": "LetterGrade",
        "allowedValue": []}]
    assert "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>" in canonize(document)


def test_input_that_pyld_rejects_becomes_an_invalid_result(signed: Doc, resolve: Resolver) -> None:
    signed["issuer"]["id"] = 42
    check = verify(signed, resolve)
    assert not check.valid
    assert check.reason.startswith("the document is not valid JSON-LD: ")


def test_an_oversized_credential_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["evidence"] = [{"type": ["Evidence"], "description": "x" * 8000} for _ in range(9)]
    assert verify(signed, resolve).reason == "the document is larger than 64 KiB"


def test_a_too_deeply_nested_credential_is_refused(signed: Doc, resolve: Resolver) -> None:
    nested: Doc = {"narrative": "deep"}
    for _ in range(10):
        nested = {"criteria": nested}
    signed["credentialSubject"]["achievement"]["criteria"] = nested
    assert verify(signed, resolve).reason == "the document is nested more than 12 levels deep"


def test_a_credential_with_too_many_values_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["type"] = ["VerifiableCredential"] * 2001
    assert verify(signed, resolve).reason == "the document has more than 2000 values"


def test_an_overlong_text_value_is_refused(signed: Doc, resolve: Resolver) -> None:
    signed["name"] = "é" * 4097
    assert verify(signed, resolve).reason == "the document has a text value longer than 8 KiB"


def test_many_look_alike_unnamed_objects_are_refused_quickly(resolve: Resolver) -> None:
    subject = {"type": ["AchievementSubject"], "result": [{} for _ in range(9)]}
    document = {"@context": [VC_V2, OB_3_0_3], "type": ["VerifiableCredential"],
                "credentialSubject": [subject, copy.deepcopy(subject)]}
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="look-alike unnamed objects"):
        canonize(document)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("document", [None, [], "credential", 42],
                         ids=["null", "array", "text", "number"])
def test_verify_reports_a_non_object_instead_of_raising(document: Any, resolve: Resolver) -> None:
    assert verify(document, resolve) == ProofCheck(False, "the credential is not a JSON object")


def test_signing_refuses_a_document_with_an_undefined_property(
        issuer_key: Ed25519PrivateKey, verification_method: str) -> None:
    document = _sample_credential()
    document["credentialSubject"]["nmae"] = "A. Tutor"
    with pytest.raises(UndefinedTerm) as refused:
        sign(document, private_key=issuer_key, verification_method=verification_method,
             created=CREATED)
    assert (refused.value.key, refused.value.path) == ("nmae", "$.credentialSubject.nmae")


def test_signing_refuses_a_document_that_already_has_a_proof(
        issuer_key: Ed25519PrivateKey, verification_method: str, signed_sample: Doc) -> None:
    with pytest.raises(CredentialFormatError, match="already has a proof"):
        sign(signed_sample, private_key=issuer_key, verification_method=verification_method,
             created=CREATED)


@pytest.mark.parametrize("created", ["2025-09-01", "2025-09-01T09:30:00", "yesterday"])
def test_signing_refuses_a_created_date_without_time_and_zone(
        issuer_key: Ed25519PrivateKey, verification_method: str, created: str) -> None:
    with pytest.raises(ValueError, match="created"):
        sign(_sample_credential(), private_key=issuer_key,
             verification_method=verification_method, created=created)


# Parsing and limits


def test_parse_refuses_duplicate_keys() -> None:
    with pytest.raises(CredentialFormatError, match="the key 'name' twice"):
        parse('{"@context": [], "name": "Tutor", "name": "Master Tutor"}')


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}',
                                  '{"a": 1e400}'])
def test_parse_refuses_numbers_json_cannot_hold(text: str) -> None:
    with pytest.raises(CredentialFormatError):
        parse(text)


@pytest.mark.parametrize("text", ["[]", '"text"', "42", "null"])
def test_parse_refuses_anything_but_an_object_at_the_top(text: str) -> None:
    with pytest.raises(CredentialFormatError, match="not a JSON object"):
        parse(text)


def test_parse_refuses_oversized_text_before_parsing_it() -> None:
    text = '{"a": "' + "x" * (64 * 1024) + '"}'
    with pytest.raises(LimitExceeded) as refused:
        parse(text.encode())
    assert refused.value.limit == "size"


def test_parse_refuses_deep_nesting_even_beyond_the_parser_recursion_limit() -> None:
    with pytest.raises(LimitExceeded) as refused:
        parse("[" * 30000 + "]" * 30000)
    assert refused.value.limit == "depth"
    with pytest.raises(LimitExceeded, match="12 levels"):
        parse('{"a":' * 13 + "1" + "}" * 13)


def test_parse_accepts_nesting_up_to_the_limit() -> None:
    assert parse('{"a":' * 11 + "{}" + "}" * 11)


@pytest.mark.parametrize("text", [b"\xff{}", '{"a": "\\ud800"}', "{'a': 1}", '{"a": 1,}'],
                         ids=["not-utf8", "lone-surrogate", "single-quotes", "trailing-comma"])
def test_parse_refuses_malformed_text(text: str | bytes) -> None:
    with pytest.raises(CredentialFormatError):
        parse(text)


def test_check_limits_refuses_values_that_are_not_json() -> None:
    for value in ({"a": {1, 2}}, {"a": (1, 2)}, {1: "a"}, {"a": float("nan")}):
        with pytest.raises(CredentialFormatError):
            check_limits(value)


def test_check_limits_names_the_limit_that_was_exceeded() -> None:
    cases = {"size": b"x" * (64 * 1024 + 1), "values": {"a": list(range(2000))},
             "string": {"a": "x" * (8 * 1024 + 1)}, "depth": {"a": [[[[[[[[[[[[]]]]]]]]]]]]}}
    for limit, value in cases.items():
        with pytest.raises(LimitExceeded) as refused:
            check_limits(value)
        assert refused.value.limit == limit


# Contexts and the document loader


def test_the_shipped_contexts_are_loaded_by_url() -> None:
    assert set(CONTEXTS) == {VC_V2, OB_3_0_3, "https://www.w3.org/ns/did/v1"}
    assert all("@context" in document for document in CONTEXTS.values())


def test_the_loader_returns_a_copy_so_callers_cannot_change_the_shipped_contexts() -> None:
    loaded = document_loader(VC_V2)
    assert loaded == {"contextUrl": None, "documentUrl": VC_V2, "document": CONTEXTS[VC_V2]}
    loaded["document"]["@context"]["name"] = "https://evil.example/name"
    assert CONTEXTS[VC_V2]["@context"]["name"] == "https://schema.org/name"


@pytest.mark.parametrize("url", [
    "http://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/v2#",
    "https://www.w3.org/ns/credentials/v2?x=1", "https://www.w3.org/ns/credentials/v2/",
    "https://www.w3.org/2018/credentials/v1", EXAMPLES_CONTEXT_URL,
])
def test_the_loader_accepts_only_the_exact_shipped_urls(url: str) -> None:
    with pytest.raises(UnknownContext) as refused:
        document_loader(url, {})
    assert refused.value.url == url
    assert url in refused.value.reason


def test_an_extended_loader_knows_the_extra_context_and_the_shipped_ones() -> None:
    loader = _w3c_loader()
    assert loader(EXAMPLES_CONTEXT_URL)["document"] == _read_json(W3C /
                                                                  "examples-v2-context.json")
    assert loader(OB_3_0_3)["document"] == CONTEXTS[OB_3_0_3]
    with pytest.raises(UnknownContext):
        document_loader(EXAMPLES_CONTEXT_URL)


# Multibase and Multikey


@pytest.mark.parametrize(("raw", "encoded"), [
    (b"", ""), (b"\0", "1"), (b"\0\0\x01", "112"), (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (bytes.fromhex("00eb15231dfceb60925886b67d065299925915aeb172c06647"),
     "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
])
def test_base58btc_matches_known_encodings(raw: bytes, encoded: str) -> None:
    assert multibase.b58encode(raw) == encoded
    assert multibase.b58decode(encoded) == raw


def test_base58btc_refuses_characters_outside_its_alphabet() -> None:
    for text in ("0", "O", "I", "l", "+"):
        with pytest.raises(multibase.MultibaseError):
            multibase.b58decode(text)


def test_multibase_base64url_round_trips_a_gzipped_status_list() -> None:
    bits = gzip.compress(bytes(16 * 1024), mtime=0)
    encoded = multibase.encode_u(bits)
    assert encoded.startswith("u") and "=" not in encoded
    assert "+" not in encoded and "/" not in encoded
    assert gzip.decompress(multibase.decode_u(encoded)) == bytes(16 * 1024)


@pytest.mark.parametrize("text", ["zabc", "uab=", "uab+c", "ua", "u a"])
def test_multibase_base64url_refuses_other_encodings(text: str) -> None:
    with pytest.raises(multibase.MultibaseError):
        multibase.decode_u(text)


def test_multikey_decoding_refuses_the_wrong_kind_of_key() -> None:
    pair = _read_json(W3C / "keyPair.json")
    with pytest.raises(multibase.MultibaseError):
        multibase.decode_multikey_public(pair["privateKeyMultibase"])
    with pytest.raises(multibase.MultibaseError):
        multibase.decode_multikey_private(pair["publicKeyMultibase"])
    with pytest.raises(multibase.MultibaseError):
        multibase.decode_multikey_public(pair["publicKeyMultibase"][:-1])


# Contexts processed once and reused: the same output and the same refusals, in any order


STATUS_LIST_URL = "https://tutors.example.org/credentials/status/suspension/1"


def _reference_loader(extra: dict[str, Doc] | None = None) -> Callable[..., Doc]:
    """A plain function over private copies: canonize and pyld can keep nothing across calls
    with it, so it gives the uncached answer."""
    known = copy.deepcopy({**CONTEXTS, **(extra or {})})

    def load(url: str, options: dict[str, Any] | None = None) -> Doc:
        if url not in known:
            raise UnknownContext(url)
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(known[url])}

    return load


def _w3c_extra() -> dict[str, Doc]:
    return {EXAMPLES_CONTEXT_URL: _read_json(W3C / "examples-v2-context.json")}


def _pyld_normalize(document: Doc) -> str:
    """pyld's own URDNA2015 N-Quads, with a context resolver of its own for this call only."""
    loader = _reference_loader(_w3c_extra())
    return pyld_jsonld.normalize(copy.deepcopy(document), {
        "algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader,
        "contextResolver": ContextResolver({}, loader)})


def _uncached_refusal(document: Doc) -> tuple[type, str]:
    with pytest.raises(CredentialFormatError) as refused:
        canonize(document, _reference_loader(_w3c_extra()))
    return type(refused.value), refused.value.reason


def _status_list_credential() -> Doc:
    """Shaped like the list ``credentials.status.publish`` signs."""
    return {
        "@context": [VC_V2],
        "id": STATUS_LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER_DID,
        "validFrom": "2025-09-01T09:30:00Z",
        "credentialSubject": {
            "id": f"{STATUS_LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "suspension",
            "encodedList": multibase.encode_u(gzip.compress(bytes(16 * 1024), mtime=0)),
            "ttl": 300000,
        },
    }


def _issued_credential(number: int) -> Doc:
    """Shaped like ``credentials.services.build_credential``, different for every number."""
    document = _sample_credential()
    document["id"] = f"https://tutors.example.org/credentials/c{number}"
    document["name"] = f"Approved School-Led Tutor {number}: endorsement"
    subject = document["credentialSubject"]
    subject["identifier"].insert(0, {"type": "IdentityObject", "identityType": "name",
                                     "hashed": False, "identityHash": f"Tutor {number}"})
    subject["achievement"].update({"achievementType": "Certificate",
                                   "humanCode": f"SLT-{number}",
                                   "specialization": "Primary tutoring",
                                   "tag": ["School-Led Tutoring", f"Tag {number}"]})
    document["evidence"][0].update({"narrative": f"Passed on day {number}.",
                                    "genre": "Assessment"})
    document["credentialStatus"] = {
        "id": f"{STATUS_LIST_URL}#{number}", "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension", "statusListIndex": str(number),
        "statusListCredential": STATUS_LIST_URL}
    return document


def _with_optional_fields() -> Doc:
    document = _issued_credential(7)
    document["description"] = "An endorsement with every optional part we might add."
    achievement = document["credentialSubject"]["achievement"]
    achievement["image"] = {"id": "https://tutors.example.org/badge.png", "type": "Image",
                            "caption": "Badge"}
    achievement["alignment"] = [{"type": ["Alignment"], "targetName": "Tutoring standard",
                                 "targetUrl": "https://tutors.example.org/standard"}]
    achievement["resultDescription"] = [{
        "id": "https://tutors.example.org/results/grade", "type": ["ResultDescription"],
        "name": "Grade", "resultType": "LetterGrade", "allowedValue": ["A", "B", "C"]}]
    document["credentialSubject"]["result"] = [{
        "type": ["Result"], "resultDescription": "https://tutors.example.org/results/grade",
        "value": "A"}]
    return document


def _proof_configuration(document: Doc) -> Doc:
    return {"@context": document["@context"], "type": proofs.PROOF_TYPE,
            "cryptosuite": proofs.CRYPTOSUITE, "created": CREATED,
            "verificationMethod": f"{ISSUER_DID}#key-1", "proofPurpose": "assertionMethod"}


def _valid_corpus() -> dict[str, Doc]:
    w3c_document, w3c_proof = _w3c_unsigned_and_proof()
    del w3c_proof["proofValue"]
    reordered = _sample_credential()
    reordered["@context"] = [OB_3_0_3, VC_V2]
    with_did = _sample_credential()
    with_did["@context"] = [VC_V2, "https://www.w3.org/ns/did/v1", OB_3_0_3]
    nested_same = _sample_credential()
    nested_same["credentialSubject"]["@context"] = VC_V2
    nested_badge = _sample_credential()
    nested_badge.update({"@context": VC_V2, "issuer": ISSUER_DID,
                         "type": ["VerifiableCredential"]})
    del nested_badge["evidence"]
    nested_badge["credentialSubject"]["@context"] = [OB_3_0_3]
    status_list = _status_list_credential()
    status_list["@context"] = VC_V2
    return {
        "w3c-document": w3c_document,
        "w3c-proof": {"@context": w3c_document["@context"], **w3c_proof},
        "sample": _sample_credential(),
        "issued-1": _issued_credential(1),
        "issued-2": _issued_credential(2),
        "optional-fields": _with_optional_fields(),
        "status-list": _status_list_credential(),
        "proof-configuration": _proof_configuration(_sample_credential()),
        "status-list-proof-configuration": _proof_configuration(_status_list_credential()),
        "contexts-reordered": reordered,
        "did-context-between": with_did,
        "nested-same-context": nested_same,
        "nested-badge-context": nested_badge,
        "status-list-context-as-text": status_list,
    }


def _changed(change: Callable[[Doc], Any], document: Doc | None = None) -> Doc:
    document = copy.deepcopy(document or _sample_credential())
    change(document)
    return document


def _refused_corpus() -> dict[str, Doc]:
    def achievement(document: Doc) -> Doc:
        return document["credentialSubject"]["achievement"]

    return {
        "undefined-term": _changed(lambda d: d.update(nmae="x")),
        "undefined-nested-term": _changed(lambda d: achievement(d).update(level="x")),
        "undefined-type": _changed(lambda d: d["credentialSubject"]["type"].append("Master")),
        "term-of-another-type": _changed(lambda d: achievement(d).update(identityHash="x")),
        "term-outside-its-type": _changed(
            lambda d: achievement(d)["criteria"].update(achievementType="Certificate")),
        "status-term-in-a-badge": _changed(lambda d: d.update(statusPurpose="revocation")),
        "badge-terms-without-badge-context": _changed(lambda d: d.update({"@context": [VC_V2]})),
        "badge-terms-with-a-text-context": _changed(lambda d: d.update({"@context": VC_V2})),
        "unknown-context-after-cached-ones": _changed(
            lambda d: d["@context"].append("https://evil.example/context.json")),
        "unknown-context-alone": _changed(
            lambda d: d.update({"@context": ["https://evil.example/context.json"]})),
        "unknown-nested-context": _changed(
            lambda d: d["credentialSubject"].update({"@context": "https://evil.example/c"})),
        "embedded-context": _changed(lambda d: d["@context"].append({"nick": "https://x/n"})),
        "relative-identifier": _changed(lambda d: d["credentialSubject"].update(id="t-42")),
        "null-value": _changed(lambda d: d.update(description=None)),
        "status-list-with-a-typo": _changed(lambda d: d["credentialSubject"].update(ttll=1),
                                            _status_list_credential()),
    }


@pytest.fixture(scope="module")
def expected_nquads() -> dict[str, str]:
    return {name: _pyld_normalize(document) for name, document in _valid_corpus().items()}


@pytest.fixture(scope="module")
def expected_refusals() -> dict[str, tuple[type, str]]:
    return {name: _uncached_refusal(document) for name, document in _refused_corpus().items()}


def _check_corpus(loader: jsonld.Loader, order: list[str], expected_nquads: dict[str, str],
                  expected_refusals: dict[str, tuple[type, str]]) -> None:
    """Canonicalise the valid documents in ``order``, each followed by a refused one."""
    valid, refused = _valid_corpus(), _refused_corpus()
    refusals = list(refused)
    for position, name in enumerate(order):
        assert canonize(valid[name], loader) == expected_nquads[name], name
        bad = refusals[position % len(refusals)]
        with pytest.raises(CredentialFormatError) as refusal:
            canonize(refused[bad], loader)
        assert (type(refusal.value), refusal.value.reason) == expected_refusals[bad], bad


def _orders() -> list[list[str]]:
    names = list(_valid_corpus())
    shuffled = [random.Random(seed).sample(names, len(names)) for seed in (1, 2, 3)]
    return [names, names[::-1], *shuffled]


def test_the_corpus_expectations_are_what_they_claim(
        expected_nquads: dict[str, str], expected_refusals: dict[str, tuple[type, str]]) -> None:
    """The reference answers are real canonical forms and real refusals, not errors."""
    assert all(nquads.count("\n") >= 5 for nquads in expected_nquads.values())
    assert expected_refusals["undefined-term"] == (
        UndefinedTerm, "the property 'nmae' at $.nmae is not defined by the document's "
                       "JSON-LD contexts, so a signature would not cover it")
    assert expected_refusals["unknown-context-after-cached-ones"] == (
        UnknownContext, UnknownContext("https://evil.example/context.json").reason)
    assert "'identityHash' at $.credentialSubject.achievement.identityHash" in \
        expected_refusals["term-of-another-type"][1]
    assert "'identifier' at $.credentialSubject.identifier" in \
        expected_refusals["badge-terms-without-badge-context"][1]


@pytest.mark.parametrize("order", _orders(), ids=["forward", "backward", "shuffled-1",
                                                  "shuffled-2", "shuffled-3"])
def test_canonize_gives_uncached_pyld_output_and_refusals_in_any_order_repeatedly(
        order: list[str], expected_nquads: dict[str, str],
        expected_refusals: dict[str, tuple[type, str]]) -> None:
    cold = _w3c_loader()
    for _ in range(3):
        _check_corpus(cold, order, expected_nquads, expected_refusals)
    production = [name for name in order if not name.startswith("w3c")]
    _check_corpus(document_loader, production, expected_nquads, expected_refusals)


@pytest.mark.parametrize("name", list(_refused_corpus()))
def test_a_refusal_still_happens_right_after_a_valid_document_warmed_the_cache(
        name: str, expected_refusals: dict[str, tuple[type, str]]) -> None:
    loader = _w3c_loader()
    refused = _refused_corpus()[name]
    for valid in (_sample_credential(), _status_list_credential(), _sample_credential()):
        canonize(valid, loader)
        with pytest.raises(CredentialFormatError) as refusal:
            canonize(refused, loader)
        assert (type(refusal.value), refusal.value.reason) == expected_refusals[name]


def test_the_production_loader_still_refuses_the_w3c_context_after_the_test_loader_ran(
        expected_nquads: dict[str, str]) -> None:
    document = _valid_corpus()["w3c-document"]
    assert canonize(document, _w3c_loader()) == expected_nquads["w3c-document"]
    with pytest.raises(UnknownContext):
        canonize(document)


def test_canonicalising_from_many_threads_at_once_gives_the_same_results(
        expected_nquads: dict[str, str], expected_refusals: dict[str, tuple[type, str]]) -> None:
    shared_cold = _w3c_loader()
    orders = _orders() * 2
    start = threading.Barrier(len(orders))

    def work(order: list[str]) -> None:
        start.wait()
        for _ in range(3):
            _check_corpus(shared_cold, order, expected_nquads, expected_refusals)
            _check_corpus(document_loader, [name for name in order if name[:3] != "w3c"],
                          expected_nquads, expected_refusals)

    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        for future in [pool.submit(work, order) for order in orders]:
            future.result()


def test_results_stay_the_same_when_the_cache_keeps_being_emptied(
        monkeypatch: pytest.MonkeyPatch, expected_nquads: dict[str, str],
        expected_refusals: dict[str, tuple[type, str]]) -> None:
    monkeypatch.setattr(jsonld, "MAX_CACHED_CONTEXTS", 3)
    loader = _w3c_loader()
    for order in _orders():
        _check_corpus(loader, order, expected_nquads, expected_refusals)
    assert loader.contexts is not None and len(loader.contexts._entries) <= 3


def test_a_warm_cache_processes_no_context_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the speed: every context the sample needs comes from the cache once warm."""
    loader = _w3c_loader()
    expected = canonize(_issued_credential(1), loader)
    calls: list[Any] = []
    process = pyld_jsonld.JsonLdProcessor._process_context

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return process(self, *args, **kwargs)

    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "_process_context", counted)
    assert canonize(_issued_credential(2), loader) != expected
    assert canonize(_issued_credential(1), loader) == expected
    assert calls == []


def test_cached_contexts_and_loaded_documents_are_never_changed(
        expected_nquads: dict[str, str], expected_refusals: dict[str, tuple[type, str]]) -> None:
    loader = _w3c_loader()
    _check_corpus(loader, _orders()[0], expected_nquads, expected_refusals)
    assert loader.contexts is not None
    before = copy.deepcopy(loader.contexts._entries)
    for order in _orders():
        _check_corpus(loader, order, expected_nquads, expected_refusals)
    assert loader.contexts._entries == before
    for url, document in {**CONTEXTS, **_w3c_extra()}.items():
        assert loader(url)["document"] == document


def test_canonize_leaves_the_document_untouched() -> None:
    document = _with_optional_fields()
    before = copy.deepcopy(document)
    first = canonize(document)
    assert document == before and json.dumps(document) == json.dumps(before)
    assert canonize(document) == first


def test_a_loader_that_is_not_static_is_never_cached(expected_nquads: dict[str, str]) -> None:
    loader = _reference_loader()
    for _ in range(2):
        assert canonize(_sample_credential(), loader) == expected_nquads["sample"]
    with pytest.raises(UnknownContext):
        canonize(_refused_corpus()["unknown-context-after-cached-ones"], loader)


def test_contexts_that_use_import_are_not_shared_between_calls() -> None:
    """pyld merges an @import into the imported document in place."""
    url = "https://tutors.example.org/contexts/imports.json"
    loader = loader_with({url: {"@context": {"@version": 1.1, "@import": OB_3_0_3}}})
    assert isinstance(loader, StaticLoader) and loader.contexts is None
    assert document_loader.contexts is not None


def _context_view(context: Any) -> Any:
    """An active context without pyld's per-object ids, to compare contents."""
    if not isinstance(context, dict):
        return context
    return {key: _context_view(value) if key == "previousContext" else value
            for key, value in context.items() if key != "_uuid"}


def test_every_context_served_from_the_cache_is_what_pyld_computes_afresh(
        monkeypatch: pytest.MonkeyPatch, expected_nquads: dict[str, str],
        expected_refusals: dict[str, tuple[type, str]]) -> None:
    """Compares each processed context itself, not only the N-Quads it leads to."""
    served: list[tuple[Any, ...]] = []
    cached = jsonld._StrictProcessor._process_context

    def recorded(self: Any, active_ctx: Any, local_ctx: Any, options: dict[str, Any],
                 *flags: Any, **named: Any) -> Any:
        processed = cached(self, active_ctx, local_ctx, options, *flags, **named)
        served.append((active_ctx, local_ctx, options, flags, named, processed))
        return processed

    loader = _w3c_loader()
    for order in _orders()[:2]:
        _check_corpus(loader, order, expected_nquads, expected_refusals)
    monkeypatch.setattr(jsonld._StrictProcessor, "_process_context", recorded)
    for order in _orders()[2:]:
        _check_corpus(loader, order, expected_nquads, expected_refusals)
    assert len({(id(entry[0]), id(entry[1])) for entry in served}) > 30
    reference = _reference_loader(_w3c_extra())
    for active_ctx, local_ctx, options, flags, named, processed in served:
        fresh = pyld_jsonld.JsonLdProcessor()._process_context(
            active_ctx, copy.deepcopy(local_ctx),
            {**options, "documentLoader": reference,
             "contextResolver": ContextResolver({}, reference)}, *flags, **named)
        assert _context_view(processed) == _context_view(fresh)


MOTTO_A = "https://tutors.example.org/contexts/motto-a.json"
MOTTO_B = "https://tutors.example.org/contexts/motto-b.json"


def _motto_context(vocabulary: str) -> Doc:
    return {"@context": {"motto": f"https://{vocabulary}.example/motto"}}


def _motto_credential(contexts: list[str]) -> Doc:
    return {"@context": [VC_V2, *contexts], "id": "https://tutors.example.org/credentials/m",
            "type": ["VerifiableCredential"], "issuer": ISSUER_DID, "motto": "Learn, then teach"}


def _reference_nquads(document: Doc, extra: dict[str, Doc]) -> str:
    loader = _reference_loader(extra)
    return pyld_jsonld.normalize(copy.deepcopy(document), {
        "algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader,
        "contextResolver": ContextResolver({}, loader)})


def test_the_order_of_the_contexts_is_kept_apart_in_the_cache() -> None:
    extra = {MOTTO_A: _motto_context("a"), MOTTO_B: _motto_context("b")}
    loader = loader_with(extra)
    orders = ([MOTTO_A, MOTTO_B], [MOTTO_B, MOTTO_A], [MOTTO_A], [MOTTO_B])
    expected = [_reference_nquads(_motto_credential(order), extra) for order in orders]
    assert "https://b.example/motto" in expected[0] and "https://a.example/motto" in expected[1]
    for _ in range(2):
        for order, nquads in zip(orders, expected, strict=True):
            assert canonize(_motto_credential(order), loader) == nquads


def test_loaders_with_different_documents_for_one_url_never_share_contexts() -> None:
    first, second = {MOTTO_A: _motto_context("a")}, {MOTTO_A: _motto_context("b")}
    document = _motto_credential([MOTTO_A])
    loaders = [(loader_with(first), _reference_nquads(document, first)),
               (loader_with(second), _reference_nquads(document, second))]
    for _ in range(2):
        for loader, nquads in loaders + loaders[::-1]:
            assert canonize(document, loader) == nquads
    with pytest.raises(UnknownContext):
        canonize(document)


def test_one_scoped_context_used_by_a_type_and_by_a_property_is_cached_apart() -> None:
    """A property's scoped context reaches nested objects; a type's does not."""
    url = "https://tutors.example.org/contexts/things.json"
    extra = {url: {"@context": {"Thing": {"@id": "https://t.example/Thing", "@context": {
        "colour": "https://t.example/colour", "part": "https://t.example/part"}}}}}
    loader = loader_with(extra)

    def credential(subject: Doc) -> Doc:
        return {"@context": [VC_V2, url], "type": ["VerifiableCredential"],
                "issuer": ISSUER_DID, "credentialSubject": subject}

    nested = {"id": "https://t.example/2", "colour": "blue"}
    as_property = credential({"id": "https://t.example/s", "Thing": {
        "id": "https://t.example/1", "colour": "red", "part": nested}})
    as_type = credential({"id": "https://t.example/1", "type": "Thing", "colour": "red",
                          "part": nested})
    expected = _reference_nquads(as_property, extra)
    for _ in range(2):
        assert canonize(as_property, loader) == expected
        with pytest.raises(UndefinedTerm, match=r"'colour' at \$\.credentialSubject\.part"):
            canonize(as_type, loader)
