"""Planted fraud through the real pipeline (intake → Kafka → fraud → Kafka), and fraud's API."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer

from services.fraud.models import Outbox as FraudOutbox
from services.reconciliation.models import Outbox as ReconOutbox
from shared.events import (
    CaseDecided,
    CaseOrigin,
    CaseState,
    ClaimType,
    DecisionRecord,
    LiableParty,
    Outcome,
)
from shared.outbox import enqueue
from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"


async def _deliver(
    harness: Harness,
    intake: Any,
    rid: str,
    *,
    hub: str,
    agent: str,
    pickup_kg: float,
    delivered_kg: float,
    days_ago: int = 0,
) -> None:
    now = datetime.now(UTC) - timedelta(days=days_ago)
    for event, kg, at in (
        ("return.picked_up", pickup_kg, now - timedelta(days=2)),
        ("return.delivered", delivered_kg, now - timedelta(hours=2)),
    ):
        body = swiftship_event(rid, event, hub=hub, agent=agent, weight_kg=kg, at=at.isoformat())
        r = await intake.client.post(
            "/v1/webhooks/swiftship",
            content=body,
            headers=swiftship_headers(
                harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")
            ),
        )
        assert r.status_code == 202, r.text


async def _return(harness: Harness, intake: Any, **over: Any) -> tuple[str, str]:
    body = return_body(**over)
    r = await intake.client.post(
        "/v1/returns", json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    return body["return_id"], r.json()["event_id"]


async def _alert_on_kafka(harness: Harness, entity_id: str, pattern: str) -> dict[str, Any]:
    consumer = AIOKafkaConsumer(
        "fraud.alerts.v1",
        bootstrap_servers=harness.env["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []

    async def probe() -> list[dict[str, Any]]:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for rec in records:
                payload = json.loads(rec.value)
                headers = dict(rec.headers or ())
                if payload.get("entity_id") == entity_id and payload.get("pattern") == pattern:
                    assert headers["ce_type"] == b"disputedesk.fraud.alert_raised.v1"
                    found.append(payload)
        return found

    try:
        await eventually(probe, timeout=30, what=f"{pattern} alert for {entity_id} on Kafka")
    finally:
        await consumer.stop()
    return found[0]


async def test_reused_evidence_is_high_with_its_reason_and_raises_one_alert(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, fraud = pipeline["intake"], pipeline["fraud"]
    seller = uid("S-REUSE")
    photo = {
        "kind": "PHOTO",
        "uri": "https://evidence.example/p/cracked.jpg",
        "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
        "captured_at": datetime.now(UTC).isoformat(),
        "perceptual_hash": "0f1e2d3c4b5a6978",
    }
    returns = []
    for _ in range(3):
        rid, _ = await _return(harness, intake, seller_id=seller)
        await _deliver(
            harness, intake, rid, hub="H-CLEAN", agent="AG-CLEAN", pickup_kg=0.5, delivered_kg=0.5
        )
        returns.append(rid)

    async def file(rid: str) -> str:
        base = escalation_body(rid, seller_id=seller, channel="EMAIL")
        r = await intake.client.post(
            "/v1/escalations",
            json=base | {"evidence": base["evidence"] + [photo]},
            headers=harness.key(AGENT),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["escalation_id"])

    async def assessment_of(escalation_id: str) -> list[Any]:
        return await rows(
            # The claim's current assessment first: its latest revision.
            fraud,
            "SELECT subject_event_id, band, reasons, escalation_id FROM assessments "
            "WHERE escalation_id = :e AND subject_type LIKE '%seller_escalation_filed%' "
            "ORDER BY revision DESC",
            e=escalation_id,
        )

    # The original is assessed before its copies are filed: claims on different returns travel
    # on different partitions, and a copy assessed first would make the original the copy.
    escalations = [await file(returns[0])]
    first = await eventually(lambda: assessment_of(escalations[0]), what="first assessment")
    assert first[0].band == "LOW", first[0].reasons
    escalations += [await file(rid) for rid in returns[1:]]
    # Each copy matches the original, whichever copy is assessed first.
    second = (
        await eventually(
            lambda: assessment_of(escalations[1]),
            until=lambda found: bool(found) and found[0].band == "HIGH",
            what="second assessment HIGH",
        )
    )[0]
    reason = next(r for r in second.reasons if r["code"] == "EVIDENCE_REUSED_EXACT")
    assert reason["numbers"]["matched_return"] and reason["contribution"] >= 0.8

    # The assessment went out on Kafka carrying the escalation id reconciliation matches on.
    published = await eventually(
        lambda: scalar(
            fraud,
            "SELECT payload FROM outbox WHERE ce_type = "
            "'disputedesk.fraud.assessed.v1' AND payload->>'escalation_id' = :e "
            "AND published_at IS NOT NULL "
            "ORDER BY coalesce((payload->>'revision')::int, 0) DESC LIMIT 1",
            e=escalations[1],
        ),
        until=lambda payload: bool(payload) and payload["band"] == "HIGH",
        what="published HIGH assessment",
    )
    assert published["band"] == "HIGH"

    alert = await _alert_on_kafka(harness, seller, "EVIDENCE_REUSE")
    assert alert["suggested_action"] and alert["evidence"]["code"] == "EVIDENCE_REUSED_EXACT"

    # Assessment by event id, through the API.
    r = await fraud.client.get(
        f"/v1/assessments/{second.subject_event_id}", headers=harness.key(AGENT)
    )
    assert r.status_code == 200 and r.json()["band"] == "HIGH"
    assert r.json()["escalation_id"] == escalations[1]
    r = await fraud.client.get(f"/v1/assessments/{uuid.uuid4()}", headers=harness.key(AGENT))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem")

    # The third reuse is scored HIGH too, but the open alert is not raised again.
    await eventually(lambda: assessment_of(escalations[2]), what="third assessment")
    r = await fraud.client.get(
        "/v1/alerts", params={"entity_id": seller}, headers=harness.key(AGENT)
    )
    assert r.status_code == 200
    items = r.json()["items"]
    assert [a["pattern"] for a in items] == ["EVIDENCE_REUSE"] and items[0]["status"] == "open"
    r = await fraud.client.post(
        f"/v1/alerts/{items[0]['alert_id']}/acknowledge", json={}, headers=harness.key(AGENT)
    )
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert r.json()["acknowledged_by"] == "agent.asha"
    r = await fraud.client.get(
        "/v1/alerts",
        params={"entity_id": seller},
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code == 403

    # Entity risk with history; the alert put the seller on the automatic watchlist.
    r = await fraud.client.get(f"/v1/risk/seller/{seller}", headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    risk = r.json()
    assert risk["band"] == "HIGH" and risk["history"] and risk["watchlisted"]
    assert risk["open_alerts"] == 1
    r = await fraud.client.get("/v1/risk/planet/x", headers=harness.key(AGENT))
    assert r.status_code == 422


async def test_pilfering_hub_is_found_by_its_incident_rate(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """Thirty journeys through one hub over a month, ten arriving light: the rate test flags it
    (spread over days: the same losses on a single day would be one bad day, not pilferage;
    spread over the hub's agents: the losses of one agent alone would be that agent's)."""
    intake, fraud = pipeline["intake"], pipeline["fraud"]
    hub, seller = uid("H-PILFER"), uid("S-HUB")
    for i in range(30):
        rid, _ = await _return(harness, intake, seller_id=seller)
        await _deliver(
            harness,
            intake,
            rid,
            hub=hub,
            agent=f"AG-{hub}-{i % 4}",
            pickup_kg=1.0,
            delivered_kg=0.4 if i % 3 == 0 else 1.0,
            days_ago=30 - i,
        )
    alert = await _alert_on_kafka(harness, hub, "PILFERAGE_HUB")
    assert alert["entity_type"] == "hub" and alert["severity"] == "HIGH"
    # Either reading of the hub's incident rate, whichever is stronger: the rate test at
    # p <= 1e-4, or the sequential test's Bayes factor at 1/alpha (200).
    numbers = alert["evidence"]["numbers"]
    if numbers.get("test") == "sequential":
        assert numbers["log_bayes_factor"] >= math.log(200)
    else:
        assert numbers["p_value"] < 1e-4

    # Assessments commit one batch at a time, and other reasons (an agent's, the watchlist's) may
    # name the hub too: wait for the shipment assessment that carries the hub's own reason.
    def hub_reason(found: list[Any]) -> bool:
        return any(
            r["code"] in ("HUB_PILFERAGE_RATE_HIGH", "HUB_PILFERAGE_SEQUENTIAL")
            for row in found
            for r in row.reasons
        )

    found = await eventually(
        lambda: rows(
            fraud,
            "SELECT band, reasons FROM assessments WHERE subject_type LIKE "
            "'%shipment%' AND reasons::text LIKE :h",
            h=f"%{hub}%",
        ),
        until=hub_reason,
        what="a shipment assessment with the hub's pilferage reason",
    )
    assert hub_reason(found)
    metrics = (await fraud.client.get("/metrics")).text
    assert 'disputedesk_fraud_alerts_total{pattern="PILFERAGE_HUB"}' in metrics


async def test_watchlist_labels_precision_and_case_decisions(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, fraud, recon = pipeline["intake"], pipeline["fraud"], pipeline["reconciliation"]
    seller = uid("S-WATCH")
    r = await fraud.client.post(
        "/v1/watchlist",
        json={"entity_type": "seller", "entity_id": seller, "reason": "chargebacks"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["source"] == "manual" and entry["added_by"] == "agent.asha"
    again = await fraud.client.post(
        "/v1/watchlist",
        json={"entity_type": "seller", "entity_id": seller, "reason": "x"},
        headers=harness.key(AGENT),
    )
    assert again.status_code == 409
    r = await fraud.client.post(
        "/v1/watchlist",
        json={"entity_type": "seller", "entity_id": seller, "reason": "x"},
        headers=harness.key("DISPUTEDESK_KEY_FINANCE"),
    )
    assert r.status_code == 403
    r = await fraud.client.post(
        "/v1/watchlist", json={"entity_type": "seller"}, headers=harness.key(AGENT)
    )
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} >= {
        "body.entity_id",
        "body.reason",
    }

    rid, event_id = await _return(harness, intake, seller_id=seller)
    assessed = await eventually(
        lambda: fraud.client.get(f"/v1/assessments/{event_id}", headers=harness.key(AGENT)),
        until=lambda resp: resp.status_code == 200,
        what="assessment of the return",
    )
    body = assessed.json()
    assert body["band"] == "MEDIUM"  # LOW raised by one for the manual entry
    assert body["reasons"][0]["code"] == "WATCHLIST_MANUAL"

    # Labels feed precision.
    r = await fraud.client.post(
        "/v1/labels",
        json={"event_id": event_id, "verdict": "legitimate"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    r = await fraud.client.post(
        "/v1/labels",
        json={"entity_type": "seller", "entity_id": seller, "verdict": "confirmed_fraud"},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201
    r = await fraud.client.post(
        "/v1/labels", json={"verdict": "legitimate"}, headers=harness.key(AGENT)
    )
    assert r.status_code == 422
    r = await fraud.client.get("/v1/labels/precision", headers=harness.key(AGENT))
    assert r.status_code == 200
    figures = r.json()
    assert figures["events"]["labelled"] >= 1 and figures["entities"]["labelled"] >= 1

    # Removing the entry stops raising the band.
    r = await fraud.client.delete(f"/v1/watchlist/{entry['id']}", headers=harness.key(AGENT))
    assert r.status_code == 200 and r.json()["active"] is False

    # A case decision is scored and carries the escalation it decides.
    await _deliver(
        harness, intake, rid, hub="H-CLEAN", agent="AG-CLEAN", pickup_kg=0.5, delivered_kg=0.5
    )
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, seller_id=seller, channel="EMAIL"),
        headers=harness.key(AGENT),
    )
    escalation_id = r.json()["escalation_id"]
    await eventually(
        lambda: scalar(
            fraud, "SELECT count(*) FROM assessments WHERE escalation_id = :e", e=escalation_id
        ),
        what="escalation assessed",
    )
    now = datetime.now(UTC)
    decided = CaseDecided(
        case_id=uid("CASE"),
        case_version=2,
        return_id=rid,
        seller_id=seller,
        partner_id="swiftship",
        claim_type=ClaimType.DAMAGED,
        origin=CaseOrigin.SELLER,
        state=CaseState.DECIDED,
        previous_state=CaseState.OPEN,
        actor="system",
        reason="L9",
        occurred_at=now,
        decision=DecisionRecord(
            policy_version="sop-v1",
            rule_id="L9",
            outcome=Outcome.GRANTED,
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            payout=249_900,
            explanation="QC passed at pickup.",
            decided_at=now,
        ),
    )
    async with recon.runtime.sessionmaker() as session, session.begin():
        enqueue(session, ReconOutbox, decided, source="disputedesk/reconciliation", subject=rid)
    recon.runtime.relay.wake()
    row = await eventually(
        lambda: rows(
            fraud,
            "SELECT escalation_id, band FROM assessments WHERE return_id = :r "
            "AND subject_type = :t",
            r=rid,
            t=CaseDecided.ce_type,
        ),
        what="decision assessed",
    )
    assert row[0].escalation_id == escalation_id
    assert FraudOutbox.__tablename__ == "outbox"
