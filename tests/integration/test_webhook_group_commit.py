"""Common webhooks that arrive while their statement is in flight share the next one
(`services/intake/partners/batching.py`); on the real database, each request of a shared
statement is judged and written as if it had gone alone."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import event as sqla_event

from services.intake.partners import repository, service
from services.intake.partners.batching import OwnedScanStatements
from services.intake.partners.registry import ADAPTERS
from shared.db import make_engine
from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import awb_of, swiftship_event, uid
from tests.support.feed import feed_return


def _delivery(rid: str, webhook_id: str, status: str = "return.at_hub") -> service.Delivery:
    return service.parse(
        partner_id="swiftship",
        adapter=ADAPTERS["swiftship"],
        headers={"webhook-id": webhook_id},
        body=swiftship_event(rid, status),
        received_at=datetime.now(UTC),
    )


class CountedStatements:
    """`record_owned_scans` as sent: how many requests each statement carried."""

    def __init__(self, monkeypatch: Any) -> None:
        self.sizes: list[int] = []
        original = repository.record_owned_scans

        async def counted(engine: Any, requests: Any) -> Any:
            self.sizes.append(len(requests))
            return await original(engine, requests)

        monkeypatch.setattr(repository, "record_owned_scans", counted)


async def _together(
    statements: OwnedScanStatements, gate: asyncio.Semaphore, deliveries: list[service.Delivery]
) -> list[Any]:
    """The deliveries given while the statements' slot is taken, so that they are all waiting
    when it frees: whatever the machine's speed, they go in one statement."""
    await gate.acquire()
    tasks = [asyncio.create_task(service.ingest_owned(statements, d)) for d in deliveries]
    # One turn of the loop runs each task up to its wait: it enqueues its request first.
    await asyncio.sleep(0)
    assert statements.waiting == len(deliveries)
    gate.release()
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_webhooks_waiting_together_share_one_statement_each_judged_alone(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """Four owned scans, one of them sent twice (a redelivery racing its original), and a scan
    of a return the feed has not announced, all in one statement: the owned ones are written
    once each with one outbox row, the repeat is a duplicate, the unannounced one writes
    nothing and goes back to its caller for the transactional path."""
    intake = pipeline["intake"]
    gate = asyncio.Semaphore(1)
    statements = OwnedScanStatements(intake.runtime.engine, gate=gate)
    counted = CountedStatements(monkeypatch)
    rids = [uid("RET") for _ in range(4)]
    for rid in rids:
        await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    ids = [uid("msg") for _ in rids]
    unannounced = uid("RET")
    deliveries = [
        *(_delivery(rid, webhook_id) for rid, webhook_id in zip(rids, ids, strict=True)),
        _delivery(rids[0], ids[0]),  # the same partner event again
        _delivery(unannounced, uid("msg")),
    ]

    results = await _together(statements, gate, deliveries)

    assert counted.sizes == [6]
    assert [(r.accepted, r.duplicates) for r in results[:5]] == [(1, 0)] * 4 + [(0, 1)]
    assert results[5] is None
    for rid in rids:
        assert (
            await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
            == 1
        )
        assert (
            await scalar(
                intake,
                "SELECT count(*) FROM outbox WHERE key = :r "
                "AND ce_type = 'disputedesk.intake.return_shipment_event.v1'",
                r=rid,
            )
            == 1
        )
    archived = await rows(
        intake,
        "SELECT id, verdict, events_emitted FROM raw_requests WHERE id = ANY(:ids)",
        ids=[d.raw_id for d in deliveries],
    )
    assert sorted((v, n) for _, v, n in archived) == sorted(
        [("accepted", 1)] * 4 + [("duplicate", 0)]
    )
    assert deliveries[5].raw_id not in {raw_id for raw_id, _, _ in archived}
    assert (
        await scalar(
            intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=unannounced
        )
        == 0
    )


async def test_a_statement_the_database_refuses_is_retried_request_by_request(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """One request of a shared statement carries what PostgreSQL refuses (here an event type
    longer than its column): the statement is rolled back whole, and each request then goes
    alone, so the others are written and only that one fails."""
    intake = pipeline["intake"]
    gate = asyncio.Semaphore(1)
    statements = OwnedScanStatements(intake.runtime.engine, gate=gate)
    rids = [uid("RET") for _ in range(3)]
    for rid in rids:
        await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    deliveries = [_delivery(rid, uid("msg")) for rid in rids]
    bad = deliveries[1]
    assert bad.built is not None
    event, row = bad.built[0]
    deliveries[1] = dataclasses.replace(bad, built=[(event, {**row, "event_type": "E" * 100})])

    results = await _together(statements, gate, deliveries)

    assert isinstance(results[1], asyncpg.PostgresError)
    assert [(r.accepted, r.duplicates) for r in (results[0], results[2])] == [(1, 0), (1, 0)]
    for rid in (rids[0], rids[2]):
        assert (
            await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
            == 1
        )
    assert (
        await scalar(intake, "SELECT count(*) FROM raw_requests WHERE id = :r", r=bad.raw_id) == 0
    )


async def test_a_statement_carries_no_more_scans_than_its_bound(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """The bound on a statement's scans splits what is waiting; every request is still
    answered, each in a statement of its own here."""
    intake = pipeline["intake"]
    gate = asyncio.Semaphore(1)
    statements = OwnedScanStatements(intake.runtime.engine, gate=gate, max_scans=1)
    counted = CountedStatements(monkeypatch)
    rids = [uid("RET") for _ in range(3)]
    for rid in rids:
        await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))

    results = await _together(statements, gate, [_delivery(rid, uid("msg")) for rid in rids])

    assert counted.sizes == [1, 1, 1]
    assert [r.accepted for r in results] == [1, 1, 1]


async def test_statements_sent_back_to_back_share_one_pooled_connection(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """Requests that arrive while a statement is in flight go in the next one, on the same
    connection: one checkout of the pool for both (the checkout and return cost the process
    about as much as the statement's round trip). A transaction waiting for a slot of the gate gets
    it between two statements, and the next statement then takes a connection of its own."""
    intake = pipeline["intake"]
    # An engine of its own: the pipeline's relay and loops check connections out meanwhile.
    engine = make_engine(harness.env["INTAKE_DATABASE_URL"])
    checkouts: list[int] = []

    def checked_out(*_: Any) -> None:
        checkouts.append(1)

    sqla_event.listen(engine.sync_engine.pool, "checkout", checked_out)
    original = repository.record_owned_scans
    sent: list[int] = []
    in_flight, go_on = asyncio.Event(), asyncio.Event()

    async def first_held(connection: Any, requests: Any) -> Any:
        sent.append(len(requests))
        if len(sent) in (1, 3):  # the first statement of each part, held in flight
            in_flight.set()
            await go_on.wait()
        return await original(connection, requests)

    monkeypatch.setattr(repository, "record_owned_scans", first_held)

    async def scans(n: int) -> list[service.Delivery]:
        rids = [uid("RET") for _ in range(n)]
        for rid in rids:
            await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
        return [_delivery(rid, uid("msg")) for rid in rids]

    async def burst(
        statements: OwnedScanStatements, deliveries: list[service.Delivery]
    ) -> list[Any]:
        """The first delivery's statement in flight while the others arrive."""
        in_flight.clear()
        go_on.clear()
        first = asyncio.create_task(service.ingest_owned(statements, deliveries[0]))
        await in_flight.wait()
        rest = [asyncio.create_task(service.ingest_owned(statements, d)) for d in deliveries[1:]]
        await asyncio.sleep(0)
        assert statements.waiting == len(rest)
        return [first, *rest]

    try:
        tasks = await burst(OwnedScanStatements(engine, gate=asyncio.Semaphore(4)), await scans(4))
        go_on.set()
        results = await asyncio.gather(*tasks)
        assert sent == [1, 3]
        assert [r.accepted for r in results] == [1, 1, 1, 1]
        assert len(checkouts) == 1

        # A transaction waits for the gate's one slot while the first statement is in flight.
        gate = asyncio.Semaphore(1)
        tasks = await burst(OwnedScanStatements(engine, gate=gate), await scans(3))
        statements_before: list[int] = []

        async def transaction() -> None:
            async with gate:
                statements_before.append(len(sent))

        waiting = asyncio.create_task(transaction())
        await asyncio.sleep(0)
        go_on.set()
        results = await asyncio.gather(*tasks, waiting)
        assert statements_before == [3]  # after the held statement, before the next
        assert sent == [1, 3, 1, 2]
        assert [r.accepted for r in results[:3]] == [1, 1, 1]
        assert len(checkouts) == 3
    finally:
        sqla_event.remove(engine.sync_engine.pool, "checkout", checked_out)
        await engine.dispose()
