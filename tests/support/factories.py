"""Realistic request bodies with unique ids, so tests never collide with each other."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.envelope import Envelope
from shared.events import ReturnInitiated

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def awb_of(return_id: str) -> str:
    """The AWB the factories give a return unless told otherwise: a fed return and its partner's
    scans then agree on it, as they do in real traffic (intake refuses a scan whose AWB differs)."""
    return f"AWB-{return_id}"


def return_body(return_id: str | None = None, **over: Any) -> dict[str, Any]:
    return_id = return_id or uid("RET")
    body = {
        "return_id": return_id,
        "order_id": uid("ORD"),
        "seller_id": "S-DEMO-1",
        "buyer_id": uid("B"),
        "category": "electronics",
        "item_value": 249_900,
        "qc_required": True,
        "partner_id": "swiftship",
        "awb": awb_of(return_id),
        "initiated_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
    }
    body.update(over)
    return body


def escalation_body(return_id: str, **over: Any) -> dict[str, Any]:
    body = {
        "return_id": return_id,
        "seller_id": "S-DEMO-1",
        "claim_type": "DAMAGED",
        "claimed_amount": 249_900,
        "description": "The phone came back with a cracked screen.",
        "evidence": [
            {
                "kind": "UNBOXING_VIDEO",
                "uri": "https://evidence.example/v/1.mp4",
                "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
                "captured_at": datetime.now(UTC).isoformat(),
            }
        ],
        # No address of its own: answered at the seller's address in the directory (the test
        # pipeline registers S-DEMO-1's); a test that names one passes `seller_email`.
        "channel": "PORTAL",
    }
    body.update(over)
    return body


def swiftship_event(return_id: str, event: str = "return.delivered", **over: Any) -> bytes:
    body = {
        "event": event,
        "awb": awb_of(return_id),
        "return_ref": return_id,
        "at": datetime.now(UTC).isoformat(),
        "hub": "BLR-HSR-01",
        "agent": "AG-7781",
        "weight_kg": 0.452,
        "photos": [],
        "otp_verified": False,
    }
    body.update(over)
    return json.dumps(body).encode()


def rapidroute_event(
    return_id: str,
    status_code: str = "RDL",
    *,
    event_id: str | None = None,
    ts: datetime | None = None,
    awb: str | None = None,
    **over: Any,
) -> dict[str, Any]:
    event = {
        "id": event_id or uid("evt"),
        "shipment": {"awb": awb or awb_of(return_id), "ref": return_id},
        "status_code": status_code,
        "ts": int((ts or datetime.now(UTC)).timestamp() * 1000),
        "location": {"hub": "DEL-OKH-02", "city": "New Delhi"},
        "weight_g": 380,
        "images": [],
        "pod": {"method": "OTP", "verified": True},
    }
    event.update(over)
    return event


def rapidroute_batch(events: list[dict[str, Any]]) -> bytes:
    return json.dumps({"events": events}, separators=(",", ":")).encode()


def desipost_snapshot(return_id: str, awb: str, scans: list[tuple[str, str]], **over: Any) -> bytes:
    """A cumulative desipost snapshot; `scans` are (status, "DD-MM-YYYY HH:MM:SS" India time)."""
    body: dict[str, Any] = {
        "awb": awb,
        "order_ref": return_id,
        "is_return": True,
        "current_status": scans[-1][0] if scans else None,
        "weight": "0.45 kg",
        "scans": [
            {
                "status": status,
                "date": date,
                "location": "Kolkata_Hub",
                **({"weight": "450 g"} if status in ("PICKED UP", "DELIVERED") else {}),
            }
            for status, date in scans
        ],
        "qc": {"status": "PASSED", "failure_reason": None, "image": None},
        "pod": {"status": "OTP Based Delivery"},
    }
    body.update(over)
    return json.dumps(body).encode()


def return_initiated(return_id: str, traceparent: str | None = None) -> Envelope:
    """A canonical ReturnInitiated envelope, for tests that drive a consumer directly."""
    return Envelope(
        ReturnInitiated(
            return_id=return_id,
            order_id=f"O-{return_id}",
            seller_id="S-1",
            buyer_id="B-1",
            category="electronics",
            item_value=100_000,
            qc_required=False,
            partner_id="swiftship",
            awb=f"AWB-{return_id}",
            initiated_at=datetime.now(UTC),
        ),
        source="test",
        traceparent=traceparent,
    )
