"""How many of intake's requests hold a pooled connection at once: the pool's size, less a
headroom for the rest of the process (the outbox relay, the partner directory's refresh, the
hold-window sweep).

More would each check out an overflow connection, which the pool closes as soon as it comes
back (its queue is full), so every burst above the pool's size paid a new connection per
request: the connect with its TLS attempt and authentication, and every statement prepared
again on it. A request beyond the gate waits for a slot instead, a statement's or a short
transaction's time. One gate for the webhook's statement and for the transactions of the feed
and of escalations: they draw on the same pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import ServiceRuntime
from shared.db import request_session

# Pooled connections the gated requests leave to the rest of the process.
POOL_HEADROOM = 2


def connection_gate(request: Request) -> asyncio.Semaphore:
    """The process's gate, made on first use from the pool's size."""
    runtime: ServiceRuntime = request.app.state.runtime
    gate = runtime.extras.get("connection_gate")
    if gate is None:
        slots = max(1, runtime.settings.database_pool_size - POOL_HEADROOM)
        gate = runtime.extras["connection_gate"] = asyncio.Semaphore(slots)
    assert isinstance(gate, asyncio.Semaphore)
    return gate


async def gated_session(request: Request) -> AsyncIterator[AsyncSession]:
    """`shared.db.get_session` within a slot of the gate: the request's transaction holds one
    pooled connection from its first statement to its commit, so it takes its slot for that
    long. The idempotency claim's own autocommitted statement runs inside the slot too, before
    the transaction's first statement, so a request never holds two connections at once."""
    async with connection_gate(request), request_session(request) as session:
        yield session


# As `shared.db.DbSession`, committed before the response is sent.
GatedSession = Annotated[AsyncSession, Depends(gated_session, scope="function")]
