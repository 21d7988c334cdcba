"""One paging convention on every list endpoint: `limit`, `cursor`, `{"items", "next"}` and a
`Link: <…>; rel="next"` header (docs/api.md, "Paging"). Walked page by page on real data."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Harness
from tests.support.factories import escalation_body, swiftship_event, uid
from tests.support.feed import feed_return
from tests.support.paging import all_pages
from tests.support.signing import swiftship_headers

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"


async def test_escalations_page_newest_first_without_gaps_or_repeats(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    seller = uid("S-PAGE")
    filed = []
    for _ in range(5):
        ret = await feed_return(intake, harness, seller_id=seller)
        r = await intake.client.post(
            "/v1/escalations",
            json=escalation_body(ret["return_id"], seller_id=seller, channel="EMAIL"),
            headers=harness.key(AGENT),
        )
        assert r.status_code == 201, r.text
        filed.append(r.json()["escalation_id"])
    seen = await all_pages(
        intake.client,
        "/v1/escalations",
        params={"seller_id": seller, "limit": 2},
        headers=harness.key(AGENT),
    )
    assert [e["escalation_id"] for e in seen] == list(reversed(filed))


async def test_watchlist_pages_newest_first(harness: Harness, pipeline: dict[str, Any]) -> None:
    fraud = pipeline["fraud"]
    added = []
    for _ in range(3):
        r = await fraud.client.post(
            "/v1/watchlist",
            json={"entity_type": "agent", "entity_id": uid("AG-PAGE"), "reason": "paging"},
            headers=harness.key(AGENT),
        )
        assert r.status_code == 201, r.text
        added.append(r.json()["id"])
    seen = await all_pages(
        fraud.client,
        "/v1/watchlist",
        params={"entity_type": "agent", "limit": 2},
        headers=harness.key(AGENT),
    )
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert [i for i in ids if i in added] == list(reversed(added))


async def test_suppressions_page_without_gaps_or_repeats(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    notifications = pipeline["notifications"]
    hashes = []
    for _ in range(3):
        r = await notifications.client.post(
            "/v1/suppressions",
            json={"address": f"{uid('page')}@example.com".lower()},
            headers=harness.key(MANAGER),
        )
        assert r.status_code == 201, r.text
        hashes.append(r.json()["address_hash"])
    seen = await all_pages(
        notifications.client,
        "/v1/suppressions",
        params={"limit": 2},
        headers=harness.key(MANAGER),
    )
    listed = [s["address_hash"] for s in seen]
    assert len(listed) == len(set(listed)) and set(hashes) <= set(listed)


async def test_a_text_key_of_any_script_and_length_pages_on(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """A page's cursor holds its last key: a partner's unknown status in Devanagari, or of 100
    characters outside the Basic Multilingual Plane, must come back as a cursor this API takes
    (it answered 422 "not one this API returned" for the first, and past the cursor's length
    for the second, and the pages after it could not be read)."""
    intake = pipeline["intake"]
    secret = harness.secrets["SWIFTSHIP_SECRET"]
    rid = (await feed_return(intake, harness))["return_id"]
    tag = uuid.uuid4().hex[:6]
    statuses = [f"वापसी-{tag}", f"{tag}" + "\U0001f4e6" * 94]
    for status in statuses:
        body = swiftship_event(rid, status)
        headers = swiftship_headers(secret, body, webhook_id=uid("msg"))
        r = await intake.client.post("/v1/webhooks/swiftship", content=body, headers=headers)
        assert r.status_code == 202 and r.json()["unmapped"] == [status], r.text
    listed = await all_pages(
        intake.client,
        "/v1/admin/unmapped-statuses",
        params={"partner_id": "swiftship", "limit": 1},
        headers=harness.key("DISPUTEDESK_KEY_ADMIN"),
    )
    assert set(statuses) <= {u["status"] for u in listed}
