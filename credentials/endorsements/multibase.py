"""Multibase and Multikey encodings used by Data Integrity proofs, DID documents and
Bitstring Status Lists: base58btc (``z``), base64url without padding (``u``), and Ed25519
keys in Multikey form."""

from __future__ import annotations

import base64
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(BASE58_ALPHABET)}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

#: Multicodec varints: ed25519-pub (0xed) and ed25519-priv (0x1300).
ED25519_PUBLIC_PREFIX = b"\xed\x01"
ED25519_PRIVATE_PREFIX = b"\x80\x26"


class MultibaseError(ValueError):
    """Text that is not the multibase or Multikey encoding it claims to be."""


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58; each leading zero byte becomes a leading '1'."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Inverse of ``b58encode``; refuses characters outside the alphabet (0, O, I, l, ...)."""
    number = 0
    for char in text:
        if char not in _BASE58_INDEX:
            raise MultibaseError(f"{char!r} is not a base58btc character")
        number = number * 58 + _BASE58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def encode_z(data: bytes) -> str:
    """Multibase base58btc, as in proofValue and publicKeyMultibase."""
    return "z" + b58encode(data)


def decode_z(text: str) -> bytes:
    """Inverse of ``encode_z``; anything without the 'z' prefix is refused, not guessed at."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise MultibaseError("not base58btc multibase: it must start with 'z'")
    return b58decode(text[1:])


def encode_u(data: bytes) -> str:
    """Multibase base64url without padding, as in a Bitstring Status List's encodedList."""
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def decode_u(text: str) -> bytes:
    """Inverse of ``encode_u``; padding and the '+' and '/' characters are refused."""
    if not isinstance(text, str) or not text.startswith("u"):
        raise MultibaseError("not base64url multibase: it must start with 'u'")
    body = text[1:]
    if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
        raise MultibaseError("not unpadded base64url text")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def encode_multikey_public(raw: bytes) -> str:
    """Multikey form of a raw 32-byte Ed25519 public key: 'z6Mk...'."""
    if len(raw) != 32:
        raise MultibaseError("an Ed25519 public key is 32 bytes")
    return encode_z(ED25519_PUBLIC_PREFIX + raw)


def decode_multikey_public(text: str) -> bytes:
    """The raw 32-byte Ed25519 public key inside a Multikey 'z6Mk...' string."""
    return _unwrap(text, ED25519_PUBLIC_PREFIX, "public")


def encode_multikey_private(seed: bytes) -> str:
    """Multikey form of a 32-byte Ed25519 private key seed."""
    if len(seed) != 32:
        raise MultibaseError("an Ed25519 private key seed is 32 bytes")
    return encode_z(ED25519_PRIVATE_PREFIX + seed)


def decode_multikey_private(text: str) -> bytes:
    """The 32-byte Ed25519 seed inside a Multikey private key string."""
    return _unwrap(text, ED25519_PRIVATE_PREFIX, "private")


def _unwrap(text: str, prefix: bytes, kind: str) -> bytes:
    data = decode_z(text)
    if not data.startswith(prefix) or len(data) != len(prefix) + 32:
        raise MultibaseError(f"not an Ed25519 {kind} key in Multikey form")
    return data[len(prefix):]


def public_key_from_multikey(text: str) -> Ed25519PublicKey:
    """Key object for a DID document's publicKeyMultibase."""
    return Ed25519PublicKey.from_public_bytes(decode_multikey_public(text))


def private_key_from_multikey(text: str) -> Ed25519PrivateKey:
    """Key object for a secretKeyMultibase, as published test vectors give their keys."""
    return Ed25519PrivateKey.from_private_bytes(decode_multikey_private(text))


def multikey_from_public_key(key: Ed25519PublicKey) -> str:
    """publicKeyMultibase for a key object, as used in verification method ids."""
    return encode_multikey_public(key.public_bytes_raw())
