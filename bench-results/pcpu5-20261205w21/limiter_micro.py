"""The caller's rate limit alone, in one process: `RateLimiter.spend_caller` token by token (the
plain statement, as on main) against leased (0.1 s), alternated; process CPU and the stack's
PostgreSQL CPU per call.

usage: PCPU5_POSTMASTER=<pid> python limiter_micro.py DATABASE_URL [ROUNDS] [CALLS]
(DATABASE_URL names a scratch database, created with the bucket table if missing)."""

import asyncio
import os
import sys
import time
import uuid

from shared.rate_limit import Limit, RateLimiter

FAILURES = Limit(per_s=100 / 60, burst=100)
LIMIT = Limit(per_s=100_000, burst=100_000)  # the e2e benchmark's marketplace key


POSTMASTER = int(os.environ["PCPU5_POSTMASTER"])


def _pg_cpu_s() -> float:
    """CPU seconds of the stack's PostgreSQL: the postmaster and its children (utime + stime,
    and the children's exited ones, from /proc)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(pid) == POSTMASTER:
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif int(fields[1]) == POSTMASTER:
            total += int(fields[11]) + int(fields[12])
    return total / tick


async def one(limiter: RateLimiter, lease_s: float, calls: int) -> tuple[float, float]:
    client = f"micro-{uuid.uuid4().hex[:8]}"
    await limiter.spend_caller(client, LIMIT, address="10.0.0.1", failures=FAILURES)
    cpu, pg = time.process_time(), _pg_cpu_s()
    for _ in range(calls):
        await limiter.spend_caller(
            client, LIMIT, address="10.0.0.1", failures=FAILURES, lease_s=lease_s
        )
    return (time.process_time() - cpu) / calls * 1e6, (_pg_cpu_s() - pg) / calls * 1e6


DDL = """CREATE UNLOGGED TABLE IF NOT EXISTS rate_limit_buckets (
    bucket varchar(300) PRIMARY KEY, tokens float8 NOT NULL, allowed boolean NOT NULL,
    updated_at timestamptz NOT NULL)"""


async def main(url: str, rounds: int, calls: int) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql")
    admin = await asyncpg.connect(plain.set(database="postgres").render_as_string(False))
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", plain.database):
        await admin.execute(f'CREATE DATABASE "{plain.database}"')
    await admin.close()
    conn = await asyncpg.connect(plain.render_as_string(False))
    await conn.execute(DDL)
    await conn.close()
    limiter = RateLimiter("intake", url)
    await limiter.start()
    try:
        for r in range(rounds):
            for label, lease_s in (("plain", 0.0), ("leased", 0.1)) if r % 2 == 0 else (
                ("leased", 0.1),
                ("plain", 0.0),
            ):
                proc, pg = await one(limiter, lease_s, calls)
                load = os.getloadavg()[0]
                print(f"round {r} {label}: process {proc:.1f} us, postgres {pg:.1f} us per call"
                      f" (load {load:.1f})", flush=True)
    finally:
        await limiter.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4,
                 int(sys.argv[3]) if len(sys.argv) > 3 else 2000))
