"""How each logistics partner signs a webhook: the one implementation used both to check the
partner's requests to intake and to sign our debit notices to the partner.

- Standard Webhooks (swiftship): `webhook-signature: v1,<base64 HMAC-SHA256>` over
  `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded part of `whsec_…`.
- Timestamped HMAC (rapidroute): `t=<unix s>,v1=<hex HMAC-SHA256>` over `{t}.{body}`, keyed with
  the secret's UTF-8 bytes.
- API key (desipost): the key in `X-Api-Key`; no signature, no timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from enum import StrEnum


class SigningScheme(StrEnum):
    STANDARD_WEBHOOKS = "standard_webhooks"
    TIMESTAMPED_HMAC = "timestamped_hmac"
    API_KEY = "api_key"


RAPIDROUTE_HEADER = "RapidRoute-Signature"
API_KEY_HEADER = "X-Api-Key"


def standard_webhooks_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The `v1,<base64>` signature Standard Webhooks defines."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def timestamped_hmac(secret: str, timestamp: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of `{t}.{body}` keyed with the secret's UTF-8 bytes."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def timestamped_hmac_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`t=…,v1=…[,v1=…]`: one `v1` per secret during a rotation."""
    t = str(timestamp)
    return ",".join([f"t={t}", *(f"v1={timestamped_hmac(s, t, body)}" for s in secrets)])


def signed_headers(
    scheme: SigningScheme, *, secret: str, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers that authenticate `body` under `scheme` (content type not included)."""
    if scheme is SigningScheme.STANDARD_WEBHOOKS:
        t = str(timestamp)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": t,
            "webhook-signature": standard_webhooks_signature(secret, message_id, t, body),
        }
    if scheme is SigningScheme.TIMESTAMPED_HMAC:
        return {RAPIDROUTE_HEADER: timestamped_hmac_header([secret], timestamp, body)}
    return {API_KEY_HEADER: secret}
