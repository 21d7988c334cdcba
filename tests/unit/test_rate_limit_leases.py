"""Leases of shared/rate_limit.py around their round trip, with the database call replaced by a
fake the test holds open: what happens to the held lease, its tokens and its answers about
addresses while the statement is in flight, when it fails, and when two requests race for it.
The statements themselves run against PostgreSQL in tests/integration/test_rate_limit_leases.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.rate_limit import _SPEND_AND_PEEK, Limit, RateLimiter, RateLimitExceeded

LIMIT = Limit(per_s=0.01, burst=100)  # with LEASE_S: leases of 5 tokens
LEASE_S = 500.0
FAILURES = Limit(per_s=0.01, burst=2)
USER, OTHER = "10.0.0.1", "10.0.0.2"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeDatabase:
    """Stands for the lease statements: grants what is asked, answers each address as the test
    sets it (`throttled`, read as the round trip starts), records what each round trip gave
    back, and holds a round trip open while `gate` is cleared (`fail`: no answer)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.throttled: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.fail = False

    async def caller_lease(
        self, bucket: str, limit: Limit, size: int, unspent: int, address: str, failures: Limit
    ) -> dict[str, Any] | None:
        self.calls.append({"bucket": bucket, "unspent": unspent, "address": address})
        # The address is read as the statement runs, before whatever happens while it answers.
        address_tokens = 0.0 if address in self.throttled else failures.burst
        self.entered.set()
        await self.gate.wait()
        if self.fail:
            return None
        return {"granted": size, "tokens": limit.burst - size, "address_tokens": address_tokens}

    async def lease(
        self, bucket: str, limit: Limit, size: int, unspent: int
    ) -> dict[str, Any] | None:
        self.calls.append({"bucket": bucket, "unspent": unspent})
        self.entered.set()
        await self.gate.wait()
        if self.fail:
            return None
        return {"granted": size, "tokens": limit.burst - size}


def _limiter(clock: Clock, db: FakeDatabase) -> RateLimiter:
    limiter = RateLimiter("intake", "postgresql+asyncpg://nobody@nowhere/none", monotonic=clock)
    limiter._take_caller_lease = db.caller_lease  # type: ignore[method-assign]
    limiter._take_lease = db.lease  # type: ignore[method-assign]
    return limiter


async def _spend(limiter: RateLimiter, address: str) -> None:
    await limiter.spend_caller("c", LIMIT, address=address, failures=FAILURES, lease_s=LEASE_S)


async def test_a_failure_during_another_addresses_round_trip_drops_the_answer_at_once() -> None:
    """USER's answer is held; a request from OTHER takes a new lease, and while its statement is
    in flight USER fails authentication (and is throttled). The new lease must not carry USER's
    old answer over: USER's next request with the key asks the database and is refused."""
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    await _spend(limiter, USER)
    db.gate.clear()
    db.entered.clear()
    in_flight = asyncio.create_task(_spend(limiter, OTHER))
    await db.entered.wait()
    db.throttled.add(USER)
    await limiter.spend_auth_failure(USER, FAILURES)
    db.gate.set()
    await in_flight
    asked = len(db.calls)
    with pytest.raises(RateLimitExceeded) as refused:
        await _spend(limiter, USER)
    assert refused.value.reason == "auth_failures"
    assert len(db.calls) == asked + 1


async def test_a_failure_during_the_addresses_own_round_trip_is_not_answered_from_the_lease() -> (
    None
):
    """The statement read USER as not throttled, but USER failed authentication while it was in
    flight: the answer may predate the failure, so the lease does not keep it."""
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    db.gate.clear()
    in_flight = asyncio.create_task(_spend(limiter, USER))
    await db.entered.wait()
    await limiter.spend_auth_failure(USER, FAILURES)
    db.throttled.add(USER)
    db.gate.set()
    await in_flight  # answered before the failure counted: let through
    with pytest.raises(RateLimitExceeded) as refused:
        await _spend(limiter, USER)
    assert refused.value.reason == "auth_failures"
    assert len(db.calls) == 2


async def test_a_round_trip_that_fails_keeps_the_held_tokens_to_give_back() -> None:
    """The lease expired with 4 tokens unspent; the round trip that would give them back gets no
    answer. The tokens stay the process's, and the next round trip gives them back."""
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    await _spend(limiter, USER)
    clock.now += LEASE_S
    db.fail = True
    await _spend(limiter, USER)  # let through (the database did not answer)
    assert db.calls[-1]["unspent"] == 4
    db.fail = False
    await _spend(limiter, USER)
    assert db.calls[-1]["unspent"] == 4


async def test_a_cancelled_round_trip_keeps_the_held_tokens_and_answers() -> None:
    """A request cancelled while its statement is in flight (the client went away): the lease's
    unspent tokens and its answers are the process's still, and are spent without a round
    trip."""
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    await _spend(limiter, USER)  # a lease of 5, 4 left, USER answered
    db.gate.clear()
    db.entered.clear()
    cancelled = asyncio.create_task(_spend(limiter, OTHER))
    await db.entered.wait()
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    db.gate.set()
    for _ in range(4):
        await _spend(limiter, USER)
    assert len(db.calls) == 2  # the four spent the lease kept in the process


async def test_a_partner_round_trip_that_fails_keeps_the_held_tokens_to_give_back() -> None:
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    await limiter.spend("partner:p", LIMIT, kind="partner", lease_s=LEASE_S)
    clock.now += LEASE_S
    db.fail = True
    await limiter.spend("partner:p", LIMIT, kind="partner", lease_s=LEASE_S)
    db.fail = False
    await limiter.spend("partner:p", LIMIT, kind="partner", lease_s=LEASE_S)
    assert [c["unspent"] for c in db.calls] == [0, 4, 4]


async def test_two_requests_racing_for_one_lease_take_one_round_trip() -> None:
    """Two requests of one caller from one address find no lease at once: the second waits for
    the first's round trip and spends the lease it took."""
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    db.gate.clear()
    first = asyncio.create_task(_spend(limiter, USER))
    second = asyncio.create_task(_spend(limiter, USER))
    await db.entered.wait()
    await asyncio.sleep(0)  # the second is queued on the bucket's lock by now
    db.gate.set()
    await asyncio.gather(first, second)
    assert len(db.calls) == 1
    assert limiter._leases["client:c"].left == 3  # 5 taken, 2 spent


async def test_no_lease_is_the_plain_statement_per_request(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """RATE_LIMIT_LEASE_S=0 through `spend_caller`: every request runs the statement that spends
    one token and reads the address, and no lease is taken."""
    from shared.settings import ServiceSettings

    monkeypatch.setenv("RATE_LIMIT_LEASE_S", "0")
    settings = ServiceSettings()
    clock, db = Clock(), FakeDatabase()
    limiter = _limiter(clock, db)
    statements: list[str] = []

    async def fetch(sql: str, *args: object) -> dict[str, Any]:
        statements.append(sql)
        return {"allowed": True, "tokens": 50.0, "address_tokens": None}

    limiter._fetch = fetch  # type: ignore[method-assign]
    for _ in range(3):
        await limiter.spend_caller(
            "c",
            settings.caller_limit("c"),
            address=USER,
            failures=settings.auth_failure_limit(),
            lease_s=settings.rate_limit_lease_s,
        )
    assert statements == [_SPEND_AND_PEEK] * 3
    assert db.calls == [] and limiter._leases == {}


def test_a_lease_is_at_most_a_quarter_of_the_burst() -> None:
    """Leases of several replicas cannot hold the whole bucket between them."""
    assert Limit(per_s=100, burst=100).lease(0.1) == 10
    assert Limit(per_s=100, burst=20).lease(0.1) == 5
    assert Limit(per_s=100, burst=12).lease(0.5) == 3
    assert Limit(per_s=100, burst=7).lease(0.1) == 1  # a quarter is under two: token by token
