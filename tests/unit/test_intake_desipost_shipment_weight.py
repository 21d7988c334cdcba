"""desipost's shipment weight, given once for the snapshot, is the pickup weight of a pickup
scan that carries none: without it a weight drop at delivery is never read."""

from __future__ import annotations

import json

from services.intake.partners.desipost import DesipostAdapter
from shared.events import ShipmentEventType


def _snapshot(*, shipment: str | None, pickup: str | None) -> bytes:
    picked: dict[str, str] = {
        "status": "PICKED UP",
        "date": "24-11-2026 15:43:02",
        "location": "Kolkata_Salt_Lake",
    }
    if pickup is not None:
        picked["weight"] = pickup
    body: dict[str, object] = {
        "awb": "DP77001234",
        "order_ref": "RET-000125",
        "scans": [
            picked,
            {"status": "IN TRANSIT", "date": "25-11-2026 02:10:00", "location": "Kolkata_Hub"},
            {
                "status": "DELIVERED",
                "date": "26-11-2026 13:30:45",
                "location": "Patna_Hub",
                "weight": "310 g",
            },
        ],
    }
    if shipment is not None:
        body["weight"] = shipment
    return json.dumps(body).encode()


def _weights(body: bytes) -> dict[ShipmentEventType | None, int | None]:
    return {s.event_type: s.weight_g for s in DesipostAdapter().parse(headers={}, body=body)}


def test_a_pickup_scan_without_a_weight_takes_the_shipments() -> None:
    weights = _weights(_snapshot(shipment="0.45 kg", pickup=None))
    assert weights[ShipmentEventType.PICKED_UP] == 450
    # Only a pickup takes it: a transit scan was not weighed, the delivery has its own.
    assert weights[ShipmentEventType.IN_TRANSIT] is None
    assert weights[ShipmentEventType.DELIVERED_TO_SELLER] == 310


def test_a_pickup_scans_own_weight_stands() -> None:
    weights = _weights(_snapshot(shipment="0.45 kg", pickup="452 g"))
    assert weights[ShipmentEventType.PICKED_UP] == 452


def test_without_a_shipment_weight_nothing_is_made_up() -> None:
    weights = _weights(_snapshot(shipment=None, pickup=None))
    assert weights[ShipmentEventType.PICKED_UP] is None
