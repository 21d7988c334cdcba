"""Partner webhook emitters: render simulated scans as the HTTP requests each partner sends.

A scan from the generator is partner-neutral (canonical type, aware UTC time, grams). One
function per format renders the body exactly as that partner would (its vocabulary, units, time
format, batching or cumulative snapshots); `signed_request` adds the partner's authentication at
the moment of sending. A message's body is fixed when it is rendered, so a redelivery resends the
very same bytes under the same message id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from disputedesk.simulate.signing import desipost_headers, rapidroute_headers, swiftship_headers

Scan = dict[str, Any]
Request = tuple[str, dict[str, str], bytes]

INDIA = ZoneInfo("Asia/Kolkata")

# Each partner's own words for the canonical event types (docs/partners.md).
SWIFTSHIP_EVENTS = {
    "PICKUP_SCHEDULED": "return.pickup_scheduled",
    "PICKUP_FAILED": "return.pickup_failed",
    "PICKED_UP": "return.picked_up",
    "QC_PASSED": "return.qc_passed",
    "QC_FAILED": "return.qc_failed",
    "IN_TRANSIT": "return.in_transit",
    "AT_HUB": "return.at_hub",
    "OUT_FOR_DELIVERY": "return.out_for_delivery",
    "DELIVERED_TO_SELLER": "return.delivered",
    "LOST": "return.lost",
    "DAMAGED_IN_TRANSIT": "return.damaged",
}
RAPIDROUTE_CODES = {
    "PICKUP_SCHEDULED": "RPS",
    "PICKUP_FAILED": "RPF",
    "PICKED_UP": "RPU",
    "QC_PASSED": "RQP",
    "QC_FAILED": "RQF",
    "IN_TRANSIT": "RIT",
    "AT_HUB": "RAH",
    "OUT_FOR_DELIVERY": "ROD",
    "DELIVERED_TO_SELLER": "RDL",
    "LOST": "RLS",
    "DAMAGED_IN_TRANSIT": "RDM",
}
DESIPOST_STATUSES = {
    "PICKUP_SCHEDULED": "PICKUP SCHEDULED",
    "PICKUP_FAILED": "PICKUP EXCEPTION",
    "PICKED_UP": "PICKED UP",
    "QC_PASSED": "QC PASSED",
    "QC_FAILED": "QC FAILED",
    "IN_TRANSIT": "IN TRANSIT",
    "AT_HUB": "REACHED AT DESTINATION HUB",
    "OUT_FOR_DELIVERY": "OUT FOR DELIVERY",
    "DELIVERED_TO_SELLER": "DELIVERED",
    "LOST": "LOST",
    "DAMAGED_IN_TRANSIT": "DAMAGED",
}
RAPIDROUTE_MAX_BATCH = 500


def partner_time(partner_format: str, at: datetime) -> datetime:
    """`at` as intake will read it back from this partner: rapidroute sends epoch milliseconds,
    desipost whole seconds, swiftship the full ISO instant."""
    if partner_format == "rapidroute":
        return at.replace(microsecond=at.microsecond // 1000 * 1000)
    if partner_format == "desipost":
        return at.replace(microsecond=0)
    return at


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def swiftship_body(scan: Scan) -> bytes:
    """One event per request; `at` ISO 8601 with offset, `weight_kg` a float in kilograms."""
    body: dict[str, Any] = {
        "event": SWIFTSHIP_EVENTS[scan["type"]],
        "awb": scan["awb"],
        "return_ref": scan["return_id"],
        "at": scan["at"].isoformat(),
        "hub": scan["hub"],
        "agent": scan["agent"],
        "photos": list(scan.get("images") or []),
        "otp_verified": scan["otp_verified"],
    }
    if scan.get("weight_g") is not None:
        body["weight_kg"] = round(scan["weight_g"] / 1000, 3)
    return _json(body)


def rapidroute_body(events: Sequence[tuple[str, Scan]]) -> bytes:
    """A batch of 1–500 `(event id, scan)`; `ts` epoch milliseconds, `weight_g` grams."""
    if not 1 <= len(events) <= RAPIDROUTE_MAX_BATCH:
        raise ValueError(f"a rapidroute batch holds 1–{RAPIDROUTE_MAX_BATCH} events")
    out = []
    for event_id, scan in events:
        event: dict[str, Any] = {
            "id": event_id,
            "shipment": {"awb": scan["awb"], "ref": scan["return_id"]},
            "status_code": RAPIDROUTE_CODES[scan["type"]],
            "ts": int(scan["at"].timestamp() * 1000),
            "location": {"hub": scan["hub"]},
            # Its published sample names no agent: a parcel whose pickup agent is unknown.
            **({"agent": scan["agent"]} if scan.get("agent") else {}),
            "images": list(scan.get("images") or []),
        }
        if scan.get("weight_g") is not None:
            event["weight_g"] = scan["weight_g"]
        if scan["type"] == "DELIVERED_TO_SELLER":
            event["pod"] = {"method": "OTP", "verified": bool(scan["otp_verified"])}
        out.append(event)
    return _json({"events": out})


def desipost_weight(grams: int) -> str:
    """desipost writes light parcels in grams and the rest in kilograms."""
    return f"{grams} g" if grams < 1000 and grams % 10 else f"{grams / 1000:g} kg"


def desipost_date(at: datetime) -> str:
    return at.astimezone(INDIA).strftime("%d-%m-%Y %H:%M:%S")


def desipost_body(history: Sequence[Scan]) -> bytes:
    """The shipment's whole tracking history so far (a cumulative snapshot), India time."""
    if not history:
        raise ValueError("a desipost snapshot holds at least one scan")
    first = history[0]
    scans = []
    for scan in history:
        entry: dict[str, Any] = {
            "status": DESIPOST_STATUSES[scan["type"]],
            "date": desipost_date(scan["at"]),
            "location": scan["hub"],
        }
        if scan.get("weight_g") is not None:
            entry["weight"] = desipost_weight(scan["weight_g"])
        scans.append(entry)
    latest = max(history, key=lambda s: s["at"])
    body: dict[str, Any] = {
        "awb": first["awb"],
        "order_ref": first["return_id"],
        "is_return": True,
        "current_status": DESIPOST_STATUSES[latest["type"]],
        "scans": scans,
        "qc": {"status": "PASSED" if first.get("qc") else "NOT_REQUIRED", "failure_reason": None},
        "pod": {
            "status": "OTP Based Delivery"
            if any(s["type"] == "DELIVERED_TO_SELLER" and s["otp_verified"] for s in history)
            else None
        },
    }
    weighed = [s for s in history if s.get("weight_g") is not None]
    if weighed:
        body["weight"] = desipost_weight(weighed[0]["weight_g"])
    return _json(body)


@dataclass(frozen=True, slots=True)
class PartnerMessage:
    """One partner request as rendered: its id survives redelivery, and so do its bytes."""

    partner_id: str
    partner_format: str
    message_id: str
    body: bytes


def _swiftship_request(message: PartnerMessage, secrets: dict[str, str], sent_at: int) -> Request:
    headers = swiftship_headers(
        secrets["SWIFTSHIP_SECRET"], message.body, webhook_id=message.message_id, timestamp=sent_at
    )
    return f"/v1/webhooks/{message.partner_id}", headers, message.body


def _rapidroute_request(message: PartnerMessage, secrets: dict[str, str], sent_at: int) -> Request:
    headers = rapidroute_headers(secrets["RAPIDROUTE_SECRET"], message.body, timestamp=sent_at)
    return f"/v1/webhooks/{message.partner_id}", headers, message.body


def _desipost_request(message: PartnerMessage, secrets: dict[str, str], sent_at: int) -> Request:
    # No signature and no timestamp: desipost's replays are caught only by deduplication.
    return (
        f"/v1/webhooks/{message.partner_id}",
        desipost_headers(secrets["DESIPOST_API_KEY"]),
        message.body,
    )


# (message, secrets, Unix time of sending): intake checks a signature's timestamp against its own
# clock, so the signature is made when the request actually leaves.
Signer = Callable[[PartnerMessage, dict[str, str], int], Request]
SIGNERS: dict[str, Signer] = {
    "swiftship": _swiftship_request,
    "rapidroute": _rapidroute_request,
    "desipost": _desipost_request,
}


def signed_request(message: PartnerMessage, secrets: dict[str, str], sent_at: int) -> Request:
    return SIGNERS[message.partner_format](message, secrets, sent_at)
