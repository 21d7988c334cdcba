"""Every mutating route of every service, its request sent four times at once without an
`Idempotency-Key`: a client that retries on a timeout without one, two tabs, a double click.

The routes and a request each can act on come from the idempotency scenarios (one per mutating
route, so a new route is probed without being listed here). Whatever order the copies run in,
none is a 5xx, at least one acts, each refusal is problem+json with a status that says why (409
for a state or a unique key another copy took, 422 for a body the new state no longer allows),
and every ledger balances after.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.integration.test_idempotency import KEYED, SCENARIOS, World, _send
from tests.support.db import rows
from tests.support.reconciliation import Engine, engine
from tests.support.services import RunningService

PROBLEM = "application/problem+json"
COPIES = 4
# What a copy that did not act may answer: a state or unique key another copy took (409), a
# body the state the other copy left no longer allows (422), the caller's rate limit (429).
REFUSALS = {409, 422, 429}
UNBALANCED = (
    "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0"
)


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "duplicates") as eng:
        yield eng


@pytest.mark.parametrize(("service", "method", "path"), KEYED, ids=lambda v: str(v))
async def test_the_same_request_four_times_at_once_without_a_key(
    service: str,
    method: str,
    path: str,
    harness: Harness,
    pipeline: dict[str, RunningService],
    desk: Engine,
) -> None:
    call = await SCENARIOS[(service, method, path)](World(harness, pipeline, desk))
    auth = harness.key(call.key_env)
    answers = await asyncio.gather(
        *(_send(call.client, method, call.path, call.body, auth) for _ in range(COPIES))
    )
    shown = [(r.status_code, r.text[:300]) for r in answers]
    assert all(r.status_code < 500 for r in answers), shown
    assert any(200 <= r.status_code < 300 for r in answers), shown
    # A DELETE's copy finds the object already gone: 404, as for any id that names nothing.
    refusals = REFUSALS | ({404} if method == "DELETE" else set())
    for r in answers:
        if r.status_code >= 400:
            assert r.status_code in refusals, shown
            assert r.headers["content-type"].startswith(PROBLEM), shown
    assert await desk.sql(UNBALANCED) == []
    assert await rows(pipeline["reconciliation"], UNBALANCED) == []
