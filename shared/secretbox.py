"""Secrets at rest (partner HMAC secrets): AES-256-GCM with the key id in every stored value.

Stored form: `v1.<key id>.<base64url(12-byte nonce || ciphertext || tag)>`. The key id says
which key of the operator's list made the value, so values made with a retired key still open
while new ones use the current key, and `needs_rotation` finds those to re-encrypt.

AES-GCM rather than Fernet: a 256-bit key, and associated data. The caller's `context` (for a
partner secret, its partner id) is authenticated with the value, so a ciphertext copied onto
another partner's row does not open there. Nonces are random (96 bits); a key encrypts far
fewer values than the 2^32 after which random nonces would risk repeating.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.keys import KeyList

VERSION = "v1"
_NONCE_BYTES = 12


class UndecryptableError(ValueError):
    """Not a value this box made, made for another context, or made with an unknown key."""


class SecretBox:
    def __init__(self, keys: KeyList) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(raw) for key_id, raw in keys.keys.items()}

    @property
    def current_key_id(self) -> str:
        return self._keys.current_id

    def encrypt(self, plaintext: str, *, context: str) -> str:
        key_id = self._keys.current_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, plaintext.encode(), _associated(key_id, context)
        )
        return f"{VERSION}.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, context: str) -> str:
        key_id, blob = _split(stored)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UndecryptableError(f"made with key {key_id!r}, which is not in the key list")
        try:
            plain = cipher.decrypt(
                blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _associated(key_id, context)
            )
        except InvalidTag:
            raise UndecryptableError("does not authenticate for this context") from None
        return plain.decode()

    def needs_rotation(self, stored: str) -> bool:
        """True when `stored` was made with a key other than the current one."""
        return key_id_of(stored) != self._keys.current_id


def key_id_of(stored: str) -> str:
    return _split(stored)[0]


def _split(stored: str) -> tuple[str, bytes]:
    version, _, rest = stored.partition(".")
    key_id, _, encoded = rest.partition(".")
    if version != VERSION or not key_id or not encoded:
        raise UndecryptableError("not an encrypted value of this format")
    try:
        blob = base64.urlsafe_b64decode(encoded)
    except (binascii.Error, ValueError):
        raise UndecryptableError("not an encrypted value of this format") from None
    if len(blob) <= _NONCE_BYTES + 16:
        raise UndecryptableError("too short to be an encrypted value")
    return key_id, blob


def _associated(key_id: str, context: str) -> bytes:
    return f"{VERSION}.{key_id}.{context}".encode()
