"""Transactions each service's database committed while the services ran: what a commit costs
the pipeline, counted where it is paid rather than over everything the databases ever did.

`pg_stat_database.xact_commit` counts every committed transaction of a database, an
autocommitted statement's too, and one for each connection opened to it. Two things made the
count read over a whole pass wrong for intake (`docs/cpu-journal.md`, "What a commit costs
the pipeline"): the raw-commits baseline wrote its few thousand commits in intake's database
(it has one of its own now, `system.baseline_database`), and a backend reports its counts
late: one whose statements come tens of milliseconds apart, as a service's pooled connections'
do, reported none of them for as long as it lived in a test on this stack's PostgreSQL, idle
for 25 s or not, and all of them when it ended. So the count is read before the services
start (every set-up connection has ended) and after every service backend has ended, and
divided by the requests accepted in between: the warm-up's, every step's and the idle line's
commits, over the warm-up's and every step's requests.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
from sqlalchemy.engine import make_url

# The kinds of request the e2e sends (`Observations.accepted`'s keys).
ACCEPTED_KINDS = ("return", "scan", "escalation")

_COMMITS = "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1::text[])"
_BACKENDS = "SELECT count(*) FROM pg_stat_activity WHERE datname = ANY($1::text[])"


def _dsn(url: str, *, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


class CommitMeter:
    """Committed transactions of each service's database between `start` and `per_request`."""

    def __init__(self, urls: dict[str, str], *, ended_within_s: float = 30.0) -> None:
        # One server holds every service's database (the stack's): read them all at once, from
        # its `postgres` database, so that the reads are not counted in any of them.
        self._dsn = _dsn(next(iter(urls.values())), database="postgres")
        self._names = {make_url(url).database: service for service, url in urls.items()}
        self._base: dict[str, int] = {}
        self._ended_within_s = ended_within_s

    async def _read(self) -> tuple[dict[str, int], int]:
        conn = await asyncpg.connect(self._dsn)
        try:
            names = list(self._names)
            await conn.execute("SELECT pg_stat_clear_snapshot()")
            backends = int(await conn.fetchval(_BACKENDS, names))
            rows = await conn.fetch(_COMMITS, names)
        finally:
            await conn.close()
        return {self._names[row["datname"]]: int(row["xact_commit"]) for row in rows}, backends

    async def _read_when_ended(self) -> tuple[dict[str, int], bool]:
        """The counts once no backend is connected to any of the databases (every count
        reported), or after `ended_within_s` with the flag False."""
        deadline = time.monotonic() + self._ended_within_s
        while True:
            counts, backends = await self._read()
            if backends == 0 or time.monotonic() >= deadline:
                return counts, backends == 0
            await asyncio.sleep(0.5)

    async def start(self) -> None:
        self._base, _ = await self._read_when_ended()

    async def per_request(self, accepted: int) -> dict[str, float | int | bool]:
        """Each service's commits since `start`, per accepted request (`<service>_per_request`),
        and whether every backend had ended when they were read (`complete`)."""
        now, complete = await self._read_when_ended()
        out: dict[str, float | int | bool] = {"accepted": accepted, "complete": complete}
        for service, count in now.items():
            commits = count - self._base.get(service, 0)
            out[service] = commits
            out[f"{service}_per_request"] = round(commits / accepted, 3) if accepted else 0.0
        return out
