"""The common webhooks' statements, grouped: while one is in flight, the webhooks that arrive
wait for it and then go together in the next (group commit).

Each statement (`repository.record_owned_scans`) is a round trip and a commit, PostgreSQL's
parse, plan and WAL flush, and a wake-up of the event loop, whatever it carries; under load,
requests that would each have paid them share one. No request waits for company: an idle
process sends a webhook's statement at once, and one arriving meanwhile waits at most for the
statement in flight. A request is answered only after the statement that carried it committed,
and each request of a statement is still all or nothing on its own (see the statement).

One statement in flight per lane: the ones after it carry what arrived meanwhile, so the
webhooks hold at most two pooled connections between them (taken through the connection gate,
as the feed's and the escalations' transactions are) instead of one each. Large requests (a
partner's batch) have a lane of their own, so that a small one never waits for a large one's
statement. Statements sent back to back go on one pooled connection, checked out once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from asyncpg import PostgresError
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.connection_gate import connection_gate
from services.intake.partners import repository
from services.intake.partners.repository import OwnedRecord, OwnedScans
from shared.app import ServiceRuntime
from shared.pooled import driver_connection

Recorded = OwnedRecord | None


class OwnedScanStatements:
    """Sends `record_owned_scans` for the requests given to `record`, several at a time, in two
    lanes: requests of up to `bulk_scans` scans in one, larger ones in the other.

    Each lane has one statement in flight. A small request never waits behind a large one: a
    500-scan batch's statement takes many times a single scan's, and with one lane every
    webhook arriving meanwhile waited for all of it (docs/cpu-journal.md, "Webhooks behind a
    batch").
    The small requests keep sharing their statements as before; the large ones share theirs.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        gate: asyncio.Semaphore | None = None,
        max_scans: int = 500,
        bulk_scans: int = 50,
    ) -> None:
        gate = gate if gate is not None else asyncio.Semaphore(2)
        self._small = _Lane(engine, gate, max_scans)
        self._bulk = _Lane(engine, gate, max_scans)
        self._bulk_scans = bulk_scans

    async def record(self, scans: OwnedScans) -> Recorded:
        """The partner event ids recorded now and the archived copy answering for the request,
        or None if the statement did not take it (nothing of this request written); raises
        what the statement raised."""
        lane = self._bulk if len(scans.rows) > self._bulk_scans else self._small
        return await lane.record(scans)

    @property
    def waiting(self) -> int:
        """How many requests wait for their statement, in both lanes."""
        return len(self._small._waiting) + len(self._bulk._waiting)


class _Lane:
    """One statement in flight; the requests that arrive meanwhile go together in the next."""

    def __init__(self, engine: AsyncEngine, gate: asyncio.Semaphore, max_scans: int) -> None:
        self._engine = engine
        self._gate = gate
        # Bounds one statement's document: a request always goes, those after it only while
        # the scans together stay within this.
        self._max_scans = max_scans
        self._waiting: list[tuple[OwnedScans, asyncio.Future[Recorded]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def record(self, scans: OwnedScans) -> Recorded:
        answer: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._waiting.append((scans, answer))
        if self._sender is None:
            # A task of its own: a request that goes away (its client closed) must not take
            # the other requests' statement with it.
            self._sender = asyncio.create_task(self._send_waiting())
        return await answer

    async def _send_waiting(self) -> None:
        try:
            while self._waiting:
                async with self._gate:
                    await self._send_back_to_back()
        finally:
            self._sender = None
            for _, answer in self._waiting:  # only if cancelled (the process stopping)
                answer.cancel()
            self._waiting = []

    def _next_batch(self) -> list[tuple[OwnedScans, asyncio.Future[Recorded]]]:
        taken, scans = 0, 0
        for request, _ in self._waiting:
            if taken and scans + len(request.rows) > self._max_scans:
                break
            taken += 1
            scans += len(request.rows)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return batch

    async def _send_back_to_back(self) -> None:
        """Statements on one pooled connection for as long as requests keep arriving while the
        last is in flight and the gate has a free slot (a full gate may have a transaction
        waiting for one).

        Checking a connection out of the pool and back in (SQLAlchemy's pool, in greenlets)
        costs the process about as much as the statement's own round trip (`docs/cpu.md`);
        under load the next statement is due the moment the last one answers. The connection
        goes back as soon as the lane is idle, and before the next statement whenever the gate
        is full (a transaction may be waiting for a slot; `Semaphore` cannot say whether one
        is), so the gate stays fair. A failed statement ends the run
        first: the connection is returned (or, broken, invalidated) before its requests are
        handled.
        """
        # Taken once the slot is: requests that came while it was awaited go too.
        batch = self._next_batch()
        try:
            async with driver_connection(self._engine) as connection:
                while True:
                    results = await repository.record_owned_scans(
                        connection, [request for request, _ in batch]
                    )
                    _answer(batch, results)
                    if not self._waiting or self._gate.locked():
                        return
                    batch = self._next_batch()
        except Exception as exc:
            await self._failed(batch, exc)
        except asyncio.CancelledError:  # the process stopping
            for _, answer in batch:
                answer.cancel()
            raise

    async def _send(self, batch: Sequence[tuple[OwnedScans, asyncio.Future[Recorded]]]) -> None:
        """One statement on a connection of its own (a refused statement's requests, alone)."""
        try:
            async with driver_connection(self._engine) as connection:
                results = await repository.record_owned_scans(
                    connection, [request for request, _ in batch]
                )
        except Exception as exc:
            await self._failed(batch, exc)
            return
        except asyncio.CancelledError:  # the process stopping
            for _, answer in batch:
                answer.cancel()
            raise
        _answer(batch, results)

    async def _failed(
        self, batch: Sequence[tuple[OwnedScans, asyncio.Future[Recorded]]], error: Exception
    ) -> None:
        """What the requests of a failed statement are told."""
        if isinstance(error, PostgresError) and len(batch) > 1:
            # The database refused the statement and rolled it back whole (a deadlock with
            # another replica's, a value one request carries): each request alone, so that
            # one request's fault is not its neighbours'.
            for one in batch:
                await self._send([one])
            return
        # A request refused alone gets its refusal. Anything else lost the connection: whether
        # the statement committed is unknown.
        for _, answer in batch:
            _settle(answer, error)


def _answer(
    batch: Sequence[tuple[OwnedScans, asyncio.Future[Recorded]]], results: Sequence[Recorded]
) -> None:
    for (_, answer), result in zip(batch, results, strict=True):
        if not answer.done():  # a request cancelled meanwhile
            answer.set_result(result)


def _settle(answer: asyncio.Future[Recorded], exc: Exception) -> None:
    if not answer.done():  # a request cancelled meanwhile has no one to tell
        answer.set_exception(exc)


def owned_scan_statements(request: Request) -> OwnedScanStatements:
    """The process's sender, made on first use."""
    runtime: ServiceRuntime = request.app.state.runtime
    statements = runtime.extras.get("owned_scan_statements")
    if statements is None:
        statements = runtime.extras["owned_scan_statements"] = OwnedScanStatements(
            runtime.engine,
            gate=connection_gate(request),
            max_scans=request.app.state.settings.webhook_statement_max_scans,
            bulk_scans=request.app.state.settings.webhook_statement_bulk_scans,
        )
    assert isinstance(statements, OwnedScanStatements)
    return statements
