"""Transactions each service's database committed over a step: what a commit costs the pipeline
is counted where it is paid, not over the whole pass.

`pg_stat_database.xact_commit` counts every committed transaction of a database, an
autocommitted statement's too, and one for each connection opened to it. Read over the pass it also counts the set-up (the migrations,
the partners seeded) and the warm-up step, which in intake's database were about twice the
step's own commits (`docs/cpu-journal.md`, "What a commit costs the pipeline"). A backend
reports its counts when it goes idle, but at most once a second; what it committed in its last
second before going idle is reported up to ten seconds later (PostgreSQL's idle flush). So the
step's count is read `SETTLE_S` after its drain: the idle services' few commits of those
seconds (relay polls) are counted with it, a backend's unreported last second would not be.
"""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

SETTLE_S = 11.0

_COMMITS = "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1::text[])"


def _dsn(url: str, *, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


class CommitMeter:
    """Committed transactions of each service's database since `start`."""

    def __init__(self, urls: dict[str, str], *, settle_s: float = SETTLE_S) -> None:
        # One server holds every service's database (the stack's): read them all at once, from
        # its `postgres` database, so that the reads are not counted in any of them.
        self._dsn = _dsn(next(iter(urls.values())), database="postgres")
        self._names = {make_url(url).database: service for service, url in urls.items()}
        self._base: dict[str, int] = {}
        self._settle_s = settle_s

    async def _read(self) -> dict[str, int]:
        conn = await asyncpg.connect(self._dsn)
        try:
            rows = await conn.fetch(_COMMITS, list(self._names))
        finally:
            await conn.close()
        return {self._names[row["datname"]]: int(row["xact_commit"]) for row in rows}

    async def start(self) -> None:
        self._base = await self._read()

    async def per_request(self, accepted: int) -> dict[str, float | int]:
        """Each service's commits since `start`, and per accepted request
        (`<service>_per_request`), read `settle_s` from now."""
        await asyncio.sleep(self._settle_s)
        now = await self._read()
        out: dict[str, float | int] = {}
        for service, count in now.items():
            commits = count - self._base.get(service, 0)
            out[service] = commits
            out[f"{service}_per_request"] = round(commits / accepted, 3) if accepted else 0.0
        return out
