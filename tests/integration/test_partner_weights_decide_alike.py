"""The same parcel, weighed the same, is decided the same whichever partner reports it: every
adapter reads a weight from its decimal text and rounds half up to the gram (shared.weights),
so SOP L6's line (`pickup − max(50 g, 10 %)`) falls at one gram for all of them.

Through intake's webhooks, reconciliation's decision read back: a damage claim with its video,
no QC at pickup. A weight drop is L6 (the partner pays in full); none is L11 (the buyer, half)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Harness
from tests.integration.test_seller_directory import AGENT, _case
from tests.support.factories import (
    desipost_snapshot,
    escalation_body,
    rapidroute_batch,
    rapidroute_event,
    uid,
)
from tests.support.feed import feed_return
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers

IST = timedelta(hours=5, minutes=30)
WEIGHT = "__weight__"


def _india(at: datetime) -> str:
    return (at.astimezone(UTC) + IST).strftime("%d-%m-%Y %H:%M:%S")


async def _swiftship(harness: Harness, intake: Any, rid: str, awb: str, scans: Any) -> None:
    for event, at, kg in scans:
        body = {"event": event, "awb": awb, "return_ref": rid, "at": at.isoformat()}
        # The number exactly as the partner writes it, not as Python would print a float.
        text = json.dumps({**body, "weight_kg": WEIGHT}).replace(f'"{WEIGHT}"', kg).encode()
        r = await intake.client.post(
            "/v1/webhooks/swiftship",
            content=text,
            headers=swiftship_headers(
                harness.secrets["SWIFTSHIP_SECRET"], text, webhook_id=uid("msg")
            ),
        )
        assert r.status_code == 202, r.text


async def _desipost(harness: Harness, intake: Any, rid: str, awb: str, scans: Any) -> None:
    body = json.loads(desipost_snapshot(rid, awb, [("PICKED UP", "01-01-2026 00:00:00")]))
    del body["weight"]
    body["scans"] = [
        {"status": status, "date": _india(at), "location": "Kolkata_Hub", "weight": f"{kg} kg"}
        for status, at, kg in scans
    ]
    r = await intake.client.post(
        "/v1/webhooks/desipost",
        content=json.dumps(body).encode(),
        headers=desipost_headers(harness.secrets["DESIPOST_API_KEY"]),
    )
    assert r.status_code == 202, r.text


async def _rapidroute(harness: Harness, intake: Any, rid: str, awb: str, scans: Any) -> None:
    events = []
    for code, at, kg in scans:
        event = rapidroute_event(rid, code, ts=at, awb=awb, pod={"method": "NONE"})
        event["weight_g"] = f"{WEIGHT}{kg}"
        events.append(event)
    text = rapidroute_batch(events).decode()
    for _, _, kg in scans:  # grams, written as a scale shows them: 0.4505 kg is 450.5 g
        grams = str(Decimal(kg).scaleb(3).normalize())
        text = text.replace(f'"{WEIGHT}{kg}"', grams)
    body = text.encode()
    r = await intake.client.post(
        "/v1/webhooks/rapidroute",
        content=body,
        headers=rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body),
    )
    assert r.status_code == 202, r.text


PARTNERS = {
    "swiftship": (_swiftship, "return.picked_up", "return.delivered"),
    "desipost": (_desipost, "PICKED UP", "DELIVERED"),
    "rapidroute": (_rapidroute, "RPU", "RDL"),
}


async def _decided_rule(
    harness: Harness, pipeline: dict[str, Any], partner: str, pickup_kg: str, delivered_kg: str
) -> str:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = uid(f"RET-W{partner[:2].upper()}")
    awb = uid(partner[:2].upper())
    await feed_return(
        intake, harness, rid, partner_id=partner, awb=awb, qc_required=False, item_value=180_000
    )
    send, picked_up, delivered = PARTNERS[partner]
    now = datetime.now(UTC)
    await send(
        harness,
        intake,
        rid,
        awb,
        [
            (picked_up, now - timedelta(days=2), pickup_kg),
            (delivered, now - timedelta(days=1), delivered_kg),
        ],
    )
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, claimed_amount=150_000, channel="EMAIL"),
        headers=harness.key(AGENT),
    )
    assert r.status_code in (201, 202), r.text
    case = await _case(harness, recon, rid, lambda c: c.get("decision") is not None)
    return str(case["decision"]["rule_id"])


@pytest.mark.parametrize(
    "pickup_kg, delivered_kg, rule",
    [
        # 450 g is the line at a 500 g pickup: 0.4495 kg is 450 g, no drop, from everyone.
        ("0.5", "0.4495", "L11"),
        # 451 g at 501 g: a float's round(0.4505 * 1000) is 450 (a drop, L6) where the text
        # half up is 451.
        ("0.501", "0.4505", "L11"),
        ("0.501", "0.4504", "L6"),
    ],
)
async def test_the_same_parcel_reported_by_any_partner_gets_the_same_decision(
    harness: Harness, pipeline: dict[str, Any], pickup_kg: str, delivered_kg: str, rule: str
) -> None:
    rules = {
        partner: await _decided_rule(harness, pipeline, partner, pickup_kg, delivered_kg)
        for partner in PARTNERS
    }
    assert rules == dict.fromkeys(PARTNERS, rule)
