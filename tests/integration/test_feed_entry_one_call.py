"""The common feed entry, a new return nothing waits for, is one autocommitted call
(`intake_store_new_return`, `returns.repository.store_new_return_alone`): no session, no
BEGIN, lock statement or COMMIT of the request's. What it writes is what the transactional path
writes; with an `Idempotency-Key` the key's row is written in the same call
(`intake_store_new_return_keyed`). A return something is held for, a resend and a key used
before take the transaction, and the call wrote nothing before it. On the real stack, through
intake's public API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.intake.returns import service as feed
from tests.conftest import Harness
from tests.integration.test_webhook_round_trips import StatementLog
from tests.support.db import rows, scalar
from tests.support.factories import escalation_body, return_body, uid


def marketplace(harness: Harness, **extra: str) -> dict[str, str]:
    return {**harness.key("DISPUTEDESK_KEY_MARKETPLACE"), **extra}


async def stored_rows(intake: Any, rid: str) -> dict[str, Any]:
    """The rows a feed entry writes, less what differs between two entries by nature (ids,
    instants of writing, the return's own id inside the documents)."""
    ret = await rows(
        intake,
        "SELECT seller_id, partner_id, awb, payload FROM returns WHERE return_id = :r",
        r=rid,
    )
    out = await rows(
        intake,
        "SELECT ce_type, ce_source, ce_subject, topic, key, payload, traceparent IS NULL"
        " FROM outbox WHERE key = :r",
        r=rid,
    )
    logged = await rows(
        intake,
        "SELECT ce_type, occurred_at, payload FROM return_events WHERE return_id = :r",
        r=rid,
    )
    # Every id the documents carry is the return's own; the comparison is of the shapes.
    return {
        "returns": [tuple(r) for r in ret],
        "outbox": [tuple(r) for r in out],
        "return_events": [tuple(r) for r in logged],
    }


async def _declined(*args: Any, **kwargs: Any) -> None:
    """`service.accept_new_return` declining, as for a return known or held for: the request
    then takes the transaction."""
    return None


async def test_a_new_return_is_one_call_and_writes_what_the_transaction_writes(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = pipeline["intake"]
    log = StatementLog(intake.runtime.engine)
    rid = uid("RET")
    body = return_body(rid)
    with log.counting() as statements:
        r = await intake.client.post("/v1/returns", json=body, headers=marketplace(harness))
    assert r.status_code == 202, r.text
    first = r.json()
    assert first["duplicate"] is False
    # One statement, sent to asyncpg itself outside a transaction: no lock statement, no
    # separate insert, no held read (main sent the lock and the storing statement, in a
    # transaction of the request's).
    assert statements == log.through_driver, statements
    assert len(statements) == 1 and "intake_store_new_return" in statements[0], statements

    # The same return's twin through the transaction (the call declining): the same rows.
    twin = rid + "-T"
    twin_body = {**body, "return_id": twin, "awb": body["awb"] + "-T"}
    with monkeypatch.context() as patched:
        patched.setattr(feed, "accept_new_return", _declined)
        r = await intake.client.post("/v1/returns", json=twin_body, headers=marketplace(harness))
    assert r.status_code == 202, r.text
    one, other = await stored_rows(intake, rid), await stored_rows(intake, twin)
    for table in ("returns", "outbox", "return_events"):
        assert len(one[table]) == 1 and len(other[table]) == 1, table
    swap = {rid: twin, body["awb"]: twin_body["awb"]}

    def as_twin(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: as_twin(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return type(value)(as_twin(v) for v in value)
        return swap.get(value, value) if isinstance(value, str) else value

    for table in ("returns", "outbox", "return_events"):
        assert as_twin(one[table][0]) == other[table][0], table
    ce_id = await scalar(intake, "SELECT ce_id FROM returns WHERE return_id = :r", r=rid)
    assert str(ce_id) == first["event_id"]
    assert await scalar(intake, "SELECT count(*) FROM outbox WHERE ce_id = :c", c=ce_id) == 1
    assert await scalar(intake, "SELECT count(*) FROM return_events WHERE ce_id = :c", c=ce_id) == 1

    # A resend writes nothing new and answers the first event (the call wrote nothing; the
    # transaction answered it), and one with another value is still refused by name.
    again = await intake.client.post("/v1/returns", json=body, headers=marketplace(harness))
    assert again.status_code == 202 and again.json() == {**first, "duplicate": True}
    changed = await intake.client.post(
        "/v1/returns", json={**body, "item_value": 1}, headers=marketplace(harness)
    )
    assert changed.status_code == 409, changed.text
    assert "item_value" in changed.json()["detail"]
    assert await scalar(intake, "SELECT count(*) FROM outbox WHERE key = :r", r=rid) == 1


async def test_a_return_with_a_held_escalation_is_bound_by_the_transaction(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    held = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert held.status_code == 202 and held.json()["state"] == "pending_return", held.text
    log = StatementLog(intake.runtime.engine)
    with log.counting() as statements:
        r = await intake.client.post(
            "/v1/returns", json=return_body(rid), headers=marketplace(harness)
        )
    assert r.status_code == 202, r.text
    # The call saw the hold under the lock and wrote nothing; the transaction then stored the
    # return and bound the escalation.
    assert "intake_store_new_return" in statements[0], statements
    assert any("INSERT INTO returns" in s for s in statements[1:]), statements
    assert await scalar(intake, "SELECT count(*) FROM returns WHERE return_id = :r", r=rid) == 1
    assert (
        await scalar(
            intake,
            "SELECT count(*) FROM outbox WHERE key = :r AND ce_type = "
            "'disputedesk.intake.return_initiated.v1'",
            r=rid,
        )
        == 1
    )
    state = await scalar(
        intake,
        "SELECT state FROM escalations WHERE escalation_id = :e",
        e=held.json()["escalation_id"],
    )
    assert state == "filed"


async def test_a_keyed_return_is_one_call_with_its_key_and_writes_what_the_transaction_writes(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = pipeline["intake"]
    rid, key = uid("RET"), uid("K")
    body = return_body(rid)
    log = StatementLog(intake.runtime.engine)
    with log.counting() as statements:
        r = await intake.client.post(
            "/v1/returns", json=body, headers=marketplace(harness, **{"Idempotency-Key": key})
        )
    assert r.status_code == 202, r.text
    first = r.json()
    # One statement (main sent the key's claim, then BEGIN, the lock, the storing statement,
    # the completion and COMMIT).
    assert statements == log.through_driver, statements
    assert len(statements) == 1 and "intake_store_new_return_keyed" in statements[0], statements

    twin, twin_key = rid + "-T", uid("K")
    twin_body = {**body, "return_id": twin, "awb": body["awb"] + "-T"}
    with monkeypatch.context() as patched:
        patched.setattr(feed, "accept_new_return", _declined)
        r = await intake.client.post(
            "/v1/returns",
            json=twin_body,
            headers=marketplace(harness, **{"Idempotency-Key": twin_key}),
        )
    assert r.status_code == 202, r.text
    second = r.json()
    one, other = await stored_rows(intake, rid), await stored_rows(intake, twin)
    swap = {rid: twin, body["awb"]: twin_body["awb"], first["event_id"]: second["event_id"]}

    def as_twin(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: as_twin(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return type(value)(as_twin(v) for v in value)
        return swap.get(value, value) if isinstance(value, str) else value

    for table in ("returns", "outbox", "return_events"):
        assert len(one[table]) == 1 and len(other[table]) == 1, table
        assert as_twin(one[table][0]) == other[table][0], table
    keys = (
        "SELECT client_id, route, response_status, response_body, created_at IS NOT NULL,"
        " completed_at >= created_at FROM idempotency_keys WHERE key = :k"
    )
    mine, theirs = await rows(intake, keys, k=key), await rows(intake, keys, k=twin_key)
    assert len(mine) == 1 and as_twin(tuple(mine[0])) == tuple(theirs[0])
    assert tuple(mine[0])[2:4] == (202, first)
    assert tuple(mine[0])[5] is True  # completed no earlier than created

    # Resent under the key: the stored answer; with another body: 422 naming the key.
    again = await intake.client.post(
        "/v1/returns", json=body, headers=marketplace(harness, **{"Idempotency-Key": key})
    )
    assert again.status_code == 202 and again.json() == first, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = await intake.client.post(
        "/v1/returns",
        json={**body, "item_value": 1},
        headers=marketplace(harness, **{"Idempotency-Key": key}),
    )
    assert changed.status_code == 422, changed.text
    assert await scalar(intake, "SELECT count(*) FROM outbox WHERE key = :r", r=rid) == 1

    # A known return under a new key: the call wrote nothing (its key's row deleted again) and
    # the transaction answered the duplicate, storing that answer on the key.
    resend_key = uid("K")
    r = await intake.client.post(
        "/v1/returns", json=body, headers=marketplace(harness, **{"Idempotency-Key": resend_key})
    )
    assert r.status_code == 202 and r.json() == {**first, "duplicate": True}, r.text
    assert await rows(
        intake, "SELECT response_body FROM idempotency_keys WHERE key = :k", k=resend_key
    ) == [({**first, "duplicate": True},)]


async def test_a_keyed_return_with_a_held_escalation_leaves_its_key_to_the_transaction(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid, key = uid("RET"), uid("K")
    held = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert held.status_code == 202, held.text
    log = StatementLog(intake.runtime.engine)
    with log.counting() as statements:
        r = await intake.client.post(
            "/v1/returns",
            json=return_body(rid),
            headers=marketplace(harness, **{"Idempotency-Key": key}),
        )
    assert r.status_code == 202 and r.json()["duplicate"] is False, r.text
    assert "intake_store_new_return_keyed" in statements[0], statements
    assert any("INSERT INTO returns" in s for s in statements[1:]), statements
    assert await rows(
        intake, "SELECT response_status, response_body FROM idempotency_keys WHERE key = :k", k=key
    ) == [(202, r.json())]
    state = await scalar(
        intake,
        "SELECT state FROM escalations WHERE escalation_id = :e",
        e=held.json()["escalation_id"],
    )
    assert state == "filed"


async def test_concurrent_keyed_twins_store_one_return(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid, key = uid("RET"), uid("K")
    body = return_body(rid)
    burst = await asyncio.gather(
        *(
            intake.client.post(
                "/v1/returns", json=body, headers=marketplace(harness, **{"Idempotency-Key": key})
            )
            for _ in range(6)
        )
    )
    # Every twin waits on the key for the first call to end and gets its stored answer: never
    # 409 "in flight" (docs/security.md), one return.
    assert all(r.status_code == 202 for r in burst), [(r.status_code, r.text[:200]) for r in burst]
    assert all(r.json() == burst[0].json() for r in burst), [r.text[:200] for r in burst]
    assert burst[0].json()["duplicate"] is False
    assert await scalar(intake, "SELECT count(*) FROM outbox WHERE key = :r", r=rid) == 1
