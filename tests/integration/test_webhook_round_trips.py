"""The round trips a partner webhook costs (docs/cpu.md, "Intake's webhook"): each statement is
a driver call, an event-loop wake-up and PostgreSQL's own work, so the hot path's count is held
here, on the real database."""

from __future__ import annotations

import uuid

from shared.rate_limit import Limit, RateLimiter
from tests.conftest import Harness


async def test_the_limiter_spends_in_one_round_trip_without_resetting_its_connection(
    harness: Harness,
) -> None:
    """asyncpg resets a pooled connection on release (RESET ALL, UNLISTEN, advisory unlock: a
    second round trip per request). The limiter's statements leave no session state, so its pool
    skips that: a setting made on a connection is still there when the connection comes back."""
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], pool_size=1)
    await limiter.start()
    try:
        pool = limiter._pool
        assert pool is not None
        async with pool.acquire() as conn:
            await conn.execute("SET application_name = 'limiter-reset-probe'")
        await limiter.spend(f"probe:{uuid.uuid4().hex}", Limit(100, 100), kind="partner")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") == "limiter-reset-probe"
            # An open transaction is still ended on release (locally, without a reset query).
            await conn.execute("BEGIN")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
    finally:
        await limiter.close()
