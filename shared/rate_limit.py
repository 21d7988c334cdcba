"""Rate limits that hold across replicas: token buckets in the service's own PostgreSQL.

Every authenticated caller spends a token of its client's bucket per request; requests that
present no valid key spend a token of their address's bucket, and while that bucket is empty the
address gets 429 whatever key it presents (a throttled address learns nothing about keys);
partner webhooks spend their partner's bucket. Docs: docs/security.md.

Why PostgreSQL: every service already has it, so the limit holds across replicas without another
moving part, and one atomic upsert per request needs no lock held past the statement. The table
is UNLOGGED (no WAL: a write costs little, and a crash only refills the buckets) and the
statement runs on its own small asyncpg pool in autocommit, so it is one round trip and never
holds a row lock for the length of a request. Times are the database's, so replicas with skewed
clocks still share one budget. If the database does not answer, the request is let through: the
request itself will meet the same database and say so.

Leases, for a caller that asks (`spend` or `spend_caller` with `lease_s`): one round trip takes
up to `lease_s` seconds' worth of the bucket's rate (whole tokens, at most a quarter of the
burst, never more than it holds) into the process, and the next requests spend them there
without a round trip until they run out or the lease's `lease_s` has passed; the rest goes
back to the bucket with the process's next lease (not spent in a later burst, and not lost:
dropping it would let replicas with light traffic drain the bucket at several times the rate
they use, refusing a partner below its limit). Every
token still comes out of the one shared bucket, so replicas together never admit more than the
limit; what a lease costs is the other way round: a replica may sit on up to `lease_s` of the
rate that another replica could have used. A lease of one token or less is the plain statement.

A caller's lease (`spend_caller`) also keeps, per address, that the address was not throttled
for failed authentication when the process last asked: only those addresses spend it without a
round trip (see `spend_caller`).

A refused lease is remembered in the process until the bucket can hold a whole token again (at
most `lease_s`): during a flood the requests after it are refused without a round trip, instead
of queueing one by one on the bucket's lock for an answer that cannot have changed. A token given
back by another replica's lease meanwhile waits at most `lease_s` to be used.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Boolean, DateTime, Float, String
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from shared.metrics import RATE_LIMIT_ERRORS, RATE_LIMITED

log = logging.getLogger(__name__)

TABLE = "rate_limit_buckets"


class RateLimitBucketMixin:
    """Columns of a service's `rate_limit_buckets` table (UNLOGGED; see the module docstring)."""

    __tablename__ = TABLE
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    bucket: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    allowed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Refill by the time since the last request (the database's clock), take a token if there is a
# whole one, and say whether there was. Every SET expression reads the row as it was.
def _refilled(row: str) -> str:
    return (
        f"LEAST($3::float8, {row}.tokens + $2::float8"
        f" * EXTRACT(EPOCH FROM now() - {row}.updated_at)::float8)"
    )


_REFILLED = _refilled("b")
_SPEND = f"""
INSERT INTO {TABLE} AS b (bucket, tokens, allowed, updated_at)
VALUES ($1, $3::float8 - 1, true, now())
ON CONFLICT (bucket) DO UPDATE SET
    tokens = {_REFILLED} - CASE WHEN {_REFILLED} >= 1 THEN 1 ELSE 0 END,
    allowed = {_REFILLED} >= 1,
    updated_at = now()
RETURNING allowed, tokens
"""


def _peek(first: int) -> str:
    """The address's failure bucket, refilled to now (no bucket: NULL), read without a lock;
    its bucket, rate and burst are the parameters from `$first` on, so the one subquery serves
    alone and after a spend's or a lease's own parameters."""
    bucket, per_s, burst = (f"${first + i}" for i in range(3))
    return (
        f"SELECT LEAST({burst}::float8, f.tokens + {per_s}::float8"
        f" * EXTRACT(EPOCH FROM now() - f.updated_at)::float8)"
        f" FROM {TABLE} f WHERE f.bucket = {bucket}"
    )


# A caller with a valid key: spend from its bucket and, in the same round trip, read whether its
# address is throttled for failed authentication.
_SPEND_AND_PEEK = f"""
WITH spent AS ({_SPEND})
SELECT spent.allowed, spent.tokens, ({_peek(4)}) AS address_tokens
  FROM spent
"""


# A lease: give back $5 tokens of this process's expired lease that it did not spend, take up to
# $4 whole tokens of the refilled bucket, and return how many were taken. Without the give-back,
# N replicas with light traffic would each drop most of every lease and drain the bucket at N
# times the rate they use.
# The row is read FOR UPDATE in the subquery, so `granted` is computed from the version this
# statement updates even when another replica's statement updated it first (READ COMMITTED
# re-reads the locked row); RETURNING alone could not say what the row held before. A bucket
# not yet there updates nothing: `_LEASE_FIRST` creates it full, less the lease.
_LEASE = f"""
UPDATE {TABLE} AS b
   SET tokens = l.refilled - l.granted, allowed = l.granted >= 1, updated_at = now()
  FROM (SELECT r.bucket, r.refilled, GREATEST(0, LEAST($4::float8, floor(r.refilled))) AS granted
          FROM (SELECT cur.bucket, LEAST($3::float8, {_refilled("cur")} + $5::float8) AS refilled
                  FROM {TABLE} cur WHERE cur.bucket = $1 FOR UPDATE) r) l
 WHERE b.bucket = l.bucket
RETURNING l.granted, b.tokens
"""
# A caller's lease (`spend_caller`): the lease above and, in the same round trip, whether the
# caller's address is throttled for failed authentication (as `_SPEND_AND_PEEK` reads it).
_LEASE_AND_PEEK = f"""
WITH leased AS ({_LEASE})
SELECT leased.granted, leased.tokens, ({_peek(6)}) AS address_tokens
  FROM leased
"""
_PEEK = _peek(1)
_LEASE_FIRST = f"""
INSERT INTO {TABLE} (bucket, tokens, allowed, updated_at)
SELECT $1, $2::float8 - g.granted, g.granted >= 1, now()
  FROM (SELECT GREATEST(0, LEAST($3::float8, floor($2::float8))) AS granted) g
ON CONFLICT (bucket) DO NOTHING
RETURNING $2::float8 - tokens AS granted, tokens
"""


@dataclass(frozen=True, slots=True)
class Limit:
    per_s: float
    burst: float

    def wait_s(self, tokens: float) -> int:
        """Whole seconds until the bucket holds a token again (at least 1)."""
        return max(1, math.ceil((1.0 - tokens) / self.per_s))

    def lease(self, lease_s: float) -> int:
        """Tokens one round trip takes for `lease_s` seconds of the rate: whole, at least one,
        and at most a quarter of the burst, so that the leases of several replicas cannot hold
        the whole bucket between them and refuse a caller that is under its limit."""
        return max(1, math.floor(min(self.burst / 4, self.per_s * lease_s)))


@dataclass(slots=True)
class _Lease:
    left: int
    until: float  # monotonic
    # A caller's lease only: the addresses found not throttled, each until when that answer
    # stands (monotonic). A request from any other address asks the database.
    cleared: dict[str, float] | None = None

    def take(self, now: float) -> bool:
        if self.left < 1 or now >= self.until:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True, slots=True)
class _Refusal:
    until: float  # monotonic: ask the bucket again from here
    token_at: float  # monotonic: when the bucket holds a whole token at its refill rate

    def retry_after_s(self, now: float) -> int:
        return max(1, math.ceil(self.token_at - now))


class RateLimitExceeded(Exception):
    def __init__(self, retry_after_s: int, reason: str) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        self.reason = reason


async def _keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to undo on the server (see `RateLimiter.start`)."""


class RateLimiter:
    """Spends tokens of shared buckets; raises `RateLimitExceeded` with the wait."""

    def __init__(
        self,
        service: str,
        database_url: str,
        *,
        pool_size: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._monotonic = monotonic
        # Per leased bucket (a partner's or a calling client's, so as many as the registry and
        # the keyring name):
        # the tokens held, and one lock so that concurrent requests wait for one round trip
        # instead of each taking a lease of its own.
        self._leases: dict[str, _Lease] = {}
        self._refusals: dict[str, _Refusal] = {}
        self._lease_locks: dict[str, asyncio.Lock] = {}
        # Per bucket whose caller's lease is being taken (a round trip in flight, at most one per
        # bucket under its lock): the addresses that failed authentication meanwhile. Their
        # answers are not kept in the new lease, whether carried over or read by the round trip.
        self._failed_meanwhile: dict[str, set[str]] = {}

    async def start(self) -> None:
        # min_size=0: nothing connects until the first request, so a database that is down at
        # start-up does not hold the service back.
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=0,
            max_size=self._pool_size,
            timeout=2,
            command_timeout=2,
            # A small fixed statement: let asyncpg prepare it once per connection.
            statement_cache_size=16,
            # asyncpg resets a released connection on the server (RESET ALL, UNLISTEN, advisory
            # unlock): a second round trip per request. The limiter's autocommitted statements
            # leave no session state to reset; an open transaction is still ended locally.
            reset=_keep_session,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def _fetch(self, sql: str, *args: object) -> asyncpg.Record | None:
        if self._pool is None:
            return None
        try:
            async with self._pool.acquire() as conn:
                return await conn.fetchrow(sql, *args)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            RATE_LIMIT_ERRORS.labels(self.service).inc()
            log.warning("rate limiter unavailable, letting the request through: %r", exc)
            return None

    async def spend(self, bucket: str, limit: Limit, *, kind: str, lease_s: float = 0.0) -> None:
        """Take a token from `bucket`, or raise with the seconds until there is one.

        `lease_s` > 0: from a lease this process holds, taking a new one when it has none (see
        the module docstring)."""
        size = limit.lease(lease_s)
        if size <= 1:
            row = await self._fetch(_SPEND, bucket, limit.per_s, limit.burst)
            if row is not None and not row["allowed"]:
                RATE_LIMITED.labels(self.service, kind).inc()
                raise RateLimitExceeded(limit.wait_s(row["tokens"]), kind)
            return
        if self._held_or_refused(bucket, kind):
            return
        lock = self._lease_locks.setdefault(bucket, asyncio.Lock())
        async with lock:
            if self._held_or_refused(bucket, kind):
                return  # leased by the request this one waited for
            held, unspent = self._set_aside(bucket)  # its unspent tokens go back below
            answered = False
            try:
                row = await self._take_lease(bucket, limit, size, unspent)
                if row is None:
                    return  # the database did not answer: let through (module docstring)
                answered = True
            finally:
                if not answered and held is not None:
                    held.left = unspent  # not given back: still this process's to spend
            granted = int(row["granted"])
            now = self._monotonic()
            if granted < 1:
                self._leases.pop(bucket, None)
                token_at = now + max(0.0, 1.0 - row["tokens"]) / limit.per_s
                self._refusals[bucket] = _Refusal(min(token_at, now + lease_s), token_at)
                RATE_LIMITED.labels(self.service, kind).inc()
                raise RateLimitExceeded(limit.wait_s(row["tokens"]), kind)
            self._refusals.pop(bucket, None)
            self._leases[bucket] = _Lease(granted - 1, now + lease_s)

    def _set_aside(self, bucket: str) -> tuple[_Lease | None, int]:
        """The lease held for `bucket` and its unspent tokens, which the next round trip gives
        back. The lease stays in place with none left for that round trip: a failed
        authentication meanwhile still finds its answers there to drop, and if the round trip
        never answers (the database fails, the request is cancelled) the tokens are put back."""
        held = self._leases.get(bucket)
        if held is None:
            return None, 0
        unspent, held.left = held.left, 0
        return held, unspent

    def _held_or_refused(self, bucket: str, kind: str) -> bool:
        """True when a token of this process's lease was taken; raises while a refusal holds;
        False when the bucket must be asked."""
        now = self._monotonic()
        held = self._leases.get(bucket)
        if held is not None and held.take(now):
            return True
        refusal = self._refusals.get(bucket)
        if refusal is not None and now < refusal.until:
            RATE_LIMITED.labels(self.service, kind).inc()
            raise RateLimitExceeded(refusal.retry_after_s(now), kind)
        return False

    async def _take_lease(
        self, bucket: str, limit: Limit, size: int, unspent: int
    ) -> asyncpg.Record | None:
        if self._pool is None:
            return None
        args = (bucket, limit.per_s, limit.burst, float(size), float(unspent))
        try:
            async with self._pool.acquire() as conn:
                row = await conn.fetchrow(_LEASE, *args)
                if row is None:  # a new bucket (or one the retention loop deleted)
                    row = await conn.fetchrow(_LEASE_FIRST, bucket, limit.burst, float(size))
                if row is None:  # another replica created it meanwhile
                    row = await conn.fetchrow(_LEASE, *args)
                return row
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            RATE_LIMIT_ERRORS.labels(self.service).inc()
            log.warning("rate limiter unavailable, letting the request through: %r", exc)
            return None

    async def spend_auth_failure(self, address: str, failures: Limit) -> None:
        """A request that presented no valid key spends its address's bucket. The address's
        answer kept for callers' leases is dropped first, so that a key presented from it next
        asks the database whether the address is throttled."""
        for held in self._leases.values():
            if held.cleared is not None:
                held.cleared.pop(address, None)
        for failed in self._failed_meanwhile.values():
            failed.add(address)
        await self.spend(f"auth-failures:{address}", failures, kind="auth_failures")

    async def spend_caller(
        self,
        client_id: str,
        limit: Limit,
        *,
        address: str,
        failures: Limit,
        lease_s: float = 0.0,
    ) -> None:
        """A caller with a valid key: its address must not be throttled, and its own bucket
        must hold a token. One round trip, or none while this process holds a lease of the
        caller's tokens (`lease_s` > 0) and has found the address not throttled within it.

        The address's answer is kept per caller's lease, never for the caller alone: a key the
        process has not seen from an address asks the database, so an address throttled for
        failed authentication learns nothing about keys it has not used (a refusal of the key
        for its rate would tell it the key is valid). An address throttled meanwhile on another
        replica is refused here once the answer kept for it expires, within `lease_s`."""
        bucket = f"client:{client_id}"
        size = limit.lease(lease_s)
        if size <= 1:
            row = await self._fetch(
                _SPEND_AND_PEEK,
                bucket,
                limit.per_s,
                limit.burst,
                f"auth-failures:{address}",
                failures.per_s,
                failures.burst,
            )
            if row is None:
                return
            if _throttled(row["address_tokens"]):
                RATE_LIMITED.labels(self.service, "auth_failures").inc()
                raise RateLimitExceeded(failures.wait_s(row["address_tokens"]), "auth_failures")
            if not row["allowed"]:
                RATE_LIMITED.labels(self.service, "caller").inc()
                raise RateLimitExceeded(limit.wait_s(row["tokens"]), "caller")
            return
        if self._caller_held_or_refused(bucket, address):
            return
        lock = self._lease_locks.setdefault(bucket, asyncio.Lock())
        async with lock:
            if self._caller_held_or_refused(bucket, address):
                return  # leased by the request this one waited for
            held, unspent = self._set_aside(bucket)  # its unspent tokens go back below
            failed = self._failed_meanwhile[bucket] = set()
            answered = False
            try:
                row = await self._take_caller_lease(bucket, limit, size, unspent, address, failures)
                if row is None:
                    return  # the database did not answer: let through (module docstring)
                answered = True
            finally:
                del self._failed_meanwhile[bucket]
                if not answered and held is not None:
                    held.left = unspent  # not given back: still this process's to spend
            now = self._monotonic()
            # Answers about other addresses that still stand carry over to the new lease, but
            # for an address that failed authentication during the round trip: the database's
            # answer about it may predate the failure, and "at once" means the next request.
            cleared = {
                a: until
                for a, until in ((held.cleared or {}) if held is not None else {}).items()
                if until > now and a not in failed
            }
            throttled = _throttled(row["address_tokens"])
            if throttled or address in failed:
                cleared.pop(address, None)
            else:
                cleared[address] = now + lease_s
            granted = int(row["granted"])
            # Tokens taken are held even when this request is refused: none is lost.
            self._leases[bucket] = lease = _Lease(granted, now + lease_s, cleared)
            if throttled:
                RATE_LIMITED.labels(self.service, "auth_failures").inc()
                raise RateLimitExceeded(failures.wait_s(row["address_tokens"]), "auth_failures")
            if granted < 1:
                token_at = now + max(0.0, 1.0 - row["tokens"]) / limit.per_s
                self._refusals[bucket] = _Refusal(min(token_at, now + lease_s), token_at)
                RATE_LIMITED.labels(self.service, "caller").inc()
                raise RateLimitExceeded(limit.wait_s(row["tokens"]), "caller")
            self._refusals.pop(bucket, None)
            lease.left -= 1

    def _caller_held_or_refused(self, bucket: str, address: str) -> bool:
        """As `_held_or_refused`, for a caller's lease and only for an address found not
        throttled within it; False (ask the database) for any other address."""
        now = self._monotonic()
        held = self._leases.get(bucket)
        if held is None or held.cleared is None or held.cleared.get(address, 0.0) <= now:
            return False
        if held.take(now):
            return True
        refusal = self._refusals.get(bucket)
        if refusal is not None and now < refusal.until:
            RATE_LIMITED.labels(self.service, "caller").inc()
            raise RateLimitExceeded(refusal.retry_after_s(now), "caller")
        return False

    async def _take_caller_lease(
        self, bucket: str, limit: Limit, size: int, unspent: int, address: str, failures: Limit
    ) -> asyncpg.Record | dict[str, Any] | None:
        if self._pool is None:
            return None
        lease = (bucket, limit.per_s, limit.burst, float(size), float(unspent))
        peek = (f"auth-failures:{address}", failures.per_s, failures.burst)
        try:
            async with self._pool.acquire() as conn:
                row = await conn.fetchrow(_LEASE_AND_PEEK, *lease, *peek)
                if row is not None:
                    return row
                # A new bucket (or one the retention loop deleted).
                first = await conn.fetchrow(_LEASE_FIRST, bucket, limit.burst, float(size))
                if first is None:  # another replica created it meanwhile
                    return await conn.fetchrow(_LEASE_AND_PEEK, *lease, *peek)
                address_tokens = await conn.fetchval(_PEEK, *peek)
                return {
                    "granted": first["granted"],
                    "tokens": first["tokens"],
                    "address_tokens": address_tokens,
                }
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            RATE_LIMIT_ERRORS.labels(self.service).inc()
            log.warning("rate limiter unavailable, letting the request through: %r", exc)
            return None


def _throttled(address_tokens: float | None) -> bool:
    """Whether the caller's address is throttled for failed authentication (no bucket: not)."""
    return address_tokens is not None and address_tokens < 1
