"""desipost: a bearer API key, cumulative scan snapshots, India-time dates, weights with units.

Each request repeats the shipment's whole history; a scan's identity `(awb, status, date)` is its
partner event id, so only scans not seen before become canonical events.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from services.intake.partners.adapter import (
    AuthenticationFailed,
    ParsedScan,
    PartnerCredential,
    PayloadInvalid,
)
from services.intake.partners.parsing import (
    PartnerCode,
    PartnerRef,
    Reason,
    Status,
    Url,
    validation_errors,
)
from services.intake.validation import EARLIEST_YEAR, LATEST_YEAR
from shared.auth import hash_key
from shared.events import ShipmentEventType
from shared.weights import grams_from_text

HEADER = "x-api-key"
INDIA = ZoneInfo("Asia/Kolkata")
MAX_SCANS = 1000

STATUS_MAP: dict[str, ShipmentEventType] = {
    "PICKUP SCHEDULED": ShipmentEventType.PICKUP_SCHEDULED,
    "PICKUP EXCEPTION": ShipmentEventType.PICKUP_FAILED,
    "PICKED UP": ShipmentEventType.PICKED_UP,
    "QC PASSED": ShipmentEventType.QC_PASSED,
    "QC FAILED": ShipmentEventType.QC_FAILED,
    "IN TRANSIT": ShipmentEventType.IN_TRANSIT,
    "REACHED AT DESTINATION HUB": ShipmentEventType.AT_HUB,
    "OUT FOR DELIVERY": ShipmentEventType.OUT_FOR_DELIVERY,
    "DELIVERED": ShipmentEventType.DELIVERED_TO_SELLER,
    "LOST": ShipmentEventType.LOST,
    "DAMAGED": ShipmentEventType.DAMAGED_IN_TRANSIT,
}

# ASCII digits only: `\d` matches any script's ("٠٥-١٢-٢٠٢٦"), which strptime and Decimal
# would then read as if they were ASCII.
_DATE = re.compile(r"^[0-9]{2}-[0-9]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}$")


def india_time_to_utc(value: str) -> datetime:
    """`DD-MM-YYYY HH:MM:SS` in Asia/Kolkata (no offset in the string) → aware UTC."""
    if not _DATE.match(value):
        raise ValueError("expected DD-MM-YYYY HH:MM:SS (India time)")
    local = datetime.strptime(value, "%d-%m-%Y %H:%M:%S").replace(tzinfo=INDIA)
    if not EARLIEST_YEAR <= local.year <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return local.astimezone(UTC)


def _check_date(value: str) -> str:
    india_time_to_utc(value)
    return value


def _check_weight(value: str) -> str:
    grams_from_text(value)
    return value


IndiaTime = Annotated[str, Field(max_length=19), AfterValidator(_check_date)]
Weight = Annotated[str, Field(max_length=32), AfterValidator(_check_weight)]


class Scan(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Status
    date: IndiaTime
    location: PartnerCode | None = None
    weight: Weight | None = None


class QualityCheck(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["PASSED", "FAILED", "NOT_REQUIRED"]
    failure_reason: Reason | None = None
    image: Url | None = None


class ProofOfDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["OTP Based Delivery", "Signature"] | None = None


class Snapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")

    awb: PartnerRef
    order_ref: PartnerRef
    is_return: bool | None = None
    current_status: Status | None = None
    weight: Weight | None = None
    scans: list[Scan] = Field(min_length=1, max_length=MAX_SCANS)
    qc: QualityCheck | None = None
    pod: ProofOfDelivery | None = None


def scan_identity(awb: str, status: str, date: str) -> str:
    return f"{awb}|{status}|{date}"


class DesipostAdapter:
    scheme = "desipost"
    # The API key itself is never archived: it is a bearer credential.
    archived_headers: Sequence[str] = ("content-type",)
    stores_secret_hash = True

    def check_secret(self, secret: str) -> str | None:
        return None if len(secret) >= 16 else "a desipost API key has at least 16 characters"

    def authenticate(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        credentials: Sequence[PartnerCredential],
        now: datetime,
        tolerance_s: int,
    ) -> None:
        token = headers.get(HEADER)
        if not token:
            raise AuthenticationFailed("the X-Api-Key header is required")
        presented = hash_key(token)
        matched = False
        # Compare against every stored hash (no early exit), each in constant time.
        for cred in credentials:
            if cred.secret_hash and hmac.compare_digest(presented, cred.secret_hash):
                matched = True
        if not matched:
            raise AuthenticationFailed("unknown or expired API key")

    def parse(self, *, headers: Mapping[str, str], body: bytes) -> list[ParsedScan]:
        try:
            snapshot = Snapshot.model_validate_json(body)
        except ValidationError as exc:
            raise PayloadInvalid(validation_errors(exc)) from exc
        qc, pod = snapshot.qc, snapshot.pod
        # The shipment's weight, given once for the whole snapshot, is what was weighed at
        # pickup (the sample's 0.45 kg, its delivery 310 g): a pickup scan that carries no
        # weight of its own takes it, or a weight drop at delivery has nothing to be read
        # against and pilferage never counts it.
        shipment_g = grams_from_text(snapshot.weight) if snapshot.weight else None
        scans: list[ParsedScan] = []
        for scan in snapshot.scans:
            event_type = STATUS_MAP.get(scan.status)
            is_qc = event_type in (ShipmentEventType.QC_PASSED, ShipmentEventType.QC_FAILED)
            delivered = event_type is ShipmentEventType.DELIVERED_TO_SELLER
            weighed = grams_from_text(scan.weight) if scan.weight else None
            if weighed is None and (is_qc or event_type is ShipmentEventType.PICKED_UP):
                weighed = shipment_g
            scans.append(
                ParsedScan(
                    partner_event_id=scan_identity(snapshot.awb, scan.status, scan.date),
                    return_id=snapshot.order_ref,
                    awb=snapshot.awb,
                    status=scan.status,
                    event_type=event_type,
                    occurred_at=india_time_to_utc(scan.date),
                    hub_id=scan.location,
                    weight_g=weighed,
                    images=[qc.image] if is_qc and qc and qc.image else [],
                    pod_otp_verified=(
                        (pod.status == "OTP Based Delivery" if pod.status else None)
                        if delivered and pod
                        else None
                    ),
                    qc_failure_reason=(
                        qc.failure_reason
                        if event_type is ShipmentEventType.QC_FAILED and qc
                        else None
                    ),
                )
            )
        return scans
