"""rapidroute: timestamped HMAC over `{t}.{body}`, batches of 1–500 events, weights in grams."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.intake.partners.adapter import (
    AuthenticationFailed,
    ParsedScan,
    PartnerCredential,
    PayloadInvalid,
)
from services.intake.partners.parsing import (
    PartnerCode,
    PartnerEventId,
    PartnerRef,
    Reason,
    ShortText,
    Status,
    Url,
    scan_grams,
    validation_errors,
)
from shared.events import ShipmentEventType
from shared.partner_signing import timestamped_hmac, timestamped_hmac_header
from shared.validation import ascii_digits
from shared.weights import GramsReading, WeightUnit, exact_numbers, on_a_rounding_line

HEADER = "rapidroute-signature"
MAX_BATCH = 500

STATUS_MAP: dict[str, ShipmentEventType] = {
    "RPS": ShipmentEventType.PICKUP_SCHEDULED,
    "RPF": ShipmentEventType.PICKUP_FAILED,
    "RPU": ShipmentEventType.PICKED_UP,
    "RQP": ShipmentEventType.QC_PASSED,
    "RQF": ShipmentEventType.QC_FAILED,
    "RIT": ShipmentEventType.IN_TRANSIT,
    "RAH": ShipmentEventType.AT_HUB,
    "ROD": ShipmentEventType.OUT_FOR_DELIVERY,
    "RDL": ShipmentEventType.DELIVERED_TO_SELLER,
    "RLS": ShipmentEventType.LOST,
    "RDM": ShipmentEventType.DAMAGED_IN_TRANSIT,
}

# Epoch milliseconds between 2000-01-01 and 2100-01-01: anything else is a unit mistake.
_MIN_TS_MS = 946_684_800_000
_MAX_TS_MS = 4_102_444_800_000


class Shipment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    awb: PartnerRef
    ref: PartnerRef


class Location(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hub: PartnerCode | None = None
    city: ShortText | None = None


class ProofOfDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    method: Literal["OTP", "SIGNATURE", "NONE"]
    verified: bool = False


class RapidRouteEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: PartnerEventId
    shipment: Shipment
    status_code: Status
    ts: int = Field(ge=_MIN_TS_MS, le=_MAX_TS_MS, description="Epoch milliseconds, UTC.")
    location: Location | None = None
    agent: PartnerCode | None = None
    weight_g: GramsReading | None = None
    images: list[Url] = Field(default_factory=list, max_length=20)
    pod: ProofOfDelivery | None = None
    qc_failure_reason: Reason | None = None


class RapidRouteBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[RapidRouteEvent] = Field(min_length=1, max_length=MAX_BATCH)


# One implementation for checking rapidroute's requests and signing our notices to it.
sign = timestamped_hmac
signature_header = timestamped_hmac_header


def _parse_header(value: str) -> tuple[str, list[str]]:
    timestamp: str | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = item
        elif key == "v1":
            signatures.append(item)
    if timestamp is None or not ascii_digits(timestamp) or len(timestamp) > 12:
        raise AuthenticationFailed(f"{HEADER} needs t=<unix seconds>")
    if not signatures:
        raise AuthenticationFailed(f"{HEADER} needs at least one v1=<hex>")
    return timestamp, signatures


def _pod_otp_verified(pod: ProofOfDelivery | None) -> bool | None:
    if pod is None:
        return None
    return pod.method == "OTP" and pod.verified


class RapidRouteAdapter:
    scheme = "rapidroute"
    archived_headers: Sequence[str] = (HEADER, "content-type")
    stores_secret_hash = False

    def check_secret(self, secret: str) -> str | None:
        return None if len(secret) >= 16 else "a rapidroute secret has at least 16 characters"

    def authenticate(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        credentials: Sequence[PartnerCredential],
        now: datetime,
        tolerance_s: int,
    ) -> None:
        value = headers.get(HEADER)
        if not value:
            raise AuthenticationFailed(f"the {HEADER} header is required")
        timestamp, offered = _parse_header(value)
        if abs(now.timestamp() - int(timestamp)) > tolerance_s:
            raise AuthenticationFailed("the signature timestamp is outside the 5-minute tolerance")
        for cred in credentials:
            if not cred.secret:
                continue
            expected = sign(cred.secret, timestamp, body)
            # Every offered signature is compared in constant time against every secret.
            if any(hmac.compare_digest(expected, o) for o in offered):
                return
        raise AuthenticationFailed(f"no {HEADER} v1 value matches an active secret")

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[ParsedScan]:
        try:
            batch = RapidRouteBatch.model_validate_json(body)
        except ValidationError as exc:
            raise PayloadInvalid(validation_errors(exc)) from exc
        # Pydantic read the numbers through a binary float; on a half gram only their text can
        # say which side they fall (shared.weights.on_a_rounding_line).
        weights: list[int | Decimal | str | None] = [event.weight_g for event in batch.events]
        if any(
            e.weight_g is not None and on_a_rounding_line(e.weight_g, WeightUnit.GRAM)
            for e in batch.events
        ):
            exact = exact_numbers(body)["events"]
            weights = [event.get("weight_g") for event in exact]
        return [
            ParsedScan(
                partner_event_id=event.id,
                return_id=event.shipment.ref,
                awb=event.shipment.awb,
                status=event.status_code,
                event_type=STATUS_MAP.get(event.status_code),
                occurred_at=datetime.fromtimestamp(event.ts / 1000, UTC),
                hub_id=event.location.hub if event.location else None,
                agent_id=event.agent,
                weight_g=scan_grams(
                    weights[index], WeightUnit.GRAM, f"body.events.{index}.weight_g"
                ),
                images=list(event.images),
                pod_otp_verified=_pod_otp_verified(event.pod),
                qc_failure_reason=event.qc_failure_reason,
            )
            for index, event in enumerate(batch.events)
        ]
