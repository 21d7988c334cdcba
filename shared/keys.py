"""Keys for data at rest, as the operator supplies them: an environment variable or a file.

A key list is text: entries `<key id>:<base64 key>`, separated by commas, spaces or new lines,
`#` starting a comment. The first entry is the current key (new values are made with it); the
others are retired keys, kept only so values made with them can still be read. Rotation is
therefore: put the new key first, keep the old one after it, re-encrypt, then drop the old one
(docs/secrets-and-pii.md).

Each list is read from `<NAME>` or from the file named by `<NAME>_FILE` (a mounted secret),
never both. A service that needs a list and finds neither refuses to start with
`MissingKeyError`, which names both variables, instead of failing on the first request.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Partner secrets (AES-256-GCM): intake only.
SECRETS_KEYS = "DISPUTEDESK_SECRETS_KEYS"
# Sealed seller contacts (X25519): the public key seals (intake; reconciliation for in-flight
# legacy events), the private keys open (notifications only).
PII_PUBLIC_KEY = "DISPUTEDESK_PII_PUBLIC_KEY"
PII_PRIVATE_KEYS = "DISPUTEDESK_PII_PRIVATE_KEYS"

# Key ids travel inside every stored value, between dots: keep them short and dot-free.
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SEPARATORS = re.compile(r"[\s,]+")


class KeyConfigError(RuntimeError):
    """A key list is present but unusable (bad id, bad base64, wrong length, duplicate id)."""


class MissingKeyError(KeyConfigError):
    """A service needs a key list that the operator did not supply."""


@dataclass(frozen=True, slots=True)
class KeyList:
    """Keys by id, in the operator's order: `current_id` first, then the retired ones."""

    current_id: str
    keys: dict[str, bytes]

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    @property
    def retired_ids(self) -> list[str]:
        return [k for k in self.keys if k != self.current_id]


def parse_key_list(text: str, *, name: str, key_bytes: int = 32) -> KeyList:
    """Parse `id:base64, id:base64, ...`; messages name the variable, never a key's value."""
    keys: dict[str, bytes] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for entry in filter(None, _SEPARATORS.split(line)):
            key_id, sep, encoded = entry.partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise KeyConfigError(
                    f"{name}: each entry is <key id>:<base64 key>, the id 1-32 of A-Z a-z 0-9 _ -"
                )
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise KeyConfigError(f"{name}: key {key_id!r} is not valid base64") from None
            if len(raw) != key_bytes:
                raise KeyConfigError(
                    f"{name}: key {key_id!r} has {len(raw)} bytes; {key_bytes} are needed"
                )
            if key_id in keys:
                raise KeyConfigError(f"{name}: key id {key_id!r} appears twice")
            keys[key_id] = raw
    if not keys:
        raise KeyConfigError(f"{name}: no key in the list")
    return KeyList(next(iter(keys)), keys)


def read_key_text(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The raw list from `<name>` or the file `<name>_FILE`; None when neither is set."""
    env = os.environ if environ is None else environ
    inline, path = env.get(name), env.get(f"{name}_FILE")
    if inline and path:
        raise KeyConfigError(f"set {name} or {name}_FILE, not both")
    if inline:
        return inline
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise KeyConfigError(f"{name}_FILE={path}: cannot read it ({exc.strerror})") from None
    return None


def load_key_list(
    name: str, *, purpose: str, environ: Mapping[str, str] | None = None, key_bytes: int = 32
) -> KeyList:
    """The list the service cannot run without; `MissingKeyError` says what to set."""
    text = read_key_text(name, environ)
    if text is None:
        raise MissingKeyError(
            f"{purpose}: no key. Set {name} (`<key id>:<base64 of {key_bytes} bytes>`, current "
            f"key first, retired keys after it) or {name}_FILE (a file holding the same). "
            "`disputedesk dev-credentials` generates development keys into the state folder."
        )
    return parse_key_list(text, name=name, key_bytes=key_bytes)


def optional_key_list(
    name: str, *, environ: Mapping[str, str] | None = None, key_bytes: int = 32
) -> KeyList | None:
    text = read_key_text(name, environ)
    return None if text is None else parse_key_list(text, name=name, key_bytes=key_bytes)


def format_entry(key_id: str, raw: bytes) -> str:
    return f"{key_id}:{base64.b64encode(raw).decode()}"
