"""Email addresses are PII: they arrive sealed, we compare them by keyed hash and show them only
masked."""

from __future__ import annotations

import hashlib
import hmac
import logging
import unicodedata

from shared.metrics import LEGACY_ADDRESSES, SEALED_CONTACT_FAILURES
from shared.pii import ContactOpener, UnsealError

log = logging.getLogger(__name__)


def open_contact(
    opener: ContactOpener, *, sealed: str | None, legacy: str | None, ref: str
) -> str | None:
    """The seller's address for this send: the sealed contact opened, or the plaintext of an
    event written before addresses were sealed (accepted for this release only); None when there
    is none or it cannot be opened (`ref`, an id, goes to the log: never the address)."""
    if sealed:
        try:
            return opener.unseal(sealed)
        except UnsealError as exc:
            # A token nobody can open will not open on a retry; say so and send nothing.
            SEALED_CONTACT_FAILURES.labels("notifications").inc()
            log.error("sealed seller contact cannot be opened: %s", exc, extra={"ref": ref})
            return None
    if legacy:
        LEGACY_ADDRESSES.labels("notifications", "used").inc()
        return legacy
    return None


def normalise(address: str) -> str:
    """One form per address: trimmed, lower case, and Unicode NFC (RFC 6532 §3.1), so that
    "josé@" typed as é (U+00E9) or as e + U+0301 is one mailbox to the suppression list and
    the reply matcher, as it is to the mail server reading it."""
    return unicodedata.normalize("NFC", address.strip()).lower()


def address_hash(address: str, key: str) -> str:
    """HMAC-SHA256 of the normalised address: stable for lookups, useless to a reader of the
    table without the key (a plain hash of an address is easy to reverse by guessing)."""
    return hmac.new(key.encode(), normalise(address).encode(), hashlib.sha256).hexdigest()


def mask(address: str) -> str:
    """`s***@example.com`: enough for an agent to recognise an address, not to harvest it."""
    local, _, domain = address.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"
