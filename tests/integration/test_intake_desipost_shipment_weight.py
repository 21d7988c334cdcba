"""desipost through intake's webhook: a snapshot that weighs the shipment once, not at its pickup
scan, still gives the canonical pickup event its weight, so the drop at delivery can be read."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import desipost_snapshot, uid
from tests.support.feed import feed_return
from tests.support.signing import desipost_headers


async def test_a_pickup_weighed_only_for_the_shipment_reaches_the_canonical_event(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid, awb = uid("RET"), uid("DP")
    await feed_return(intake, harness, rid, partner_id="desipost", awb=awb)
    body = json.loads(
        desipost_snapshot(
            rid,
            awb,
            [
                ("PICKED UP", "24-11-2026 15:43:02"),
                ("IN TRANSIT", "25-11-2026 02:10:00"),
                ("DELIVERED", "26-11-2026 13:30:45"),
            ],
        )
    )
    del body["scans"][0]["weight"]  # the pickup scan carries none; the shipment's is 0.45 kg
    body["scans"][2]["weight"] = "310 g"
    r = await intake.client.post(
        "/v1/webhooks/desipost",
        content=json.dumps(body).encode(),
        headers=desipost_headers(harness.secrets["DESIPOST_API_KEY"]),
    )
    assert r.status_code == 202, r.text

    async def weight(event_type: str) -> int | None:
        value = await scalar(
            intake,
            "SELECT (payload->>'weight_g')::int FROM shipment_events "
            "WHERE return_id = :r AND event_type = :t",
            r=rid,
            t=event_type,
        )
        return None if value is None else int(value)

    assert await weight("PICKED_UP") == 450
    assert await weight("IN_TRANSIT") is None
    assert await weight("DELIVERED_TO_SELLER") == 310
