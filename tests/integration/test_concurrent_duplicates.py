"""The same new thing sent several times at once, without an Idempotency-Key (or under several):
every copy passes the route's "does it exist yet?" check before any of them has stored it, and
the database's unique constraint lets one through. The others stored nothing and answer 409
problem+json with Retry-After (`shared/problems.py`), never a 500; retried, they get the answer
the stored one now gives.

The race is made certain, not hoped for: a transaction holds the table in a mode that lets
reads through and stops writes, the copies are sent, and the lock is released only once every
copy waits on it with its insert, so all of them have passed their check whichever runs first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.services import RunningService
from tests.support.waiting import eventually

PROBLEM = "application/problem+json"
COPIES = 3


async def _all_past_their_check(
    service: RunningService, table: str, send: Callable[[], Awaitable[httpx.Response]]
) -> list[httpx.Response]:
    """`COPIES` concurrent `send()`s, each held at its insert into `table` until all are."""
    engine = service.runtime.engine
    async with engine.connect() as holder:
        await holder.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        sent = [asyncio.create_task(send()) for _ in range(COPIES)]

        async def waiting() -> int:
            n = await scalar(
                service,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE :insert",
                insert=f"INSERT INTO {table} %",
            )
            return int(n)

        await eventually(
            waiting,
            until=lambda n: n == COPIES,
            timeout=60,
            what=f"{COPIES} inserts into {table} waiting on the lock",
        )
        await holder.rollback()  # releases the lock: the copies race on the unique key
    return list(await asyncio.gather(*sent))


def _one_stored_the_rest_conflict(
    responses: list[httpx.Response], stored: int
) -> list[dict[str, Any]]:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [stored] + [409] * (COPIES - 1), [r.text[:300] for r in responses]
    conflicts = [r for r in responses if r.status_code == 409]
    for r in conflicts:
        assert r.headers["content-type"].startswith(PROBLEM), r.text
        assert r.headers["retry-after"] == "1"
    docs = [r.json() for r in conflicts]
    for doc in docs:
        # Nothing internal: no constraint, table or SQL in the answer.
        assert "constraint" not in doc["detail"] and "INSERT" not in doc["detail"], doc
    return docs


@pytest.fixture
def reconciliation(pipeline: dict[str, RunningService]) -> RunningService:
    return pipeline["reconciliation"]


async def test_one_policy_draft_of_a_version_sent_at_once(
    harness: Harness, reconciliation: RunningService
) -> None:
    version = f"sop-race-{uuid.uuid4().hex[:8]}"
    body = {"version": version, "changes": {"windows": {"claim_window_h": 119}}}
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")

    async def send() -> httpx.Response:
        return await reconciliation.client.post("/v1/policies", json=body, headers=manager)

    responses = await _all_past_their_check(reconciliation, "policies", send)
    _one_stored_the_rest_conflict(responses, stored=201)
    n = await scalar(reconciliation, "SELECT count(*) FROM policies WHERE version = :v", v=version)
    assert n == 1
    changes = await scalar(
        reconciliation, "SELECT count(*) FROM policy_changes WHERE version = :v", v=version
    )
    assert changes == 1  # one draft, one line in the change log
    # A retry meets the stored draft through the route's own check.
    again = await send()
    assert again.status_code == 409 and "already exists" in again.json()["detail"], again.text


async def test_a_notice_endpoint_put_several_times_at_once_is_an_upsert(
    harness: Harness, reconciliation: RunningService
) -> None:
    """A PUT is idempotent: first registrations of one partner racing each other all succeed,
    one after the other, and the row holds one of the values sent (it was a 409 for the losers:
    a read-then-insert)."""
    partner = f"race-{uuid.uuid4().hex[:10]}"
    urls = iter(f"http://127.0.0.1:9/notices/{i}" for i in range(COPIES))
    admin = harness.key("DISPUTEDESK_KEY_ADMIN")

    async def send() -> httpx.Response:
        body = {
            "url": next(urls),
            "scheme": "timestamped_hmac",
            "secret": "rr_race_" + uuid.uuid4().hex,
        }
        return await reconciliation.client.put(
            f"/v1/partner-endpoints/{partner}", json=body, headers=admin
        )

    responses = await _all_past_their_check(reconciliation, "partner_endpoints", send)
    assert [r.status_code for r in responses] == [200] * COPIES, [r.text for r in responses]
    sent = {r.json()["url"] for r in responses}
    assert len(sent) == COPIES  # each answered with its own values
    n = await scalar(
        reconciliation, "SELECT count(*) FROM partner_endpoints WHERE partner_id = :p", p=partner
    )
    assert n == 1
    stored = await scalar(
        reconciliation, "SELECT url FROM partner_endpoints WHERE partner_id = :p", p=partner
    )
    assert stored in sent
    listed = await reconciliation.client.get("/v1/partner-endpoints?limit=500", headers=admin)
    assert [e["url"] for e in listed.json()["items"] if e["partner_id"] == partner] == [stored]


async def test_a_copy_that_lost_the_race_may_be_retried_under_its_own_idempotency_key(
    harness: Harness, reconciliation: RunningService
) -> None:
    """The losing copy's claim on its Idempotency-Key is released when its insert fails (the
    flush is inside the guarded action), so its retry runs again rather than waiting out the
    claim as "still in flight"."""
    version = f"sop-race-{uuid.uuid4().hex[:8]}"
    body = {"version": version, "changes": {"windows": {"claim_window_h": 118}}}
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    keys = iter([f"race-{i}-{uuid.uuid4().hex[:8]}" for i in range(COPIES)])
    sent_with: dict[int, str] = {}

    async def send() -> httpx.Response:
        key = next(keys)
        response = await reconciliation.client.post(
            "/v1/policies", json=body, headers={**manager, "Idempotency-Key": key}
        )
        sent_with[id(response)] = key
        return response

    responses = await _all_past_their_check(reconciliation, "policies", send)
    _one_stored_the_rest_conflict(responses, stored=201)
    for lost in [r for r in responses if r.status_code == 409]:
        again = await reconciliation.client.post(
            "/v1/policies",
            json=body,
            headers={**manager, "Idempotency-Key": sent_with[id(lost)]},
        )
        assert again.status_code == 409 and "already exists" in again.json()["detail"], again.text


async def test_a_seller_put_several_times_at_once_makes_one_version_each(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """A new seller's profile PUT with several bodies at once, rounds of it: one answer 201 (the
    seller is new), the rest 200; each change is one version, numbered without a gap or a
    repeat; the stored profile is one of those sent, never a mix; no 5xx."""
    notifications = pipeline["notifications"]
    marketplace = harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    for _ in range(4):
        seller = f"S-RACE-{uuid.uuid4().hex[:10].upper()}"
        addresses = [f"race-{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(COPIES)]
        responses = await asyncio.gather(
            *(
                notifications.client.put(
                    f"/v1/sellers/{seller}",
                    json={"emails": [a], "display_name": "Race Traders", "language": "en"},
                    headers=marketplace,
                )
                for a in addresses
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (COPIES - 1) + [201], [r.text[:300] for r in responses]
        versions = sorted(r.json()["version"] for r in responses)
        assert versions == list(range(1, COPIES + 1)), versions
        history = await scalar(
            notifications,
            "SELECT count(*) FROM seller_profile_changes WHERE seller_id = :s",
            s=seller,
        )
        assert history == COPIES
        r = await notifications.client.get(f"/v1/sellers/{seller}", headers=marketplace)
        assert r.json()["emails"][0] in addresses and r.json()["version"] == COPIES, r.text
