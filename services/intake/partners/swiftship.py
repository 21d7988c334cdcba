"""swiftship: Standard Webhooks signatures, one event per request, weights in kilograms."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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
    Status,
    Url,
    scan_grams,
    validation_errors,
)
from services.intake.validation import Instant
from shared.events import ShipmentEventType
from shared.partner_signing import standard_webhooks_signature
from shared.validation import ascii_digits
from shared.weights import KilogramsReading, WeightUnit, exact_numbers, on_a_rounding_line

STATUS_MAP: dict[str, ShipmentEventType] = {
    "return.pickup_scheduled": ShipmentEventType.PICKUP_SCHEDULED,
    "return.pickup_failed": ShipmentEventType.PICKUP_FAILED,
    "return.picked_up": ShipmentEventType.PICKED_UP,
    "return.qc_passed": ShipmentEventType.QC_PASSED,
    "return.qc_failed": ShipmentEventType.QC_FAILED,
    "return.in_transit": ShipmentEventType.IN_TRANSIT,
    "return.at_hub": ShipmentEventType.AT_HUB,
    "return.out_for_delivery": ShipmentEventType.OUT_FOR_DELIVERY,
    "return.delivered": ShipmentEventType.DELIVERED_TO_SELLER,
    "return.lost": ShipmentEventType.LOST,
    "return.damaged": ShipmentEventType.DAMAGED_IN_TRANSIT,
}


class SwiftshipEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: Status
    awb: PartnerRef
    return_ref: PartnerRef
    at: Instant
    hub: PartnerCode | None = None
    agent: PartnerCode | None = None
    weight_kg: KilogramsReading | None = None
    photos: list[Url] = Field(default_factory=list, max_length=20)
    otp_verified: bool | None = None
    qc_failure_reason: Reason | None = None


# One implementation for checking swiftship's requests and signing our notices to it.
sign = standard_webhooks_signature


_WEBHOOK_ID = TypeAdapter(PartnerEventId)


class SwiftshipAdapter:
    scheme = "swiftship"
    archived_headers: Sequence[str] = (
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
    )
    stores_secret_hash = False

    def check_secret(self, secret: str) -> str | None:
        if not secret.startswith("whsec_"):
            return "a swiftship secret starts with whsec_"
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            return "the part after whsec_ must be base64"
        return None if len(key) >= 16 else "the secret must decode to at least 16 bytes"

    def authenticate(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        credentials: Sequence[PartnerCredential],
        now: datetime,
        tolerance_s: int,
    ) -> None:
        webhook_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signatures = headers.get("webhook-signature")
        if not webhook_id or not timestamp or not signatures:
            raise AuthenticationFailed(
                "webhook-id, webhook-timestamp and webhook-signature headers are required"
            )
        if not ascii_digits(timestamp):
            raise AuthenticationFailed("webhook-timestamp must be Unix seconds")
        if len(timestamp) > 12 or abs(now.timestamp() - int(timestamp)) > tolerance_s:
            raise AuthenticationFailed("webhook-timestamp is outside the 5-minute tolerance")
        offered = [s.split(",", 1)[1] for s in signatures.split() if s.startswith("v1,")]
        for cred in credentials:
            if not cred.secret:
                continue
            try:
                expected = sign(cred.secret, webhook_id, timestamp, body).split(",", 1)[1]
            except ValueError:
                continue  # a malformed stored secret vouches for nothing
            if any(hmac.compare_digest(expected, o) for o in offered):
                return
        raise AuthenticationFailed("no webhook-signature matches an active secret")

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[ParsedScan]:
        try:
            # Trimmed as every partner id is (parsing.py), so a padded copy is the same message.
            webhook_id = _WEBHOOK_ID.validate_python(headers.get("webhook-id"))
        except ValidationError as exc:
            raise PayloadInvalid(validation_errors(exc, "header.webhook-id")) from exc
        try:
            event = SwiftshipEvent.model_validate_json(body)
        except ValidationError as exc:
            raise PayloadInvalid(validation_errors(exc)) from exc
        # Pydantic read the number through a binary float; on a half gram only its text can
        # say which side it falls (shared.weights.on_a_rounding_line).
        weight_kg: int | Decimal | str | None = event.weight_kg
        if event.weight_kg is not None and on_a_rounding_line(event.weight_kg, WeightUnit.KILOGRAM):
            weight_kg = exact_numbers(body)["weight_kg"]
        return [
            ParsedScan(
                partner_event_id=webhook_id,
                return_id=event.return_ref,
                awb=event.awb,
                status=event.event,
                event_type=STATUS_MAP.get(event.event),
                occurred_at=event.at,
                hub_id=event.hub,
                agent_id=event.agent,
                weight_g=scan_grams(weight_kg, WeightUnit.KILOGRAM, "body.weight_kg"),
                images=event.photos,
                pod_otp_verified=event.otp_verified,
                qc_failure_reason=event.qc_failure_reason,
            )
        ]
