"""W3C Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (Data Integrity EdDSA
Cryptosuites v1.0): the RDFC-1.0 canonical forms of the proof options and of the document are
hashed with SHA-256 and the two hashes signed with Ed25519."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.endorsements.json_input import CredentialFormatError, check_limits
from credentials.endorsements.jsonld import Loader, canonize, document_loader, shorten
from credentials.endorsements.multibase import MultibaseError, decode_z, encode_z

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"

VALID = "the signature is valid"
NO_PROOF = "the credential has no proof"
SEVERAL_PROOFS = "the credential has more than one proof; only a single proof is accepted"
PROOF_NOT_OBJECT = "the proof is not a JSON object"
NO_VERIFICATION_METHOD = "the proof does not name its verification method"
NO_PROOF_VALUE = "the proof has no proofValue"
PROOF_VALUE_NOT_MULTIBASE = "the proofValue is not base58btc multibase ('z' then base58 text)"
PROOF_VALUE_WRONG_LENGTH = "the proofValue is not a 64-byte Ed25519 signature"
BAD_CREATED = "the proof's created date is not a valid date and time with a time zone"
CONTEXT_MISMATCH = "the proof's @context does not match the start of the credential's @context"
SIGNATURE_MISMATCH = "the credential has been altered or was not signed by this key"

_DATE_TIME_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@dataclass(frozen=True)
class ProofCheck:
    """Outcome of checking a proof; ``reason`` explains it to a person either way."""

    valid: bool
    reason: str
    verification_method: str | None = None


def hash_data(proof_options_nquads: str, document_nquads: str) -> bytes:
    """SHA-256 of the canonical proof options followed by SHA-256 of the canonical document:
    the 64 bytes that eddsa-rdfc-2022 signs."""
    return (hashlib.sha256(proof_options_nquads.encode("utf-8")).digest()
            + hashlib.sha256(document_nquads.encode("utf-8")).digest())


def sign(document: dict[str, Any], *, private_key: Ed25519PrivateKey,
         verification_method: str, created: str, proof_purpose: str = "assertionMethod",
         loader: Loader = document_loader) -> dict[str, Any]:
    """A copy of ``document`` with an eddsa-rdfc-2022 proof added as its last key.

    Raises ``CredentialFormatError`` for a document that could not be verified afterwards
    (undefined terms, unknown contexts, over the limits) and ``ValueError`` for bad options.
    """
    if "proof" in document:
        raise CredentialFormatError("the document already has a proof")
    if not _is_date_time_stamp(created):
        raise ValueError(f"created must be a date and time with a time zone, not {created!r}")
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    unsecured = copy.deepcopy(document)
    signature = private_key.sign(_hash(unsecured, proof, loader))
    return {**unsecured, "proof": {**proof, "proofValue": encode_z(signature)}}


def verify(document: dict[str, Any],
           resolve_key: Callable[[str], Ed25519PublicKey | None],
           loader: Loader = document_loader,
           expected_purpose: str = "assertionMethod") -> ProofCheck:
    """Check the single eddsa-rdfc-2022 proof on ``document``; never raises for bad input.

    ``resolve_key`` maps a verification method id to its public key, or None when the method
    is not one the caller trusts; whether that method belongs to the issuer is for
    ``resolve_key`` (or the caller, from ``verification_method``) to decide.
    """
    try:
        return _verify(document, resolve_key, loader, expected_purpose)
    except CredentialFormatError as exc:
        vm = _claimed_method(document)
        return ProofCheck(False, exc.reason, vm)


def _verify(document: Any, resolve_key: Callable[[str], Ed25519PublicKey | None],
            loader: Loader, expected_purpose: str) -> ProofCheck:
    if not isinstance(document, dict):
        return ProofCheck(False, "the credential is not a JSON object")
    check_limits(document)
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) > 1:
            return ProofCheck(False, SEVERAL_PROOFS)
        proof = proof[0] if proof else None
    if proof is None:
        return ProofCheck(False, NO_PROOF)
    if not isinstance(proof, dict):
        return ProofCheck(False, PROOF_NOT_OBJECT)
    vm = proof.get("verificationMethod")
    vm = vm if isinstance(vm, str) and vm else None

    def invalid(reason: str) -> ProofCheck:
        return ProofCheck(False, reason, vm)

    if proof.get("type") != PROOF_TYPE:
        return invalid(f"the proof type is {shorten(proof.get('type'))}, not {PROOF_TYPE!r}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        return invalid(f"the proof uses the cryptosuite {shorten(proof.get('cryptosuite'))}, "
                       f"not {CRYPTOSUITE!r}")
    if proof.get("proofPurpose") != expected_purpose:
        return invalid(f"the proof purpose is {shorten(proof.get('proofPurpose'))}, "
                       f"not {expected_purpose!r}")
    if vm is None:
        return invalid(NO_VERIFICATION_METHOD)
    if "created" in proof and not _is_date_time_stamp(proof["created"]):
        return invalid(BAD_CREATED)
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value:
        return invalid(NO_PROOF_VALUE)
    try:
        signature = decode_z(proof_value)
    except MultibaseError:
        return invalid(PROOF_VALUE_NOT_MULTIBASE)
    if len(signature) != 64:
        return invalid(PROOF_VALUE_WRONG_LENGTH)

    unsecured = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options:
        if not _starts_with(document.get("@context"), options["@context"]):
            return invalid(CONTEXT_MISMATCH)
        unsecured["@context"] = options["@context"]
    data = _hash(unsecured, options, loader)
    key = resolve_key(vm)
    if key is None:
        return invalid(f"the verification method {vm} is not known")
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return invalid(SIGNATURE_MISMATCH)
    return ProofCheck(True, VALID, vm)


def _hash(unsecured: dict[str, Any], proof_options: dict[str, Any], loader: Loader) -> bytes:
    """Transformation, proof configuration and hashing of eddsa-rdfc-2022."""
    if "@context" not in unsecured:
        raise CredentialFormatError("the document has no JSON-LD @context")
    config = {key: value for key, value in proof_options.items() if key != "@context"}
    config = {"@context": unsecured["@context"], **config}
    document_nquads = canonize(unsecured, loader)
    return hash_data(canonize(config, loader, root="$.proof"), document_nquads)


def _starts_with(document_context: Any, proof_context: Any) -> bool:
    def as_list(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    prefix = as_list(proof_context)
    return as_list(document_context)[:len(prefix)] == prefix


def _is_date_time_stamp(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE_TIME_STAMP.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _claimed_method(document: Any) -> str | None:
    proof = document.get("proof") if isinstance(document, dict) else None
    vm = proof.get("verificationMethod") if isinstance(proof, dict) else None
    return vm if isinstance(vm, str) and vm else None


def as_proof_set(signed: dict) -> dict:
    """``proof`` as a set of one: Data Integrity allows either form, and the Open Badges 3.0
    schema asks for the set."""
    return {**signed, "proof": [signed["proof"]]}
