"""Realistic request bodies with unique ids, so tests never collide with each other."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def return_body(return_id: str | None = None, **over: Any) -> dict[str, Any]:
    body = {
        "return_id": return_id or uid("RET"),
        "order_id": uid("ORD"),
        "seller_id": "S-DEMO-1",
        "buyer_id": uid("B"),
        "category": "electronics",
        "item_value": 249_900,
        "qc_required": True,
        "partner_id": "swiftship",
        "awb": uid("SS"),
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
        "channel": "PORTAL",
        "seller_email": "seller.demo@example.com",
    }
    body.update(over)
    return body


def swiftship_event(return_id: str, event: str = "return.delivered", **over: Any) -> bytes:
    body = {
        "event": event,
        "awb": uid("SS"),
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
