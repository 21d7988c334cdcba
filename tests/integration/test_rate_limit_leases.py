"""Leased tokens (shared/rate_limit.py): one round trip takes a few tokens of a shared bucket into
the process, so a busy partner's webhooks do not each pay the limiter's round trip, while every
token still comes out of the one bucket that all replicas share."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.rate_limit import Limit, RateLimiter, RateLimitExceeded
from tests.conftest import Harness


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _bucket_column(harness: Harness, bucket: str, column: str) -> Any:
    url = make_url(harness.env["INTAKE_DATABASE_URL"]).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return await conn.fetchval(
            f"SELECT {column} FROM rate_limit_buckets WHERE bucket = $1", bucket
        )
    finally:
        await conn.close()


async def _tokens(harness: Harness, bucket: str) -> float:
    return float(await _bucket_column(harness, bucket, "tokens"))


def test_a_lease_is_whole_tokens_within_a_quarter_of_the_burst() -> None:
    assert Limit(per_s=100, burst=100).lease(0.1) == 10
    assert Limit(per_s=100, burst=8).lease(0.1) == 2
    assert Limit(per_s=100, burst=4).lease(0.1) == 1
    assert Limit(per_s=3, burst=3).lease(0.1) == 1  # a slow partner: token by token, as before
    assert Limit(per_s=50, burst=50).lease(0.0) == 1


async def test_a_lease_spends_tokens_without_a_round_trip_each(harness: Harness) -> None:
    """Five requests take one lease of five tokens from the bucket; the sixth takes the next."""
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    bucket = f"partner:lease-{uuid.uuid4().hex[:8]}"
    # 0.01 tokens/s refill: nothing measurable refills while the test runs.
    limit, lease_s = Limit(per_s=0.01, burst=100), 500.0  # a lease of 5 tokens
    try:
        await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        assert await _tokens(harness, bucket) == pytest.approx(95, abs=0.05)
        for _ in range(4):
            await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        assert await _tokens(harness, bucket) == pytest.approx(95, abs=0.05)  # no round trip
        await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        assert await _tokens(harness, bucket) == pytest.approx(90, abs=0.05)
    finally:
        await limiter.close()


async def test_leases_of_two_replicas_never_admit_more_than_the_bucket(harness: Harness) -> None:
    clock = Clock()
    url = harness.env["INTAKE_DATABASE_URL"]
    replicas = [RateLimiter("intake", url, monotonic=clock) for _ in range(2)]
    for limiter in replicas:
        await limiter.start()
    bucket = f"partner:shared-{uuid.uuid4().hex[:8]}"
    limit, lease_s = Limit(per_s=0.01, burst=12), 500.0  # leases of 3 (a quarter of the burst)
    admitted = refused = 0
    try:
        for i in range(30):
            try:
                await replicas[i % 2].spend(bucket, limit, kind="partner", lease_s=lease_s)
                admitted += 1
            except RateLimitExceeded as exc:
                refused += 1
                assert exc.retry_after_s >= 1
    finally:
        for limiter in replicas:
            await limiter.close()
    assert admitted == 12 and refused == 18
    assert await _tokens(harness, bucket) < 1


async def test_an_expired_lease_is_not_spent_later(harness: Harness) -> None:
    """Tokens held past the lease's time are not carried into a later burst: the next request
    takes a new lease from the bucket, and gives the four unspent tokens back with it."""
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    bucket = f"partner:expiry-{uuid.uuid4().hex[:8]}"
    limit, lease_s = Limit(per_s=0.01, burst=100), 500.0
    try:
        await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        clock.now += lease_s  # four tokens of the lease unused
        await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        assert await _tokens(harness, bucket) == pytest.approx(100 - 5 + 4 - 5, abs=0.05)
    finally:
        await limiter.close()


async def test_concurrent_leases_of_four_replicas_admit_exactly_the_bucket(
    harness: Harness,
) -> None:
    """Leases raced from four processes' pools at once: each statement reads the row it updates
    under its lock, so no token is granted twice and none is lost."""
    import asyncio

    url = harness.env["INTAKE_DATABASE_URL"]
    replicas = [RateLimiter("intake", url) for _ in range(4)]
    for limiter in replicas:
        await limiter.start()
    bucket = f"partner:race-{uuid.uuid4().hex[:8]}"
    await replicas[0].spend(bucket, Limit(per_s=0.01, burst=37), kind="partner")  # the row
    limit, lease_s = Limit(per_s=0.01, burst=37), 300.0  # leases of 3 tokens

    async def one(limiter: RateLimiter) -> bool:
        try:
            await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
            return True
        except RateLimitExceeded:
            return False

    try:
        outcomes = await asyncio.gather(*(one(replicas[i % 4]) for i in range(120)))
    finally:
        for limiter in replicas:
            await limiter.close()
    assert sum(outcomes) == 36  # 37 less the token the first spend took
    assert await _tokens(harness, bucket) < 1


async def test_a_partners_webhooks_spend_a_lease_of_its_bucket(harness: Harness) -> None:
    """At 100 requests/s and the default lease of 0.1 s, a partner's first webhook takes ten
    tokens from its bucket; the two after it spend them without touching the bucket."""
    from contextlib import AsyncExitStack

    import httpx

    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings
    from tests.support.factories import rapidroute_batch, rapidroute_event, uid
    from tests.support.signing import rapidroute_headers

    admin = harness.key("DISPUTEDESK_KEY_ADMIN")
    partner_id = uid("leased").lower()
    secret = "rr_live_" + uuid.uuid4().hex
    async with AsyncExitStack() as stack:
        app = create_app(IntakeSettings())
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")
        )
        r = await client.post(
            "/v1/admin/partners",
            json={
                "partner_id": partner_id,
                "display_name": "Leased",
                "scheme": "rapidroute",
                "liability_cap": 1,
                "rate_limit_per_s": 100,
                "secret": secret,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        for _ in range(3):
            body = rapidroute_batch([rapidroute_event(uid("RET"))])
            r = await client.post(
                f"/v1/webhooks/{partner_id}",
                content=body,
                headers=rapidroute_headers(secret, body),
            )
            assert r.status_code == 202, r.text
    assert await _tokens(harness, f"partner:{partner_id}") == pytest.approx(90)


async def test_an_expired_lease_gives_its_unspent_tokens_back(harness: Harness) -> None:
    """Three replicas, each with one request per lease period, spend what they admit: the bucket
    does not drain at three leases a period (it would refuse in the third period)."""
    clock = Clock()
    url = harness.env["INTAKE_DATABASE_URL"]
    replicas = [RateLimiter("intake", url, monotonic=clock) for _ in range(3)]
    for limiter in replicas:
        await limiter.start()
    bucket = f"partner:light-{uuid.uuid4().hex[:8]}"
    limit, lease_s = Limit(per_s=0.01, burst=30), 500.0  # leases of 5
    try:
        for _period in range(5):
            for limiter in replicas:
                await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
            clock.now += lease_s + 1
        # 15 admitted, and each replica holds a lease of which it spent one: 30 - 15 - 3 × 4.
        assert await _tokens(harness, bucket) == pytest.approx(3, abs=0.1)
    finally:
        for limiter in replicas:
            await limiter.close()


async def test_a_refusal_is_answered_in_the_process_until_a_token_can_be_there(
    harness: Harness,
) -> None:
    """A flood against an empty bucket: the first refused request asks the bucket, the ones
    after it are refused without a round trip (each one used to queue on the bucket's lock for
    its own), until the bucket can hold a token again."""
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    bucket = f"partner:flood-{uuid.uuid4().hex[:8]}"
    # Four leases of 2 empty the bucket; the next token is 100 s away (0.01 tokens/s).
    limit, lease_s = Limit(per_s=0.01, burst=8), 500.0
    try:
        for _ in range(8):
            await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        with pytest.raises(RateLimitExceeded):
            await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        asked = await _bucket_column(harness, bucket, "updated_at")
        clock.now += 60
        for _ in range(5):
            with pytest.raises(RateLimitExceeded) as refused:
                await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
            assert 1 <= refused.value.retry_after_s <= 40
        assert await _bucket_column(harness, bucket, "updated_at") == asked  # not asked again
        clock.now += 41  # a token may be there now: ask the bucket
        with pytest.raises(RateLimitExceeded):
            await limiter.spend(bucket, limit, kind="partner", lease_s=lease_s)
        assert await _bucket_column(harness, bucket, "updated_at") != asked
    finally:
        await limiter.close()


# ---------------------------------------------------------------------------------------------
# Callers' leases (`spend_caller`): the same shared bucket, and the address's answer kept per
# caller's lease and address only.
# ---------------------------------------------------------------------------------------------

FAILURES = Limit(per_s=100 / 60, burst=100)


async def test_a_callers_requests_spend_a_lease_without_a_round_trip_each(
    harness: Harness,
) -> None:
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    client = f"lease-{uuid.uuid4().hex[:8]}"
    limit, lease_s = Limit(per_s=0.01, burst=100), 500.0  # a lease of 5 tokens
    try:
        for _ in range(5):
            await limiter.spend_caller(
                client, limit, address="10.1.1.1", failures=FAILURES, lease_s=lease_s
            )
        assert await _tokens(harness, f"client:{client}") == pytest.approx(95, abs=0.05)
        await limiter.spend_caller(
            client, limit, address="10.1.1.1", failures=FAILURES, lease_s=lease_s
        )
        assert await _tokens(harness, f"client:{client}") == pytest.approx(90, abs=0.05)
    finally:
        await limiter.close()


async def test_a_callers_lease_serves_only_the_addresses_it_asked_about(harness: Harness) -> None:
    """The lease holds tokens, but a request from an address the process has not asked about
    within it goes to the database (giving the unspent tokens back with a new lease)."""
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    client = f"addr-{uuid.uuid4().hex[:8]}"
    bucket = f"client:{client}"
    limit, lease_s = Limit(per_s=0.01, burst=100), 500.0
    try:
        await limiter.spend_caller(
            client, limit, address="10.2.2.1", failures=FAILURES, lease_s=lease_s
        )
        asked = await _bucket_column(harness, bucket, "updated_at")
        await limiter.spend_caller(
            client, limit, address="10.2.2.2", failures=FAILURES, lease_s=lease_s
        )
        assert await _bucket_column(harness, bucket, "updated_at") != asked
        # 100 - 5, + 4 unspent back - 5: the tokens are the bucket's, whoever asked.
        assert await _tokens(harness, bucket) == pytest.approx(94, abs=0.05)
        asked = await _bucket_column(harness, bucket, "updated_at")
        for address in ("10.2.2.1", "10.2.2.2"):  # both answered within the lease now
            await limiter.spend_caller(
                client, limit, address=address, failures=FAILURES, lease_s=lease_s
            )
        assert await _bucket_column(harness, bucket, "updated_at") == asked
    finally:
        await limiter.close()


async def test_a_throttled_address_is_refused_whatever_the_lease_holds(harness: Harness) -> None:
    """A key leased from one address is refused from a throttled one (the address learns nothing
    about the key); and a failed authentication in the process drops its address's answer, so
    the next request with a key from there asks the database and is refused."""
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    client = f"throttle-{uuid.uuid4().hex[:8]}"
    limit, lease_s = Limit(per_s=0.01, burst=100), 500.0
    failures = Limit(per_s=0.01, burst=2)  # two failures empty an address's bucket
    user, attacker = _address(), _address()
    try:
        await limiter.spend_caller(client, limit, address=user, failures=failures, lease_s=lease_s)
        for _ in range(2):
            await limiter.spend_auth_failure(attacker, failures)
        with pytest.raises(RateLimitExceeded) as refused:
            await limiter.spend_caller(
                client, limit, address=attacker, failures=failures, lease_s=lease_s
            )
        assert refused.value.reason == "auth_failures"
        # The user's address, answered within the lease, spends it; then it fails twice.
        await limiter.spend_caller(client, limit, address=user, failures=failures, lease_s=lease_s)
        for _ in range(2):
            await limiter.spend_auth_failure(user, failures)
        with pytest.raises(RateLimitExceeded) as refused:
            await limiter.spend_caller(
                client, limit, address=user, failures=failures, lease_s=lease_s
            )
        assert refused.value.reason == "auth_failures"
    finally:
        await limiter.close()


async def test_an_addresses_answer_expires_with_the_lease(harness: Harness) -> None:
    """An address throttled on another replica keeps its answer here only until the lease's
    time has passed: the next request after that asks the database and is refused."""
    clock = Clock()
    url = harness.env["INTAKE_DATABASE_URL"]
    here, there = RateLimiter("intake", url, monotonic=clock), RateLimiter("intake", url)
    await here.start()
    await there.start()
    client = f"expire-{uuid.uuid4().hex[:8]}"
    limit, lease_s = Limit(per_s=0.01, burst=100), 500.0  # leases of 5 tokens
    failures = Limit(per_s=0.01, burst=2)
    user = _address()
    try:
        await here.spend_caller(client, limit, address=user, failures=failures, lease_s=lease_s)
        for _ in range(2):
            await there.spend_auth_failure(user, failures)
        clock.now += lease_s - 1  # the answer stands: the lease is spent without a round trip
        await here.spend_caller(client, limit, address=user, failures=failures, lease_s=lease_s)
        clock.now += 1
        with pytest.raises(RateLimitExceeded) as refused:
            await here.spend_caller(client, limit, address=user, failures=failures, lease_s=lease_s)
        assert refused.value.reason == "auth_failures"
    finally:
        await here.close()
        await there.close()


@pytest.mark.parametrize("lease_s", [500.0, 0.0])
async def test_a_throttled_address_learns_nothing_from_an_exhausted_key(
    harness: Harness, lease_s: float
) -> None:
    """A valid key whose bucket is empty, presented from a throttled address, gets the address's
    refusal, never the key's (that would tell the address the key is valid): with leases, even
    while the process remembers the key's own refusal."""
    clock = Clock()
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], monotonic=clock)
    await limiter.start()
    client = f"empty-{uuid.uuid4().hex[:8]}"
    limit = Limit(per_s=0.01, burst=8)  # leases of 2; nothing refills during the test
    failures = Limit(per_s=0.01, burst=2)
    user, attacker = _address(), _address()
    try:
        for _ in range(8):
            await limiter.spend_caller(
                client, limit, address=user, failures=failures, lease_s=lease_s
            )
        with pytest.raises(RateLimitExceeded) as refused:
            await limiter.spend_caller(
                client, limit, address=user, failures=failures, lease_s=lease_s
            )
        assert refused.value.reason == "caller"  # the key's own bucket is empty
        for _ in range(2):
            await limiter.spend_auth_failure(attacker, failures)
        with pytest.raises(RateLimitExceeded) as refused:
            await limiter.spend_caller(
                client, limit, address=attacker, failures=failures, lease_s=lease_s
            )
        assert refused.value.reason == "auth_failures"
    finally:
        await limiter.close()


def _address() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


# One process of the two below: spends the caller's leases until refused, prints what it admitted.
_CALLER_PROCESS = """
import asyncio, sys
from shared.rate_limit import Limit, RateLimiter, RateLimitExceeded

async def main(url, client):
    limiter = RateLimiter("intake", url)
    await limiter.start()
    admitted = refused = 0
    failures = Limit(per_s=100 / 60, burst=100)
    try:
        while refused < 20:
            try:
                await limiter.spend_caller(
                    client, Limit(per_s=0.01, burst=57), address="10.9.9.9",
                    failures=failures, lease_s=400.0,
                )
                admitted += 1
            except RateLimitExceeded:
                refused += 1
                await asyncio.sleep(0.01)
    finally:
        await limiter.close()
    print(admitted)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_two_processes_leasing_one_callers_bucket_admit_exactly_its_tokens(
    harness: Harness,
) -> None:
    """Two real processes spend one caller's bucket through leases of 4 tokens at once: between
    them they admit the bucket's 57 tokens, never more (nothing refills: 0.01 a second)."""
    import asyncio
    import os
    import sys

    client = f"procs-{uuid.uuid4().hex[:8]}"
    url = harness.env["INTAKE_DATABASE_URL"]
    env = {**os.environ, **harness.env}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CALLER_PROCESS,
            url,
            client,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    admitted = [int(out.decode().strip()) for out, _ in outputs]
    assert sum(admitted) == 57, admitted
    assert await _tokens(harness, f"client:{client}") < 1


async def test_a_callers_requests_to_intake_spend_a_lease_of_its_bucket(harness: Harness) -> None:
    """At 100 requests/s and the default lease of 0.1 s, a caller's first request takes ten
    tokens from its bucket; the two after it spend them without touching the bucket."""
    from contextlib import AsyncExitStack

    import httpx

    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings
    from shared.settings import CallerLimit
    from tests.support.keys import add_key

    client_id = f"leased.{uuid.uuid4().hex[:8]}"
    headers = add_key(harness.env, client_id, ["ops_agent"])
    settings = IntakeSettings(rate_limit_overrides={client_id: CallerLimit(per_s=100, burst=100)})
    async with AsyncExitStack() as stack:
        app = create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")
        )
        for _ in range(3):
            r = await client.get("/v1/returns/RET-NONE/events", headers=headers)
            assert r.status_code != 429, r.text
    assert await _tokens(harness, f"client:{client_id}") == pytest.approx(90)
