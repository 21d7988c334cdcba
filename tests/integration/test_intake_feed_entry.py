"""A feed entry of a new return in the request's transaction (a resend, a return something waits
for, a key used before) stores it with one statement (`returns.repository.store_new_return`): the
return, its event's outbox row and its history line, written only when the return is new, with
the held check in the same round trip (binding what was held is
`test_return_ownership.py`'s; the common entry, one call outside any transaction, is
`test_feed_entry_one_call.py`'s). A refund's feed entry is one statement too
(`store_new_refund`). On the real stack, through intake's public API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from services.intake.returns import service as feed
from tests.conftest import Harness
from tests.support.db import pool_checkouts, rows, scalar, statements_sent
from tests.support.factories import escalation_body, return_body, uid

RETURN_INITIATED = "disputedesk.intake.return_initiated.v1"
REFUND_ISSUED = "disputedesk.intake.refund_issued.v1"


async def post_feed(
    intake: Any, harness: Harness, body: dict[str, Any], *, key: str | None = None
) -> dict[str, Any]:
    headers = harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    r = await intake.client.post("/v1/returns", json=body, headers=headers)
    assert r.status_code == 202, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def test_a_new_return_is_stored_with_its_event_and_history_once(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = pipeline["intake"]
    body = return_body(uid("RET"))
    rid = body["return_id"]

    async def declined(*args: Any, **kwargs: Any) -> None:
        return None

    with statements_sent(intake) as statements, monkeypatch.context() as patched:
        # The transaction's path, the one call declining (a new return, keyed or not, is one
        # call of its own: test_feed_entry_one_call.py).
        patched.setattr(feed, "accept_new_return", declined)
        first = await post_feed(intake, harness, body, key=uid("K"))
    assert first["duplicate"] is False

    # One statement for the return, its outbox row, its history line and the held check: no
    # separate held read, no flush of ORM rows. (Filtered: the service's loops run meanwhile.)
    feed_entry = [
        s
        for s in statements
        if "INSERT INTO returns" in s or "INTO return_events" in s or "pending_return" in s
    ]
    assert len(feed_entry) == 1, statements
    assert "INSERT INTO outbox" in feed_entry[0] and "held_scans" in feed_entry[0]

    stored = await rows(
        intake,
        "SELECT ce_id, payload, seller_id, partner_id, awb FROM returns WHERE return_id = :r",
        r=rid,
    )
    assert len(stored) == 1
    ce_id, payload, seller, partner, awb = stored[0]
    assert str(ce_id) == first["event_id"]
    assert (seller, partner, awb) == (body["seller_id"], body["partner_id"], body["awb"])
    assert payload["return_id"] == rid and payload["item_value"] == body["item_value"]

    outbox = await rows(
        intake,
        "SELECT ce_id, ce_type, ce_subject, topic, key, payload FROM outbox WHERE key = :r",
        r=rid,
    )
    assert len(outbox) == 1
    o_ce, o_type, o_subject, o_topic, o_key, o_payload = outbox[0]
    assert (o_ce, o_type, o_subject, o_key) == (ce_id, RETURN_INITIATED, rid, rid)
    assert o_topic == "intake.returns.v1"
    assert o_payload == payload  # the event's one document, in both

    logged = await rows(
        intake,
        "SELECT ce_id, ce_type, occurred_at, payload FROM return_events WHERE return_id = :r",
        r=rid,
    )
    assert len(logged) == 1
    l_ce, l_type, l_occurred, l_payload = logged[0]
    assert (l_ce, l_type) == (ce_id, RETURN_INITIATED)
    assert l_occurred == datetime.fromisoformat(payload["initiated_at"].replace("Z", "+00:00"))
    assert l_payload == {k: v for k, v in payload.items() if k != "seller_contact"}

    # A redelivery answers the first event and writes nothing.
    again = await post_feed(intake, harness, body)
    assert again == {**first, "duplicate": True}
    for table, column in (("returns", "return_id"), ("outbox", "key")):
        count = await scalar(intake, f"SELECT count(*) FROM {table} WHERE {column} = :r", r=rid)
        assert count == 1, table
    assert (
        await scalar(intake, "SELECT count(*) FROM return_events WHERE return_id = :r", r=rid) == 1
    )


async def test_a_new_refund_is_stored_with_its_event_and_history_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    body = {
        "refund_id": uid("RF"),
        "return_id": rid,
        "order_id": uid("ORD"),
        "amount": 123_456,
        "issued_at": datetime.now(UTC).isoformat(),
    }
    marketplace = harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    with statements_sent(intake) as statements:
        r = await intake.client.post("/v1/refunds", json=body, headers=marketplace)
    assert r.status_code == 202, r.text
    first = r.json()
    assert first["duplicate"] is False and first["return_id"] == rid

    # The refund, its outbox row and its history line: one statement, nothing flushed after it.
    refund_entry = [s for s in statements if "INTO refunds" in s or "INTO return_events" in s]
    assert len(refund_entry) == 1, statements
    assert "INSERT INTO outbox" in refund_entry[0]

    stored = await rows(
        intake, "SELECT ce_id, payload FROM refunds WHERE refund_id = :f", f=body["refund_id"]
    )
    assert len(stored) == 1
    ce_id, payload = stored[0]
    assert str(ce_id) == first["event_id"]
    assert payload["amount"] == body["amount"] and payload["type"] == REFUND_ISSUED
    outbox = await rows(
        intake,
        "SELECT ce_id, ce_type, ce_subject, key, payload FROM outbox WHERE ce_id = :c",
        c=ce_id,
    )
    assert outbox == [(ce_id, REFUND_ISSUED, rid, rid, payload)]
    logged = await rows(
        intake,
        "SELECT ce_type, return_id, occurred_at, payload FROM return_events WHERE ce_id = :c",
        c=ce_id,
    )
    issued = datetime.fromisoformat(body["issued_at"])
    assert logged == [(REFUND_ISSUED, rid, issued, payload)]

    # A redelivery answers the first event and writes nothing.
    r = await intake.client.post("/v1/refunds", json=body, headers=marketplace)
    assert r.status_code == 202 and r.json() == {**first, "duplicate": True}
    assert await scalar(intake, "SELECT count(*) FROM outbox WHERE key = :r", r=rid) == 1
    assert (
        await scalar(intake, "SELECT count(*) FROM return_events WHERE return_id = :r", r=rid) == 1
    )


async def test_a_burst_of_feed_entries_and_escalations_stays_within_the_pool(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """Each feed entry and escalation holds a pooled connection for its transaction. More at
    once than the pool holds wait for a slot (`services/intake/connection_gate.py`) instead of
    each opening an overflow connection, which the pool would close again at once; every one is
    still answered and stored."""
    intake = pipeline["intake"]
    marketplace = harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    portal = harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")  # bound to S-DEMO-1
    fed = [return_body(uid("RET"), seller_id="S-DEMO-1") for _ in range(20)]
    for body in fed:
        await post_feed(intake, harness, body)
    new = [return_body(uid("RET")) for _ in range(30)]
    keyed = [{**marketplace, "Idempotency-Key": uid("idem")} for _ in range(10)]
    with pool_checkouts(intake) as out:
        answers = await asyncio.gather(
            *(
                intake.client.post("/v1/returns", json=body, headers=headers)
                for body, headers in zip(new, [*keyed, *[marketplace] * 20], strict=True)
            ),
            *(
                intake.client.post(
                    "/v1/escalations", json=escalation_body(body["return_id"]), headers=portal
                )
                for body in fed
            ),
        )
    assert [a.status_code for a in answers] == [202] * 30 + [201] * 20, [a.text for a in answers]
    assert out["peak"] <= intake.runtime.settings.database_pool_size, out
    ids = [body["return_id"] for body in new]
    assert (
        await scalar(intake, "SELECT count(*) FROM returns WHERE return_id = ANY(:r)", r=ids) == 30
    )
    filed = [body["return_id"] for body in fed]
    assert (
        await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = ANY(:r)", r=filed)
        == 20
    )
