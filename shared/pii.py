"""Sealed seller contacts: an address travels and rests as a token only notifications can open.

A seller's email address is needed at one place, the moment notifications sends. Everywhere
else (Kafka topics, intake's history and outbox, reconciliation's cases and facts, fraud) it
is an opaque token. Sealing is public-key (an X25519 key agreement with a fresh ephemeral key
per token, HKDF-SHA256, AES-256-GCM), so the services that seal hold no secret: intake, which
faces the internet, can make tokens but never read one back, and reconciliation can seal an
address from an event written before this contract without being able to read any. Only
notifications holds the private keys.

Token form: `sc1.<key id>.<base64url(ephemeral public key || ciphertext || tag)>`; the key id
names the recipient key pair, so notifications can open tokens sealed to a retired pair while
intake seals to the current one. A token is a few hundred characters for the longest address.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from shared.keys import KeyList

VERSION = "sc1"
# Room for the longest address (254) plus the ephemeral key, tag, base64 and prefix.
MAX_TOKEN_LENGTH = 512
# Each token has its own derived key, so one fixed nonce never repeats under a key.
_NONCE = bytes(12)
_INFO = b"disputedesk sealed seller contact v1"


class UnsealError(ValueError):
    """Not a token, sealed to a key pair we do not hold, or tampered with."""


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO
    ).derive(shared)


@dataclass(frozen=True, slots=True)
class ContactSealer:
    """Seals to one recipient key pair (the current one); holds only its public key."""

    key_id: str
    public_key: bytes

    @classmethod
    def from_keys(cls, keys: KeyList) -> ContactSealer:
        return cls(keys.current_id, keys.current)

    def seal(self, address: str) -> str:
        recipient = X25519PublicKey.from_public_bytes(self.public_key)
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = _raw_public(ephemeral.public_key())
        key = _derive(ephemeral.exchange(recipient), ephemeral_raw, self.public_key)
        sealed = AESGCM(key).encrypt(_NONCE, address.encode(), _associated(self.key_id))
        body = base64.urlsafe_b64encode(ephemeral_raw + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.key_id}.{body}"


class ContactOpener:
    """Opens tokens sealed to any key pair in its list (the current one and retired ones)."""

    def __init__(self, keys: KeyList) -> None:
        self._pairs = {
            key_id: X25519PrivateKey.from_private_bytes(raw) for key_id, raw in keys.keys.items()
        }

    def unseal(self, token: str) -> str:
        version, _, rest = token.partition(".")
        key_id, _, body = rest.partition(".")
        if version != VERSION or not key_id or not body:
            raise UnsealError("not a sealed contact")
        private = self._pairs.get(key_id)
        if private is None:
            raise UnsealError(f"sealed to key pair {key_id!r}, which is not in the key list")
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise UnsealError("not a sealed contact") from None
        if len(blob) <= 32 + 16:
            raise UnsealError("not a sealed contact")
        ephemeral_raw, sealed = blob[:32], blob[32:]
        try:
            ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
            key = _derive(
                private.exchange(ephemeral), ephemeral_raw, _raw_public(private.public_key())
            )
            return AESGCM(key).decrypt(_NONCE, sealed, _associated(key_id)).decode()
        except (InvalidTag, ValueError):
            raise UnsealError("sealed contact does not authenticate") from None


def generate_pair() -> tuple[bytes, bytes]:
    """A new (private, public) key pair, raw 32 bytes each, for `disputedesk dev-credentials`
    and for an operator's rotation."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return raw_private, _raw_public(private.public_key())


def public_key_of(private_key: bytes) -> bytes:
    """The public half of a raw private key: its holder may seal as well as open."""
    return _raw_public(X25519PrivateKey.from_private_bytes(private_key).public_key())


def _associated(key_id: str) -> bytes:
    return f"{VERSION}.{key_id}".encode()
