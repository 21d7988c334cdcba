"""The contract every partner adapter fulfils, and what it hands back to the pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.events import ShipmentEventType


@dataclass(frozen=True, slots=True)
class PartnerCredential:
    """One active secret of a partner, as the registry holds it."""

    secret: str | None
    secret_hash: str | None
    not_after: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedScan:
    """One partner event in the partner's own words, with its canonical type if one is mapped."""

    partner_event_id: str
    return_id: str
    awb: str
    status: str
    event_type: ShipmentEventType | None
    occurred_at: datetime
    hub_id: str | None = None
    agent_id: str | None = None
    weight_g: int | None = None
    images: list[str] = field(default_factory=list)
    pod_otp_verified: bool | None = None
    qc_failure_reason: str | None = None


class AuthenticationFailed(Exception):
    """Bad, missing or stale credentials: answered with 401."""


class PayloadInvalid(Exception):
    """The body is not what the partner's format promises: answered with 422 and field paths."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class PartnerAdapter(Protocol):
    scheme: str
    # Headers worth archiving with the raw body (signatures included: they prove what was sent).
    archived_headers: Sequence[str]
    # HMAC schemes need the secret itself to verify; a bearer API key is stored only as a hash.
    stores_secret_hash: bool

    def check_secret(self, secret: str) -> str | None:
        """Why `secret` cannot serve this scheme, or None when it can."""

    def authenticate(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        credentials: Sequence[PartnerCredential],
        now: datetime,
        tolerance_s: int,
    ) -> None:
        """Raise AuthenticationFailed unless one active credential vouches for this request."""

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[ParsedScan]:
        """Raise PayloadInvalid, or return the request's scans (mapped or not)."""
