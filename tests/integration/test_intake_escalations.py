"""Seller escalations, the refund feed and seller feedback: object-level access (BOLA),
Idempotency-Key replay/mismatch/in-flight, and the events each change emits."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from services.intake.models import IdempotencyKey
from shared.idempotency import claim
from tests.conftest import Harness
from tests.support.db import rows, scalar, statements_sent
from tests.support.factories import escalation_body, return_body, uid
from tests.support.feed import feed_return
from tests.support.paging import all_pages

OTHER_SELLER = "S-OTHER-2"
FILED = "disputedesk.intake.seller_escalation_filed.v1"


def portal(harness: Harness) -> dict[str, str]:
    return harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")  # bound to S-DEMO-1


def agent(harness: Harness) -> dict[str, str]:
    return harness.key("DISPUTEDESK_KEY_OPS_AGENT")


def evidence(kind: str = "PHOTO") -> dict[str, Any]:
    return {
        "kind": kind,
        "uri": "https://evidence.example/p/1.jpg",
        "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
        "captured_at": datetime.now(UTC).isoformat(),
    }


async def ce_types(intake: Any, return_id: str) -> list[str]:
    return [
        r[0]
        for r in await rows(
            intake, "SELECT ce_type FROM outbox WHERE key = :k ORDER BY id", k=return_id
        )
    ]


async def test_seller_cannot_read_or_touch_another_sellers_escalation(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    client = pipeline["intake"].client
    theirs_return = await feed_return(pipeline["intake"], harness, seller_id=OTHER_SELLER)
    # An agent files for another seller after a call.
    r = await client.post(
        "/v1/escalations",
        json=escalation_body(theirs_return["return_id"], seller_id=OTHER_SELLER, channel="CALL"),
        headers=agent(harness),
    )
    assert r.status_code == 201, r.text
    theirs = r.json()["escalation_id"]
    assert r.json()["channel"] == "CALL" and r.json()["filed_by"] == "agent.asha"

    missing = await client.get("/v1/escalations/ESC-DOESNOTEXIST", headers=portal(harness))
    for response in (
        await client.get(f"/v1/escalations/{theirs}", headers=portal(harness)),
        await client.post(
            f"/v1/escalations/{theirs}/evidence",
            json={"evidence": [evidence()]},
            headers=portal(harness),
        ),
        await client.post(
            f"/v1/escalations/{theirs}/appeal",
            json={"reason": "Please re-check"},
            headers=portal(harness),
        ),
    ):
        # Indistinguishable from an id that does not exist: ids cannot be probed.
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == missing.json()["detail"]
    r = await client.get(f"/v1/escalations?seller_id={OTHER_SELLER}", headers=portal(harness))
    assert r.status_code == 403
    r = await client.get("/v1/escalations", headers=portal(harness))
    assert r.status_code == 200
    assert all(e["seller_id"] == "S-DEMO-1" for e in r.json()["items"])
    assert theirs not in [e["escalation_id"] for e in r.json()["items"]]
    # Nothing was appended to their escalation.
    r = await client.get(f"/v1/escalations/{theirs}", headers=agent(harness))
    assert r.status_code == 200 and r.json()["appealed_at"] is None
    assert len(r.json()["evidence"]) == 1


async def test_channel_rules_for_portal_and_agents(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    client = pipeline["intake"].client
    body = escalation_body((await feed_return(pipeline["intake"], harness))["return_id"])
    body.pop("channel")
    r = await client.post("/v1/escalations", json=body, headers=portal(harness))
    assert r.status_code == 201 and r.json()["channel"] == "PORTAL"
    r = await client.post(
        "/v1/escalations", json={**body, "channel": "CALL"}, headers=portal(harness)
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.channel"
    r = await client.post("/v1/escalations", json=body, headers=agent(harness))
    assert r.status_code == 422  # an agent says whether it was a call or an email
    r = await client.post(
        "/v1/escalations", json={**body, "channel": "EMAIL"}, headers=agent(harness)
    )
    assert r.status_code == 201
    # An agent names the address the seller wrote from: in any script (they travel over
    # SMTPUTF8), never with a control character.
    fed = (await feed_return(pipeline["intake"], harness))["return_id"]
    by_email = {"channel": "EMAIL", "seller_email": "विक्रेता@example.com"}
    r = await client.post(
        "/v1/escalations", json={**escalation_body(fed), **by_email}, headers=agent(harness)
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/v1/escalations",
        json={**escalation_body(uid("RET")), **by_email, "seller_email": "seller\x7f@example.com"},
        headers=agent(harness),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.seller_email"
    r = await client.post(
        "/v1/escalations", json=body, headers=harness.key("DISPUTEDESK_KEY_FINANCE")
    )
    assert r.status_code == 403


async def test_evidence_and_appeal_emit_their_events(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
    r = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
    )
    esc = r.json()["escalation_id"]
    items = [evidence("PHOTO"), evidence("LABEL_PHOTO")]
    r = await intake.client.post(
        f"/v1/escalations/{esc}/evidence",
        json={"evidence": items, "received_weight_g": 120},
        headers=portal(harness),
    )
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 2 and r.json()["evidence_total"] == 3
    # The same files again add nothing and emit nothing.
    r = await intake.client.post(
        f"/v1/escalations/{esc}/evidence", json={"evidence": items}, headers=portal(harness)
    )
    assert r.status_code == 201 and r.json()["added"] == 0 and r.json()["event_id"] is None
    r = await intake.client.post(
        f"/v1/escalations/{esc}/evidence", json={}, headers=portal(harness)
    )
    assert r.status_code == 422

    r = await intake.client.post(
        f"/v1/escalations/{esc}/appeal",
        json={"reason": "The video clearly shows the crack."},
        headers=portal(harness),
    )
    assert r.status_code == 201, r.text
    # Sent again, it is recorded and passed on too: whether an appeal is heard (a decision to
    # appeal, the return's first) is the case's to judge, not intake's.
    r = await intake.client.post(
        f"/v1/escalations/{esc}/appeal", json={"reason": "again"}, headers=portal(harness)
    )
    assert r.status_code == 201, r.text

    assert await ce_types(intake, rid) == [
        "disputedesk.intake.return_initiated.v1",
        "disputedesk.intake.seller_escalation_filed.v1",
        "disputedesk.intake.evidence_added.v1",
        "disputedesk.intake.appeal_filed.v1",
        "disputedesk.intake.appeal_filed.v1",
    ]
    added = json.loads(
        await scalar(
            intake,
            "SELECT payload::text FROM outbox WHERE key = :k AND ce_type LIKE '%evidence%'",
            k=rid,
        )
    )
    assert added["received_weight_g"] == 120 and len(added["evidence"]) == 2
    r = await intake.client.get(f"/v1/escalations/{esc}", headers=portal(harness))
    assert r.json()["received_weight_g"] == 120 and r.json()["appeal_reason"] == "again"
    events = await all_pages(
        intake.client, f"/v1/returns/{rid}/events", params={"limit": 1}, headers=agent(harness)
    )
    assert [str(e["ce_type"]).split(".")[2] for e in events] == [
        "return_initiated",
        "seller_escalation_filed",
        "evidence_added",
        "appeal_filed",
        "appeal_filed",
    ]


async def test_idempotency_key_replay_mismatch_and_in_flight(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
    body = escalation_body(rid)
    key = {"Idempotency-Key": uid("idem"), **portal(harness)}
    first = await intake.client.post("/v1/escalations", json=body, headers=key)
    again = await intake.client.post("/v1/escalations", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=rid) == 1
    changed = await intake.client.post(
        "/v1/escalations", json={**body, "claimed_amount": 1}, headers=key
    )
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "header.Idempotency-Key"

    # A request still in flight with this key: the retry is told to wait.
    esc = first.json()["escalation_id"]
    path = f"/v1/escalations/{esc}/appeal"
    appeal = {"reason": "Please look again."}
    busy_key = uid("idem")
    await claim(
        intake.runtime.sessionmaker,
        IdempotencyKey,
        client_id="portal:S-DEMO-1",
        key=busy_key,
        route=f"POST {path}",
        body=json.dumps(appeal).encode(),
    )
    r = await intake.client.post(
        path,
        content=json.dumps(appeal).encode(),
        headers={
            "Idempotency-Key": busy_key,
            **portal(harness),
            "content-type": "application/json",
        },
    )
    assert r.status_code == 409 and r.headers.get("Retry-After")

    # The same key on another escalation is another request, not a replay.
    key2 = {"Idempotency-Key": uid("idem"), **portal(harness)}
    r = await intake.client.post(path, json=appeal, headers=key2)
    assert r.status_code == 201
    other_rid = (await feed_return(intake, harness))["return_id"]
    other = await intake.client.post(
        "/v1/escalations", json=escalation_body(other_rid), headers=portal(harness)
    )
    r = await intake.client.post(
        f"/v1/escalations/{other.json()['escalation_id']}/appeal", json=appeal, headers=key2
    )
    assert r.status_code == 422
    assert await ce_types(intake, rid) == [
        "disputedesk.intake.return_initiated.v1",
        "disputedesk.intake.seller_escalation_filed.v1",
        "disputedesk.intake.appeal_filed.v1",
    ]


async def test_refunds_feed_emits_once(harness: Harness, pipeline: dict[str, Any]) -> None:
    intake = pipeline["intake"]
    market = harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    ret = return_body()
    rid = ret["return_id"]
    assert (await intake.client.post("/v1/returns", json=ret, headers=market)).status_code == 202
    refund = {
        "refund_id": uid("RF"),
        "return_id": rid,
        "order_id": ret["order_id"],
        "amount": 249_900,
        "issued_at": datetime.now(UTC).isoformat(),
    }
    first = await intake.client.post("/v1/refunds", json=refund, headers=market)
    assert first.status_code == 202 and first.json()["duplicate"] is False
    again = await intake.client.post("/v1/refunds", json=refund, headers=market)
    assert again.json()["duplicate"] is True
    assert again.json()["event_id"] == first.json()["event_id"]
    assert await ce_types(intake, rid) == [
        "disputedesk.intake.return_initiated.v1",
        "disputedesk.intake.refund_issued.v1",
    ]
    r = await intake.client.post("/v1/refunds", json={**refund, "amount": 12.5}, headers=market)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.amount"
    r = await intake.client.post("/v1/refunds", json=refund, headers=portal(harness))
    assert r.status_code == 403


async def test_a_filing_may_name_where_its_answers_go_sealed(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The seller portal, a desk agent and the marketplace may each name the address a filing's
    answers go to: a portal that files with the address its seller gives must not lose the
    answers of a seller the directory does not know yet. Intake keeps the address sealed only."""
    intake = pipeline["intake"]
    elsewhere = {"seller_email": "someone.else@example.net"}
    feedback = {"seller_id": "S-DEMO-1", "rating": 5, "text": "Quick and fair."}
    for headers, channel in ((portal(harness), "PORTAL"), (agent(harness), "EMAIL")):
        fed = (await feed_return(intake, harness))["return_id"]
        r = await intake.client.post(
            "/v1/escalations",
            json={**escalation_body(fed), **elsewhere, "channel": channel},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        [(contact,)] = await rows(
            intake, "SELECT seller_contact FROM escalations WHERE return_id = :r", r=fed
        )
        assert contact and "@" not in contact and "someone.else" not in contact
    for headers in (portal(harness), harness.key("DISPUTEDESK_KEY_MARKETPLACE")):
        r = await intake.client.post(
            "/v1/seller-feedback", json={**feedback, **elsewhere}, headers=headers
        )
        assert r.status_code == 201, r.text


async def test_seller_feedback(harness: Harness, pipeline: dict[str, Any]) -> None:
    intake = pipeline["intake"]
    feedback = {
        "seller_id": "S-DEMO-1",
        "rating": 2,
        "text": "Slow to respond.",
        "return_id": uid("RET"),
    }
    r = await intake.client.post("/v1/seller-feedback", json=feedback, headers=portal(harness))
    assert r.status_code == 201, r.text
    row = await rows(
        intake,
        "SELECT topic, key, payload->>'rating' FROM outbox WHERE ce_id = :c",
        c=uuid.UUID(r.json()["event_id"]),
    )
    assert row == [("intake.seller-feedback.v1", "S-DEMO-1", "2")]
    r = await intake.client.post(
        "/v1/seller-feedback", json={**feedback, "seller_id": OTHER_SELLER}, headers=portal(harness)
    )
    assert r.status_code == 403
    r = await intake.client.post(
        "/v1/seller-feedback",
        json={**feedback, "seller_id": OTHER_SELLER},
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code == 201
    # A return the feed gave another seller is not this seller's to rate, whoever relays it.
    theirs = await feed_return(intake, harness, seller_id=OTHER_SELLER)
    for key in (portal(harness), harness.key("DISPUTEDESK_KEY_MARKETPLACE")):
        r = await intake.client.post(
            "/v1/seller-feedback",
            json={**feedback, "return_id": theirs["return_id"]},
            headers=key,
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "body.return_id"
    for bad, field in (
        ({"rating": 6}, "body.rating"),
        ({"rating": "good"}, "body.rating"),
        ({"text": "x" * 5001}, "body.text"),
        # No mail server takes a control character: refused here rather than never delivered.
        ({"seller_email": "sel\x01ler@example.com"}, "body.seller_email"),
    ):
        r = await intake.client.post(
            "/v1/seller-feedback", json={**feedback, **bad}, headers=portal(harness)
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


async def test_a_filing_is_stored_with_its_event_and_history_in_one_statement(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """`escalations.repository`: the escalation, its event's outbox row and its history line
    in one statement, for a filed escalation and a held one alike. A filing on a named return
    is one call sent to asyncpg itself, the return's seller checked in it
    (`test_escalation_one_call.py`), so SQLAlchemy sends no statement for it; a held one is
    stored by the transaction, after its statement checking the return's seller found no return
    (and wrote nothing) and the return's lock was taken."""
    intake = pipeline["intake"]
    fed = (await feed_return(intake, harness))["return_id"]
    unfed = uid("RET")
    for return_id, status, state, attempts in (
        (fed, 201, "filed", 0),
        (unfed, 202, "pending_return", 2),
    ):
        body = escalation_body(
            return_id,
            received_weight_g=812,
            channel="EMAIL",
            seller_email="seller.demo@example.com",
        )
        with statements_sent(intake) as statements:
            r = await intake.client.post("/v1/escalations", json=body, headers=agent(harness))
        assert r.status_code == status, r.text
        out = r.json()
        assert out["state"] == state
        filing = [s for s in statements if "INTO escalations" in s or "INTO return_events" in s]
        assert len(filing) == attempts, statements
        assert all("INSERT INTO outbox" in s for s in filing)
        if state == "filed":
            assert [s for s in statements if "FROM returns" in s] == filing, statements

        again = await intake.client.get(
            f"/v1/escalations/{out['escalation_id']}", headers=portal(harness)
        )
        assert again.status_code == 200 and again.json() == out
        stored = await rows(
            intake,
            "SELECT seller_id, claimed_amount, received_weight_g, evidence, seller_contact, state"
            " FROM escalations WHERE escalation_id = :e",
            e=out["escalation_id"],
        )
        assert len(stored) == 1
        seller, amount, grams, kept_evidence, contact, kept_state = stored[0]
        assert (seller, amount, grams, kept_state) == ("S-DEMO-1", 249_900, 812, state)
        assert [e["sha256"] for e in kept_evidence] == [e["sha256"] for e in body["evidence"]]
        assert contact and body["seller_email"] not in contact  # sealed, never the address

        outbox = await rows(
            intake,
            "SELECT ce_id, ce_type, ce_subject, payload FROM outbox WHERE key = :r"
            " AND ce_type = :t",
            r=return_id,
            t=FILED,
        )
        assert len(outbox) == 1
        ce_id, _, subject, payload = outbox[0]
        assert subject == return_id and payload["escalation_id"] == out["escalation_id"]
        assert payload["seller_contact"] == contact and payload["evidence"] == kept_evidence
        logged = await rows(
            intake, "SELECT ce_type, payload FROM return_events WHERE ce_id = :c", c=ce_id
        )
        without_contact = {k: v for k, v in payload.items() if k != "seller_contact"}
        assert logged == [(FILED, without_contact)]
