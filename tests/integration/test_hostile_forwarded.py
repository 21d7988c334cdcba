"""`X-Forwarded-For` from a client, against a service process as `disputedesk run` starts it
(the supervisor's own command), from the hostile7 pass (2026-12-07).

uvicorn believes `X-Forwarded-For` from 127.0.0.1 unless told otherwise, and our command did not
tell it: a client on the service's host named a new address in each request, so the limit on
failed keys, counted per address, never ran out, and keys could be guessed without a throttle.
Now the address is the connection's peer unless the operator names the proxies in
`FORWARDED_ALLOW_IPS`.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from disputedesk.drills.fleet import free_port
from disputedesk.stack.config import find_repo_root
from disputedesk.stack.supervisor import ServiceSpec, SupervisedService
from tests.conftest import Harness
from tests.support.waiting import eventually

PROBLEM = "application/problem+json"
FAILURES_ALLOWED = 3


@pytest.fixture(scope="module")
def intake_process(harness: Harness, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One more intake replica (the pipeline's runs in-process), allowing 3 failed keys a minute
    per address; the environment names no proxy."""
    spec = ServiceSpec("intake", free_port(below=None))
    env = {**os.environ, **harness.env, "AUTH_FAILURE_LIMIT_PER_MIN": str(FAILURES_ALLOWED)}
    env.pop("FORWARDED_ALLOW_IPS", None)
    service = SupervisedService(
        spec,
        env=env,
        cwd=find_repo_root(),
        log_path=Path(tmp_path_factory.mktemp("forwarded")) / "intake.log",
    )
    service.start()
    try:
        with httpx.Client(timeout=2) as client:
            healthy = False
            for _ in range(600):
                if service.exit_code() is not None:
                    break
                if service.check_health(client):
                    healthy = True
                    break
                time.sleep(0.1)
        assert healthy, service.log_path.read_text()[-2000:]
        yield spec.base_url
    finally:
        service.stop()
        # The buckets are the shared table's: this process's tight limit emptied 127.0.0.1's,
        # which the in-process services' test clients spend too.
        asyncio.run(_forget_failures(harness.env["INTAKE_DATABASE_URL"]))


async def _forget_failures(database_url: str) -> None:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(
            "DELETE FROM rate_limit_buckets WHERE bucket = 'auth-failures:127.0.0.1' "
            "OR bucket LIKE 'auth-failures:203.0.113.%'"
        )
    finally:
        await conn.close()


async def test_a_forged_forwarded_address_does_not_escape_the_failed_key_limit(
    intake_process: str,
) -> None:
    answers = []
    async with httpx.AsyncClient(base_url=intake_process, timeout=10) as client:
        for n in range(FAILURES_ALLOWED + 5):
            r = await client.get(
                "/v1/escalations",
                headers={
                    "Authorization": f"Bearer guessed-key-{random.randrange(10**9)}",
                    "X-Forwarded-For": f"203.0.113.{n + 1}",
                },
            )
            answers.append(r)
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {401, 429}, statuses
    assert 429 in statuses, statuses
    for r in answers:
        assert r.headers["content-type"].startswith(PROBLEM), r.text
    throttled = [r for r in answers if r.status_code == 429]
    assert all(r.headers.get("Retry-After") for r in throttled), statuses


def test_the_proxy_headers_are_taken_only_from_the_proxies_named() -> None:
    spec = ServiceSpec("intake", 8001)
    assert "--no-proxy-headers" in spec.command(environ={})
    assert "--no-proxy-headers" in spec.command(environ={"FORWARDED_ALLOW_IPS": " "})
    named = spec.command(environ={"FORWARDED_ALLOW_IPS": "10.0.0.5"})
    assert "--proxy-headers" in named and "--no-proxy-headers" not in named


async def test_the_limit_on_failed_keys_still_holds_from_the_connection(
    intake_process: str,
) -> None:
    """The same address in every request (no header): throttled as before."""
    async with httpx.AsyncClient(base_url=intake_process, timeout=10) as client:

        async def guess() -> int:
            r = await client.get("/v1/escalations", headers={"Authorization": "Bearer nope"})
            return r.status_code

        await eventually(guess, until=lambda status: status == 429, timeout=10, interval=0.05)
