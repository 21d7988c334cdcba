"""A request that enqueued events wakes its service's outbox relay once it has committed, so the
events go out now instead of at the relay's next poll; a read, or a request that failed, does
not (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from sqlalchemy import text
from sqlalchemy.orm import DeclarativeBase

from shared.db import DbSession, make_engine, make_sessionmaker, request_session
from shared.events import ReturnInitiated
from shared.outbox import OutboxMixin, enqueue
from tests.conftest import Harness


class Base(DeclarativeBase):
    pass


class WakeOutbox(OutboxMixin, Base):
    __tablename__ = "wake_outbox"


def _event() -> ReturnInitiated:
    rid = f"RET-WAKE-{uuid.uuid4().hex[:6]}"
    return ReturnInitiated(
        return_id=rid,
        order_id=f"O-{rid}",
        seller_id="S-1",
        buyer_id="B-1",
        category="electronics",
        item_value=100_000,
        qc_required=False,
        partner_id="swiftship",
        awb=f"AWB-{rid}",
        initiated_at=datetime.now(UTC),
    )


class _Relay:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.rows_seen: list[int] = []
        self.looks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self.looks.append(asyncio.create_task(self._look()))

    async def _look(self) -> None:
        # What the relay would find: only committed rows are visible to its connection.
        async with self.engine.connect() as conn:
            self.rows_seen.append(
                (await conn.execute(text("SELECT count(*) FROM wake_outbox"))).scalar_one()
            )


@pytest.mark.parametrize("opened", ["dependency", "by_the_path"])
async def test_a_committed_request_that_enqueued_wakes_the_relay(
    harness: Harness, opened: str
) -> None:
    """The same for the `DbSession` dependency and for a path that opens the request's session
    only when it needs one (`request_session`, intake's webhook): one implementation."""
    db = f"test_request_wakes_{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(harness.stack.postgres.create_database, db)
    engine = make_engine(harness.stack.postgres.database_url(db))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    relay = _Relay(engine)
    app = FastAPI()
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.runtime = SimpleNamespace(relay=relay)

    if opened == "dependency":

        @app.post("/events")
        async def record(session: DbSession) -> dict[str, str]:
            enqueue(session, WakeOutbox, _event(), source="test")
            return {"ok": "yes"}

        @app.get("/events")
        async def read(session: DbSession) -> dict[str, int]:
            n = (await session.execute(text("SELECT count(*) FROM wake_outbox"))).scalar_one()
            return {"n": n}

        @app.post("/refused")
        async def refused(session: DbSession) -> None:
            enqueue(session, WakeOutbox, _event(), source="test")
            raise HTTPException(409, "refused after enqueueing")

    else:

        @app.post("/events")
        async def record_own(request: Request) -> dict[str, str]:
            async with request_session(request) as session:
                enqueue(session, WakeOutbox, _event(), source="test")
            return {"ok": "yes"}

        @app.get("/events")
        async def read_own(request: Request) -> dict[str, int]:
            async with request_session(request) as session:
                query = text("SELECT count(*) FROM wake_outbox")
                return {"n": (await session.execute(query)).scalar_one()}

        @app.post("/refused")
        async def refused_own(request: Request) -> None:
            async with request_session(request) as session:
                enqueue(session, WakeOutbox, _event(), source="test")
                raise HTTPException(409, "refused after enqueueing")

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.post("/events")).status_code == 200
            await asyncio.gather(*relay.looks)
            assert relay.rows_seen == [1]  # woken after the commit: the row is there to publish
            assert (await client.get("/events")).json() == {"n": 1}
            assert (await client.post("/refused")).status_code == 409
            assert (await client.post("/events")).status_code == 200
            await asyncio.gather(*relay.looks)
        # The read and the refused request (rolled back, nothing to publish) woke nothing.
        assert relay.rows_seen == [1, 2]
    finally:
        await engine.dispose()
