"""Bitstring Status Lists (W3C Bitstring Status List v1.0).

Each endorsement holds one ``BitstringStatusListEntry`` with purpose ``suspension``. The
Open Badges 3.0 schema allows a single ``credentialStatus``, so one entry has to say both
things: its bit is set while an endorsement is suspended and set for good once it is revoked.
Any verifier that reads the list therefore sees a suspended or a revoked endorsement as not
valid; whether it may come back (suspended) or never will (revoked) is on the verification page
and in the API. Indexes are drawn at random, so a list says nothing about the order of issue.
"""

from __future__ import annotations

import gzip
import json
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from credentials.endorsements.models import STATUS_LIST_SIZE, Endorsement, StatusList
from credentials.endorsements.multibase import decode_u, encode_u
from lms.platform import clock
from lms.platform.extensions import db

PURPOSE = "suspension"
#: A list takes new endorsements until half its indexes are used.
FILL_LIMIT = STATUS_LIST_SIZE // 2


def list_url(status_list: StatusList) -> str:
    return f"{current_app.config['BASE_URL']}/status/{status_list.public_id}"


def allocate_index() -> tuple[StatusList, int]:
    """A free index, drawn at random, in a list with room. The list row is locked so two
    issues at once cannot take the same index."""
    status_list = db.session.scalar(
        select(StatusList).where(StatusList.used < FILL_LIMIT).order_by(StatusList.id)
        .limit(1).with_for_update())
    if status_list is None:
        status_list = StatusList(public_id=secrets.token_urlsafe(9), purpose=PURPOSE,
                                 size=STATUS_LIST_SIZE, bits=bytes(STATUS_LIST_SIZE // 8))
        db.session.add(status_list)
        db.session.flush()
        publish(status_list)
    while True:
        index = secrets.randbelow(status_list.size)
        taken = db.session.scalar(select(Endorsement.id).where(
            Endorsement.status_list_id == status_list.id, Endorsement.status_index == index))
        if taken is None:
            break
    status_list.used += 1
    return status_list, index


def is_set(bits: bytes, index: int) -> bool:
    """Bit ``index``, counting from the left-most bit of the first byte, as the spec says."""
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(endorsement: Endorsement, on: bool) -> StatusList:
    """Set or clear an endorsement's bit and republish its list at once."""
    status_list = db.session.scalar(select(StatusList).where(
        StatusList.id == endorsement.status_list_id).with_for_update())
    bits = bytearray(status_list.bits)
    mask = 0x80 >> (endorsement.status_index % 8)
    if on:
        bits[endorsement.status_index // 8] |= mask
    else:
        bits[endorsement.status_index // 8] &= ~mask & 0xFF
    status_list.bits = bytes(bits)
    status_list.changed_at = clock.now()
    publish(status_list)
    return status_list


def encoded_list(bits: bytes) -> str:
    """``u`` + base64url (no padding) of the GZIP-compressed bits."""
    return encode_u(gzip.compress(bits, mtime=0))


def decoded_list(encoded: str) -> bytes:
    return gzip.decompress(decode_u(encoded))


def publish(status_list: StatusList, now: datetime | None = None) -> StatusList:
    """Sign the list as a ``BitstringStatusListCredential`` and keep it for serving."""
    from credentials.endorsements.keys import (
        active_key,
        issuer_did,
        signing_key,
        verification_method,
    )
    from credentials.endorsements.proofs import as_proof_set, sign

    now = now or clock.now()
    url = list_url(status_list)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(),
        "validFrom": _timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status_list.purpose,
            "encodedList": encoded_list(status_list.bits),
            "ttl": ttl_seconds() * 1000,
        },
    }
    key = active_key()
    signed = as_proof_set(sign(document, private_key=signing_key(key),
                               verification_method=verification_method(key),
                               created=_timestamp(now)))
    status_list.credential = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    status_list.published_at = now
    return status_list


def ttl_seconds() -> int:
    return current_app.config["STATUS_LIST_TTL_SECONDS"]


def publish_pending(now: datetime | None = None) -> int:
    """Publish every list changed since it was last signed. Safe to repeat."""
    pending = db.session.scalars(select(StatusList).where(
        (StatusList.published_at.is_(None)) | (StatusList.changed_at > StatusList.published_at)
    ).with_for_update()).all()
    for status_list in pending:
        publish(status_list, now)
    return len(pending)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
