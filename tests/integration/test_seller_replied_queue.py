"""The queue's "seller replied" filter, end to end through Kafka: notifications records a
seller's reply and publishes it, reconciliation marks the case as having an unread reply, the
review desk's queue filters on it; when the desk reads the conversation, notifications
publishes `SellerRepliesRead` and the case leaves the filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import Harness
from tests.integration.test_seller_directory import AGENT, _mails
from tests.integration.test_seller_replies import ADMIN, _claim_waiting_for_evidence, _reply
from tests.support.waiting import eventually


async def _queue_ids(recon: Any, harness: Harness, **params: Any) -> dict[str, dict[str, Any]]:
    r = await recon.client.get(
        "/v1/cases", params={"limit": 500, **params}, headers=harness.key(AGENT)
    )
    assert r.status_code == 200, r.text
    return {c["case_id"]: c for c in r.json()["items"]}


async def test_a_seller_reply_puts_the_case_in_the_replied_filter_until_the_desk_reads_it(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon, notifications = pipeline["reconciliation"], pipeline["notifications"]
    rid, address, case = await _claim_waiting_for_evidence(harness, pipeline)
    cid = case["case_id"]
    assert cid not in await _queue_ids(recon, harness, seller_replied="true")
    assert cid in await _queue_ids(
        recon, harness, seller_replied="false", seller_id=case["seller_id"]
    )

    [request] = await _mails(harness, rid, "Please send evidence")
    mail = _reply(
        address, str(request["Reply-To"]), str(request["Subject"]), quoted="x", attachments=False
    )
    r = await notifications.client.post(
        "/v1/inbound/email",
        content=mail.as_bytes(),
        headers={**harness.key(ADMIN), "content-type": "message/rfc822"},
    )
    assert r.status_code == 202, r.text
    received_at = datetime.fromisoformat(r.json()["received_at"])

    async def replied() -> dict[str, Any] | None:
        return (await _queue_ids(recon, harness, seller_replied="true")).get(cid)

    row = await eventually(replied, timeout=30)
    assert datetime.fromisoformat(row["seller_unread_since"]) == received_at
    assert cid not in await _queue_ids(
        recon, harness, seller_replied="false", seller_id=case["seller_id"]
    )

    r = await notifications.client.post(
        f"/v1/cases/{cid}/conversation/read", headers=harness.key(AGENT)
    )
    assert r.json()["marked_read"] == 1

    async def cleared() -> dict[str, Any] | None:
        rows = await _queue_ids(recon, harness, seller_replied="false", seller_id=case["seller_id"])
        return rows.get(cid)

    row = await eventually(cleared, timeout=30)
    assert row["seller_unread_since"] is None
    assert cid not in await _queue_ids(recon, harness, seller_replied="true")

    # Reading again marks nothing and publishes nothing; the case stays out of the filter.
    r = await notifications.client.post(
        f"/v1/cases/{cid}/conversation/read", headers=harness.key(AGENT)
    )
    assert r.json()["marked_read"] == 0
