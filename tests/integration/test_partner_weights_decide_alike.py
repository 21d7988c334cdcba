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
from tests.support.db import scalar
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


@pytest.mark.parametrize(
    "partner, weight, field",
    [
        ("swiftship", "-0.45", "body.weight_kg"),
        # A float reads this as 1000.0 kg; its text is over 1000 kg.
        ("swiftship", "1000.00000000000000001", "body.weight_kg"),
        ("swiftship", '"NaN"', "body.weight_kg"),
        ("rapidroute", "1000000.5", "body.events.0.weight_g"),
        ("rapidroute", "true", "body.events.0.weight_g"),
        ("desipost", '"-1 kg"', "body.scans.0.weight"),
    ],
)
async def test_what_cannot_be_a_weight_is_refused_naming_the_field(
    harness: Harness, pipeline: dict[str, Any], partner: str, weight: str, field: str
) -> None:
    intake, rid, awb = pipeline["intake"], uid("RET-WX"), uid("WX")
    headers: dict[str, str]
    if partner == "swiftship":
        body = {"event": "return.delivered", "awb": awb, "return_ref": rid}
        text = json.dumps({**body, "at": datetime.now(UTC).isoformat(), "weight_kg": WEIGHT})
    elif partner == "rapidroute":
        event = rapidroute_event(rid, "RDL", awb=awb, weight_g=WEIGHT)
        text = rapidroute_batch([event]).decode()
    else:
        snapshot = json.loads(desipost_snapshot(rid, awb, [("DELIVERED", "26-11-2026 13:30:45")]))
        snapshot["scans"][0]["weight"] = WEIGHT
        text = json.dumps(snapshot)
    content = text.replace(f'"{WEIGHT}"', weight).encode()
    if partner == "swiftship":
        secret = harness.secrets["SWIFTSHIP_SECRET"]
        headers = swiftship_headers(secret, content, webhook_id=uid("msg"))
    elif partner == "rapidroute":
        headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], content)
    else:
        headers = desipost_headers(harness.secrets["DESIPOST_API_KEY"])
    r = await intake.client.post(f"/v1/webhooks/{partner}", content=content, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]
    verdict = await scalar(
        intake,
        "SELECT verdict FROM raw_requests WHERE id = CAST(:r AS uuid)",
        r=r.json()["raw_ref"],
    )
    assert verdict == "invalid"
    assert (
        await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
        == 0
    )
