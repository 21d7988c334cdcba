"""The webhooks' statement sender (`services/intake/partners/batching.py`) with the statement
replaced: who goes with whom, and what each request is told when a statement fails. What the
statement writes is held on the real database (tests/integration/test_webhook_group_commit.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from services.intake.partners import batching, repository
from services.intake.partners.batching import OwnedScanStatements
from services.intake.partners.repository import OwnedRecord, OwnedScans


def _request(scans: int = 1) -> OwnedScans:
    raw_id = uuid.uuid4()
    return OwnedScans(
        rows=[{"partner_event_id": f"{raw_id}-{n}", "raw_ref": raw_id} for n in range(scans)],
        raw_id=raw_id,
        partner_id="swiftship",
        request_key=raw_id.hex,
        received_at=datetime.now(UTC),
        headers={},
        body=b"{}",
        outcomes=[],
    )


class FakeStatement:
    """Stands in for `record_owned_scans`: records each statement's requests, answers every
    request owned with its own event ids, and fails as told."""

    def __init__(self) -> None:
        self.sent: list[list[uuid.UUID]] = []
        self.fail: dict[uuid.UUID, BaseException] = {}

    async def __call__(self, engine: Any, requests: list[OwnedScans]) -> list[OwnedRecord | None]:
        self.sent.append([r.raw_id for r in requests])
        await asyncio.sleep(0)  # in flight: the loop runs others meanwhile
        for r in requests:
            if r.raw_id in self.fail:
                raise self.fail[r.raw_id]
        return [
            OwnedRecord(frozenset(row["partner_event_id"] for row in r.rows), r.raw_id)
            for r in requests
        ]


@asynccontextmanager
async def _no_connection(engine: Any) -> AsyncIterator[None]:
    """Stands in for the pool's checkout (`shared.pooled.driver_connection`): the statement
    is fake, so it needs no connection."""
    yield None


@pytest.fixture
def statement(monkeypatch: pytest.MonkeyPatch) -> FakeStatement:
    fake = FakeStatement()
    monkeypatch.setattr(repository, "record_owned_scans", fake)
    monkeypatch.setattr(batching, "driver_connection", _no_connection)
    return fake


async def test_an_idle_sender_sends_a_request_at_once_alone(statement: FakeStatement) -> None:
    sender = OwnedScanStatements(engine=None)  # type: ignore[arg-type]
    one = _request()
    assert (await sender.record(one)).events == {f"{one.raw_id}-0"}
    assert statement.sent == [[one.raw_id]]


async def test_requests_arriving_while_one_is_in_flight_go_together_next(
    statement: FakeStatement,
) -> None:
    sender = OwnedScanStatements(engine=None)  # type: ignore[arg-type]
    first = asyncio.create_task(sender.record(_request()))
    await asyncio.sleep(0)  # the first request's statement is sent
    await asyncio.sleep(0)
    assert len(statement.sent) == 1
    later = [_request() for _ in range(3)]
    answers = await asyncio.gather(first, *(sender.record(r) for r in later))
    assert statement.sent[1] == [r.raw_id for r in later]
    assert [a.events for a in answers[1:] if a] == [{f"{r.raw_id}-0"} for r in later]


async def test_the_scan_bound_splits_what_waits_but_never_holds_back_a_large_request(
    statement: FakeStatement,
) -> None:
    gate = asyncio.Semaphore(1)
    sender = OwnedScanStatements(engine=None, gate=gate, max_scans=4)  # type: ignore[arg-type]
    requests = [_request(3), _request(1), _request(6), _request(2)]
    await gate.acquire()
    tasks = [asyncio.create_task(sender.record(r)) for r in requests]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*tasks)
    assert [len(s) for s in statement.sent] == [2, 1, 1]


async def test_a_refused_statement_is_retried_request_by_request(
    statement: FakeStatement,
) -> None:
    gate = asyncio.Semaphore(1)
    sender = OwnedScanStatements(engine=None, gate=gate)  # type: ignore[arg-type]
    requests = [_request() for _ in range(3)]
    statement.fail[requests[1].raw_id] = asyncpg.DeadlockDetectedError("deadlock detected")
    await gate.acquire()
    tasks = [asyncio.create_task(sender.record(r)) for r in requests]
    await asyncio.sleep(0)
    gate.release()
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(answers[1], asyncpg.DeadlockDetectedError)
    assert answers[0] == OwnedRecord(frozenset({f"{requests[0].raw_id}-0"}), requests[0].raw_id)
    assert answers[2] == OwnedRecord(frozenset({f"{requests[2].raw_id}-0"}), requests[2].raw_id)
    assert [len(s) for s in statement.sent] == [3, 1, 1, 1]


async def test_a_lost_connection_fails_its_statement_requests_and_the_next_still_go(
    statement: FakeStatement,
) -> None:
    """Whether a statement whose connection broke committed is unknown: its requests fail (the
    partner retries; the event's unique key makes the retry safe), and are not sent again."""
    gate = asyncio.Semaphore(1)
    sender = OwnedScanStatements(engine=None, gate=gate)  # type: ignore[arg-type]
    broken = [_request() for _ in range(2)]
    statement.fail[broken[0].raw_id] = ConnectionResetError("connection lost")
    await gate.acquire()
    tasks = [asyncio.create_task(sender.record(r)) for r in broken]
    await asyncio.sleep(0)
    gate.release()
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(a, ConnectionResetError) for a in answers)
    after = _request()
    assert (await sender.record(after)).events == {f"{after.raw_id}-0"}
    assert [len(s) for s in statement.sent] == [2, 1]


async def test_a_request_gone_away_leaves_its_neighbours_answered(
    statement: FakeStatement,
) -> None:
    gate = asyncio.Semaphore(1)
    sender = OwnedScanStatements(engine=None, gate=gate)  # type: ignore[arg-type]
    requests = [_request() for _ in range(3)]
    await gate.acquire()
    tasks = [asyncio.create_task(sender.record(r)) for r in requests]
    await asyncio.sleep(0)
    tasks[0].cancel()  # its client closed the connection
    gate.release()
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(answers[0], asyncio.CancelledError)
    assert [a.events for a in answers[1:]] == [{f"{r.raw_id}-0"} for r in requests[1:]]


async def test_a_small_request_never_waits_for_a_large_ones_statement(
    statement: FakeStatement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500-scan batch's statement takes many single scans' time; a single scan arriving
    while it is in flight goes in a statement of its own at once."""
    released = asyncio.Event()

    async def slow_for_large(engine: Any, requests: list[OwnedScans]) -> list[OwnedRecord | None]:
        if any(len(r.rows) > 2 for r in requests):
            await released.wait()  # the large statement, still in flight
        return await statement(engine, requests)

    monkeypatch.setattr(repository, "record_owned_scans", slow_for_large)
    sender = OwnedScanStatements(engine=None, bulk_scans=2)  # type: ignore[arg-type]
    large = asyncio.create_task(sender.record(_request(3)))
    await asyncio.sleep(0)
    small = _request()
    assert (await asyncio.wait_for(sender.record(small), 1)).events == {f"{small.raw_id}-0"}
    assert not large.done()
    # Small requests still share their statements with each other.
    first = asyncio.create_task(sender.record(_request()))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    together = [_request(), _request()]
    await asyncio.gather(first, *(sender.record(r) for r in together))
    assert statement.sent[-1] == [r.raw_id for r in together]
    released.set()
    assert len((await large).events) == 3
