"""The common escalation, on a return the feed named as the filing's seller's, is one
autocommitted call (`intake_file_escalation`, `escalations.repository.file_alone`): the
`Idempotency-Key`'s row stored completed with the answer, the escalation, its outbox row and
history line, with no claim statement, BEGIN, completion or COMMIT of the request's. What it
writes is what the transactional path writes; a key used before, a return not fed yet and
another seller's return take the transaction, and the call wrote nothing before it. On the real
stack, through intake's public API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.intake.escalations import service as escalations
from tests.conftest import Harness
from tests.integration.test_webhook_round_trips import StatementLog
from tests.support.db import rows, scalar
from tests.support.factories import escalation_body, return_body, uid

ESCALATIONS = (
    "SELECT escalation_id, return_id, seller_id, claim_type, claimed_amount, description,"
    " evidence, received_weight_g, channel, filed_by, filed_at, seller_contact IS NULL, state,"
    " refused_reason, resolved_at, appealed_at FROM escalations WHERE return_id = :r"
)


def portal(harness: Harness, **extra: str) -> dict[str, str]:
    return {**harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"), **extra}


async def announce(intake: Any, harness: Harness, rid: str) -> None:
    r = await intake.client.post(
        "/v1/returns", json=return_body(rid), headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text


async def stored_rows(intake: Any, rid: str, key: str | None) -> dict[str, Any]:
    """The rows a filing writes, whole (the test names what differs between two filings)."""
    outbox = (
        "SELECT ce_type, ce_source, ce_subject, topic, key, payload, traceparent IS NULL"
        " FROM outbox WHERE ce_type = 'disputedesk.intake.seller_escalation_filed.v1'"
        " AND key = :r"
    )
    logged = "SELECT ce_type, occurred_at, recorded_at, payload FROM return_events"
    logged += " WHERE return_id = :r AND ce_type LIKE '%escalation%'"
    keys = (
        "SELECT client_id, route, request_hash IS NOT NULL, response_status, response_body,"
        " created_at IS NOT NULL, completed_at >= created_at FROM idempotency_keys WHERE key = :k"
    )
    return {
        "escalations": [tuple(r) for r in await rows(intake, ESCALATIONS, r=rid)],
        "outbox": [tuple(r) for r in await rows(intake, outbox, r=rid)],
        "return_events": [tuple(r) for r in await rows(intake, logged, r=rid)],
        "idempotency_keys": [tuple(r) for r in await rows(intake, keys, k=key)] if key else [],
    }


def as_other(value: Any, swap: dict[Any, Any]) -> Any:
    """`value` with every id and instant of one filing put as the other's."""
    if isinstance(value, dict):
        return {k: as_other(v, swap) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(as_other(v, swap) for v in value)
    return swap.get(value, value)


async def test_a_keyed_filing_is_one_call_and_writes_what_the_transaction_writes(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = pipeline["intake"]
    rid, twin = uid("RET"), uid("RET")
    await announce(intake, harness, rid)
    await announce(intake, harness, twin)
    body = escalation_body(rid)
    key, twin_key = uid("K"), uid("K")
    log = StatementLog(intake.runtime.engine)
    with log.counting() as statements:
        r = await intake.client.post(
            "/v1/escalations", json=body, headers=portal(harness, **{"Idempotency-Key": key})
        )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["state"] == "filed"
    # One statement, sent to asyncpg itself outside a transaction (main sent the key's claim,
    # the filing and the completion, the last two in a transaction of the request's).
    assert statements == log.through_driver, statements
    assert len(statements) == 1 and "intake_file_escalation" in statements[0], statements

    # The twin through the transaction (the call declining, as for a key used before): the same
    # rows, but for the ids and instants of each filing.
    async def declined(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as patched:
        patched.setattr(escalations, "file_escalation_alone", declined)
        r = await intake.client.post(
            "/v1/escalations",
            json={**body, "return_id": twin},
            headers=portal(harness, **{"Idempotency-Key": twin_key}),
        )
    assert r.status_code == 201, r.text
    second = r.json()
    one, other = await stored_rows(intake, rid, key), await stored_rows(intake, twin, twin_key)
    for table in one:
        assert len(one[table]) == 1 and len(other[table]) == 1, (table, one, other)
    (row,), (twin_row,) = one["escalations"], other["escalations"]
    (logged,), (twin_logged,) = one["return_events"], other["return_events"]
    swap = {
        rid: twin,
        first["escalation_id"]: second["escalation_id"],
        first["filed_at"]: second["filed_at"],
        row[10]: twin_row[10],  # filed_at
        logged[1]: twin_logged[1],  # occurred_at
        logged[2]: twin_logged[2],  # recorded_at
    }
    for table in one:
        assert as_other(one[table][0], swap) == other[table][0], table
    # The stored answer is the answer given, and the row's instants are the filing's.
    assert one["idempotency_keys"][0][3:5] == (201, first)
    assert one["idempotency_keys"][0][6] is True  # completed no earlier than created
    assert row[0] == first["escalation_id"] and row[10].isoformat() == first["filed_at"].replace(
        "Z", "+00:00"
    )

    # Resent: the stored answer, no second escalation; with another body: 422 naming the key.
    again = await intake.client.post(
        "/v1/escalations", json=body, headers=portal(harness, **{"Idempotency-Key": key})
    )
    assert again.status_code == 201 and again.json() == first, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = await intake.client.post(
        "/v1/escalations",
        json={**body, "claimed_amount": 1},
        headers=portal(harness, **{"Idempotency-Key": key}),
    )
    assert changed.status_code == 422, changed.text
    assert "header.Idempotency-Key" in {e["field"] for e in changed.json()["errors"]}
    assert await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=rid) == 1


async def test_concurrent_twins_under_one_key_file_one_escalation(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    await announce(intake, harness, rid)
    body, key = escalation_body(rid), uid("K")
    burst = await asyncio.gather(
        *(
            intake.client.post(
                "/v1/escalations", json=body, headers=portal(harness, **{"Idempotency-Key": key})
            )
            for _ in range(6)
        )
    )
    # Every twin waits on the key for the first call to end and gets its stored answer: never
    # 409 "in flight" (docs/security.md), one escalation.
    assert all(r.status_code == 201 for r in burst), [(r.status_code, r.text[:200]) for r in burst]
    assert all(r.json() == burst[0].json() for r in burst), [r.text[:200] for r in burst]
    assert await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=rid) == 1
    assert (
        await scalar(
            intake,
            "SELECT count(*) FROM outbox WHERE key = :r AND ce_type LIKE '%escalation_filed%'",
            r=rid,
        )
        == 1
    )


async def test_an_unkeyed_filing_is_one_call_and_leaves_no_key(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    await announce(intake, harness, rid)
    before = await scalar(intake, "SELECT count(*) FROM idempotency_keys")
    log = StatementLog(intake.runtime.engine)
    with log.counting() as statements:
        r = await intake.client.post(
            "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
        )
    assert r.status_code == 201, r.text
    assert len(statements) == 1 and "intake_file_escalation" in statements[0], statements
    assert await scalar(intake, "SELECT count(*) FROM idempotency_keys") == before
    assert await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=rid) == 1


async def test_a_filing_the_call_declines_is_answered_by_the_transaction(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    # Not fed yet: held (202) by the transaction, the call having written nothing.
    held_rid, key = uid("RET"), uid("K")
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(held_rid),
        headers=portal(harness, **{"Idempotency-Key": key}),
    )
    assert r.status_code == 202 and r.json()["state"] == "pending_return", r.text
    assert (
        await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=held_rid)
        == 1
    )
    assert (
        await scalar(intake, "SELECT response_status FROM idempotency_keys WHERE key = :k", k=key)
        == 202
    )

    # Another seller's return: 404 as an unknown id, nothing stored, the key free again.
    other_rid, other_key = uid("RET"), uid("K")
    fed = await intake.client.post(
        "/v1/returns",
        json=return_body(other_rid, seller_id="S-SOMEONE-ELSE"),
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert fed.status_code == 202, fed.text
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(other_rid),
        headers=portal(harness, **{"Idempotency-Key": other_key}),
    )
    assert r.status_code == 404, r.text
    assert (
        await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=other_rid)
        == 0
    )
    assert (
        await scalar(intake, "SELECT count(*) FROM idempotency_keys WHERE key = :k", k=other_key)
        == 0
    )
