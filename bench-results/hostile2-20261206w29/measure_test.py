"""Ad-hoc measurement for the session's SUMMARY (not committed)."""

from __future__ import annotations

import json

from tests.conftest import Harness
from tests.integration.test_hostile_boundaries import BIDI, PAGED, _webhook
from tests.integration.test_hostile_sweep import _key, _send, _url
from tests.support.db import scalar
from tests.support.factories import swiftship_event, uid
from tests.support.feed import feed_return
from tests.support.services import RunningService


async def test_measure(harness: Harness, pipeline: dict[str, RunningService]) -> None:
    out: dict[str, object] = {}
    empty_ok = 0
    for op in PAGED:
        r = await _send(pipeline[op.service].client, "GET", f"{_url(op)}?cursor=",
                        headers=_key(harness, op))
        empty_ok += r.status_code == 200
    out["paged_routes"] = len(PAGED)
    out["empty_cursor_answered_200"] = empty_ok
    fraud = pipeline["fraud"].client
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    accepted = 0
    for ch in BIDI:
        r = await fraud.post("/v1/watchlist", json={"entity_type": "seller",
                             "entity_id": uid("S-M"), "reason": f"a{ch}b"}, headers=manager)
        accepted += r.status_code in (200, 201)
    out["bidi_in_reason_accepted"] = f"{accepted}/{len(BIDI)}"
    intake = pipeline["intake"]
    ret = await feed_return(intake, harness)
    msg = uid("msg")
    body = swiftship_event(ret["return_id"], event="return.picked_up")
    for _ in range(100):
        await _webhook(harness, intake, "swiftship", body, webhook_id=msg)
    out["archive_rows_after_100_deliveries"] = await scalar(
        intake, "SELECT count(*) FROM raw_requests WHERE headers->>'webhook-id' = :m", m=msg)
    out["archive_bytes_after_100_deliveries"] = await scalar(
        intake, "SELECT sum(octet_length(body)) FROM raw_requests WHERE headers->>'webhook-id' = :m", m=msg)
    print("MEASURE", json.dumps(out))
