"""Signed reply addresses: `reply+<case id>.<mac>@<reply domain>`, the MAC over case id and
seller id, so a reply attaches only to the case and seller it was written for.

The seller id is not in the address (a local part has 64 characters at most); the verifier
reads it from the case's own messages and checks the MAC against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PREFIX = "reply+"
# 80 bits of MAC: guessing one is hopeless, and the local part stays under 64 characters.
MAC_CHARS = 16
_TOKEN = re.compile(r"^reply\+(?P<case>[a-z0-9-]{1,40})\.(?P<mac>[a-z2-7]{16})$", re.IGNORECASE)


def mac(case_id: str, seller_id: str, key: str) -> str:
    digest = hmac.new(
        key.encode(), f"{case_id.upper()}\n{seller_id}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:MAC_CHARS]


def reply_address(case_id: str, seller_id: str, *, key: str, domain: str) -> str:
    return f"{PREFIX}{case_id.lower()}.{mac(case_id, seller_id, key)}@{domain}"


@dataclass(frozen=True, slots=True)
class Token:
    case_id: str
    mac: str


def find_token(addresses: list[str], domain: str) -> Token | None | bool:
    """The token in the first address at the reply domain: a Token, False when an address at
    the reply domain does not have the token's shape (forged or mangled), None when no address
    is at the reply domain."""
    seen = False
    for address in addresses:
        local, _, host = address.strip().strip("<>").rpartition("@")
        if host.lower() != domain.lower():
            continue
        seen = True
        match = _TOKEN.match(local)
        if match:
            return Token(match["case"].upper(), match["mac"].lower())
    return False if seen else None


def verify(token: Token, seller_id: str, key: str) -> bool:
    return hmac.compare_digest(token.mac, mac(token.case_id, seller_id, key))
