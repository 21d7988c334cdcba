"""Partner webhooks end to end on the real stack: three formats, dedup, archive, unmapped
statuses and replay, rotation, limits."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY

from shared.auth import hash_key
from shared.clock import ManualClock
from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import (
    FIXTURES,
    desipost_snapshot,
    rapidroute_batch,
    rapidroute_event,
    swiftship_event,
    uid,
)
from tests.support.feed import feed_return
from tests.support.paging import all_pages
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers

PROBLEM = "application/problem+json"


def admin(harness: Harness) -> dict[str, str]:
    return harness.key("DISPUTEDESK_KEY_ADMIN")


async def outbox_types(intake: Any, return_id: str) -> list[str]:
    return [
        r[0]
        for r in await rows(
            intake,
            "SELECT payload->>'event_type' FROM outbox WHERE key = :k "
            "AND ce_type = 'disputedesk.intake.return_shipment_event.v1' ORDER BY id",
            k=return_id,
        )
    ]


async def test_rapidroute_sample_is_accepted_once_and_redelivery_emits_nothing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    sample = json.loads((FIXTURES / "partners" / "rapidroute-batch.json").read_bytes())
    event = sample["events"][0]
    ret = await feed_return(intake, harness, rid, partner_id="rapidroute", awb=uid("RR"))
    event.update(id=uid("evt"), shipment={"awb": ret["awb"], "ref": rid})
    body = rapidroute_batch([event])
    secret = harness.secrets["RAPIDROUTE_SECRET"]

    r = await intake.client.post(
        "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1 and r.json()["duplicates"] == 0
    first_raw = r.json()["raw_ref"]

    # The same event again, in a new (re-signed) request: acknowledged, nothing new emitted.
    r = await intake.client.post(
        "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 0 and r.json()["duplicates"] == 1
    assert await outbox_types(intake, rid) == ["DELIVERED_TO_SELLER"]

    # The same body is the same request: archived once, the redelivery answered with its copy.
    assert r.json()["raw_ref"] == first_raw
    verdicts = await rows(
        intake,
        "SELECT id::text, verdict FROM raw_requests WHERE partner_id = 'rapidroute' "
        "AND body = :body",
        body=body,
    )
    assert verdicts == [(first_raw, "accepted")]
    raw = await intake.client.get(f"/v1/admin/raw-requests/{first_raw}", headers=admin(harness))
    assert raw.status_code == 200
    assert raw.json()["body"].encode() == body  # byte for byte
    assert "rapidroute-signature" in raw.json()["headers"]

    payload = json.loads(
        await scalar(
            intake,
            "SELECT payload::text FROM outbox WHERE key = :k AND ce_type = :t",
            k=rid,
            t="disputedesk.intake.return_shipment_event.v1",
        )
    )
    assert payload["weight_g"] == 380 and payload["pod_otp_verified"] is True
    assert payload["raw_ref"] == first_raw
    assert payload["occurred_at"].startswith(
        datetime.fromtimestamp(event["ts"] / 1000, UTC).isoformat()[:19]
    )


async def test_rapidroute_batch_of_500_in_one_request_and_bad_batch_stores_nothing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    secret = harness.secrets["RAPIDROUTE_SECRET"]
    rid = (await feed_return(intake, harness, partner_id="rapidroute"))["return_id"]
    events = [rapidroute_event(rid, "RIT", event_id=f"{rid}-{i}") for i in range(500)]
    body = rapidroute_batch(events)
    r = await intake.client.post(
        "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 500

    rid2 = uid("RET")
    good = [rapidroute_event(rid2, "RPU") for _ in range(3)]
    bad = {**rapidroute_event(rid2, "RDL"), "ts": "soon"}
    body = rapidroute_batch([*good, bad])
    r = await intake.client.post(
        "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
    assert "body.events.3.ts" in [e["field"] for e in r.json()["errors"]]
    assert (
        await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid2)
        == 0
    )
    assert (
        await scalar(
            intake,
            "SELECT verdict FROM raw_requests WHERE id = :i",
            i=uuid.UUID(r.json()["raw_ref"]),
        )
        == "invalid"
    )

    too_many = rapidroute_batch([rapidroute_event(rid2) for _ in range(501)])
    r = await intake.client.post(
        "/v1/webhooks/rapidroute", content=too_many, headers=rapidroute_headers(secret, too_many)
    )
    assert r.status_code == 422
    assert "body.events" in [e["field"] for e in r.json()["errors"]]


async def test_rapidroute_auth_failures(harness: Harness, pipeline: dict[str, Any]) -> None:
    client = pipeline["intake"].client
    secret = harness.secrets["RAPIDROUTE_SECRET"]
    body = rapidroute_batch([rapidroute_event(uid("RET"))])
    now = int(datetime.now(UTC).timestamp())
    cases = [
        rapidroute_headers(secret, body + b" "),  # signed a different body
        rapidroute_headers(secret, body, timestamp=now - 400),  # stale
        rapidroute_headers(secret, body, timestamp=now + 400),  # future
        rapidroute_headers("rr_live_not_the_secret", body),
        {"content-type": "application/json"},
    ]
    for headers in cases:
        r = await client.post("/v1/webhooks/rapidroute", content=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.post(
        "/v1/webhooks/rapidroute",
        content=body,
        headers=desipost_headers(harness.secrets["DESIPOST_API_KEY"]),
    )
    assert r.status_code == 401  # another partner's credential is no credential here


async def test_desipost_snapshot_three_times_with_growing_history_emits_each_scan_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    headers = desipost_headers(harness.secrets["DESIPOST_API_KEY"])
    rid, awb = uid("RET"), uid("DP")
    await feed_return(intake, harness, rid, partner_id="desipost", awb=awb)
    history = [
        ("PICKUP SCHEDULED", "24-11-2026 10:00:00"),
        ("PICKED UP", "24-11-2026 15:43:02"),
        ("IN TRANSIT", "25-11-2026 02:10:00"),
        ("OUT FOR DELIVERY", "26-11-2026 09:05:00"),
        ("DELIVERED", "26-11-2026 13:30:45"),
    ]
    expected_new = [2, 1, 2]
    for size, new in zip((2, 3, 5), expected_new, strict=True):
        body = desipost_snapshot(rid, awb, history[:size])
        r = await intake.client.post("/v1/webhooks/desipost", content=body, headers=headers)
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == new
        assert r.json()["duplicates"] == size - new
    # The whole snapshot once more: nothing new at all.
    r = await intake.client.post("/v1/webhooks/desipost", content=body, headers=headers)
    assert r.json()["accepted"] == 0 and r.json()["duplicates"] == 5

    assert await outbox_types(intake, rid) == [
        "PICKUP_SCHEDULED",
        "PICKED_UP",
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "DELIVERED_TO_SELLER",
    ]
    delivered = json.loads(
        await scalar(
            intake,
            "SELECT payload::text FROM shipment_events WHERE return_id = :r "
            "AND event_type = 'DELIVERED_TO_SELLER'",
            r=rid,
        )
    )
    # 26-11-2026 13:30:45 in India is 08:00:45 UTC; "450 g" is 450 grams.
    assert delivered["occurred_at"] == "2026-11-26T08:00:45Z"
    assert delivered["weight_g"] == 450 and delivered["pod_otp_verified"] is True

    # The API key is not archived with the request (it is a bearer credential).
    raw_headers = await scalar(
        intake,
        "SELECT headers::text FROM raw_requests WHERE id = :i",
        i=uuid.UUID(r.json()["raw_ref"]),
    )
    assert harness.secrets["DESIPOST_API_KEY"] not in raw_headers


async def test_desipost_weight_in_kilograms_and_bad_key(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid, awb = uid("RET"), uid("DP")
    await feed_return(intake, harness, rid, partner_id="desipost", awb=awb)
    body = json.loads(desipost_snapshot(rid, awb, [("PICKED UP", "24-11-2026 15:43:02")]))
    body["scans"][0]["weight"] = "0.45 kg"
    raw = json.dumps(body).encode()
    r = await intake.client.post(
        "/v1/webhooks/desipost",
        content=raw,
        headers=desipost_headers(harness.secrets["DESIPOST_API_KEY"]),
    )
    assert r.status_code == 202, r.text
    assert (
        await scalar(
            intake,
            "SELECT (payload->>'weight_g')::int FROM shipment_events WHERE return_id = :r",
            r=rid,
        )
        == 450
    )
    r = await intake.client.post(
        "/v1/webhooks/desipost", content=raw, headers=desipost_headers("dp_guess_the_key_000000")
    )
    assert r.status_code == 401


async def test_out_of_order_events_keep_the_partner_time(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    secret = harness.secrets["RAPIDROUTE_SECRET"]
    rid = (await feed_return(intake, harness, partner_id="rapidroute"))["return_id"]
    t0 = datetime.now(UTC) - timedelta(days=2)
    arrivals = (("RDL", t0 + timedelta(days=1)), ("RPU", t0), ("RIT", t0 + timedelta(hours=5)))
    for code, at in arrivals:
        body = rapidroute_batch([rapidroute_event(rid, code, ts=at)])
        r = await intake.client.post(
            "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
        )
        assert r.status_code == 202, r.text
    assert await outbox_types(intake, rid) == ["DELIVERED_TO_SELLER", "PICKED_UP", "IN_TRANSIT"]
    r = await intake.client.get(
        f"/v1/returns/{rid}/events", headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    )
    assert r.status_code == 200, r.text
    history = r.json()["items"]
    assert [e["payload"].get("event_type") for e in history] == [
        None,  # the return itself, fed before its scans
        "PICKED_UP",
        "IN_TRANSIT",
        "DELIVERED_TO_SELLER",
    ]
    r = await intake.client.get(
        f"/v1/returns/{rid}/events", headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    )
    assert r.status_code == 403


def unmapped_count(partner: str, status: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "intake_unmapped_status_total", {"partner": partner, "status": status}
        )
        or 0.0
    )


async def test_unknown_status_then_mapping_then_replay_emits_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    secret = harness.secrets["SWIFTSHIP_SECRET"]
    rid = (await feed_return(intake, harness))["return_id"]
    status = f"return.rto_{uuid.uuid4().hex[:6]}"
    webhook_id = uid("msg")
    body = swiftship_event(rid, status)
    before = unmapped_count("swiftship", status)

    raw_refs = []
    for _ in range(2):  # the partner retries: still one unmapped scan, counted once
        r = await intake.client.post(
            "/v1/webhooks/swiftship",
            content=body,
            headers=swiftship_headers(secret, body, webhook_id=webhook_id),
        )
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == 0 and r.json()["unmapped"] == [status]
        raw_refs.append(r.json()["raw_ref"])
    # The retry is the same request: archived once, both answers naming that copy.
    assert raw_refs[0] == raw_refs[1]
    assert (
        await scalar(
            intake, "SELECT verdict FROM raw_requests WHERE id = :i", i=uuid.UUID(raw_refs[0])
        )
        == "unmapped"
    )
    assert unmapped_count("swiftship", status) == before + 1
    assert await outbox_types(intake, rid) == []

    listed = await all_pages(
        intake.client,
        "/v1/admin/unmapped-statuses",
        params={"partner_id": "swiftship"},
        headers=admin(harness),
    )
    [entry] = [u for u in listed if u["status"] == status]
    assert entry["scans"] == 1 and entry["mapped_now"] is False

    r = await intake.client.post(
        "/v1/admin/partners/swiftship/status-mappings",
        json={"status": status, "event_type": "PICKUP_FAILED"},
        headers=admin(harness),
    )
    assert r.status_code == 201, r.text
    r = await intake.client.post(
        "/v1/admin/replay", json={"partner_id": "swiftship"}, headers=admin(harness)
    )
    assert r.status_code == 200, r.text
    assert r.json()["events_emitted"] == 1
    assert await outbox_types(intake, rid) == ["PICKUP_FAILED"]
    raw_of_event = await scalar(
        intake,
        "SELECT payload->>'raw_ref' FROM outbox WHERE key = :k AND ce_type LIKE '%shipment%'",
        k=rid,
    )
    assert raw_of_event == raw_refs[0]  # the event points at the archived request it came in

    # Replaying again, or the partner redelivering, emits nothing more.
    r = await intake.client.post("/v1/admin/replay", json={}, headers=admin(harness))
    assert r.json()["events_emitted"] == 0
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(secret, body, webhook_id=webhook_id),
    )
    assert r.json()["accepted"] == 0 and r.json()["duplicates"] == 1
    assert await outbox_types(intake, rid) == ["PICKUP_FAILED"]
    listed = await all_pages(
        intake.client, "/v1/admin/unmapped-statuses", params={"limit": 2}, headers=admin(harness)
    )
    assert status not in [u["status"] for u in listed]

    # A later event with that status is mapped on arrival.
    body2 = swiftship_event(rid, status)
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body2,
        headers=swiftship_headers(secret, body2, webhook_id=uid("msg")),
    )
    assert r.json()["accepted"] == 1


async def test_the_same_unmapped_webhook_sent_20_times_at_once_is_archived_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """partners.md: an unmapped status is archived for replay. Twenty copies of one request
    (same partner, same webhook-id, same body) at once were archived twenty times though the
    scan was counted once; another body under a new id is another request."""
    intake = pipeline["intake"]
    secret = harness.secrets["SWIFTSHIP_SECRET"]
    rid = (await feed_return(intake, harness))["return_id"]
    status = f"return.odd_{uuid.uuid4().hex[:6]}"
    webhook_id = uid("msg")
    body = swiftship_event(rid, status)

    async def send() -> Any:
        return await intake.client.post(
            "/v1/webhooks/swiftship",
            content=body,
            headers=swiftship_headers(secret, body, webhook_id=webhook_id),
        )

    answers = await asyncio.gather(*(send() for _ in range(20)))
    assert [a.status_code for a in answers] == [202] * 20, [a.text for a in answers]
    assert {a.json()["raw_ref"] for a in answers} == {answers[0].json()["raw_ref"]}
    archived = await rows(
        intake,
        "SELECT id, verdict FROM raw_requests WHERE partner_id = 'swiftship' "
        "AND headers->>'webhook-id' = :w",
        w=webhook_id,
    )
    assert [(str(r[0]), r[1]) for r in archived] == [(answers[0].json()["raw_ref"], "unmapped")]

    # Another request (a new webhook-id and body) is archived on its own: the key is the
    # partner's id and the bytes together.
    other = swiftship_event(rid, status)
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=other,
        headers=swiftship_headers(secret, other, webhook_id=uid("msg")),
    )
    assert r.status_code == 202 and r.json()["raw_ref"] != answers[0].json()["raw_ref"]

    # The mapping added, the archived copy is replayed once: one event, naming that copy.
    r = await intake.client.post(
        "/v1/admin/partners/swiftship/status-mappings",
        json={"status": status, "event_type": "AT_HUB"},
        headers=admin(harness),
    )
    assert r.status_code == 201, r.text
    r = await intake.client.post(
        "/v1/admin/replay", json={"partner_id": "swiftship"}, headers=admin(harness)
    )
    assert r.status_code == 200, r.text
    assert await outbox_types(intake, rid) == ["AT_HUB", "AT_HUB"]


async def test_desipost_unmapped_scan_in_a_snapshot_is_replayed_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    headers = desipost_headers(harness.secrets["DESIPOST_API_KEY"])
    rid, awb = uid("RET"), uid("DP")
    await feed_return(intake, harness, rid, partner_id="desipost", awb=awb)
    odd = f"RTO {uuid.uuid4().hex[:6].upper()}"
    scans = [("PICKED UP", "24-11-2026 15:43:02"), (odd, "25-11-2026 11:00:00")]
    body = desipost_snapshot(rid, awb, scans)
    r = await intake.client.post("/v1/webhooks/desipost", content=body, headers=headers)
    assert r.json()["accepted"] == 1 and r.json()["unmapped"] == [odd]
    assert (
        await scalar(
            intake,
            "SELECT verdict FROM raw_requests WHERE id = :i",
            i=uuid.UUID(r.json()["raw_ref"]),
        )
        == "partially_unmapped"
    )
    grown = desipost_snapshot(rid, awb, [*scans, ("DELIVERED", "26-11-2026 13:30:45")])
    r = await intake.client.post("/v1/webhooks/desipost", content=grown, headers=headers)
    assert r.json()["accepted"] == 1 and r.json()["unmapped"] == [odd]

    r = await intake.client.post(
        "/v1/admin/partners/desipost/status-mappings",
        json={"status": odd, "event_type": "AT_HUB"},
        headers=admin(harness),
    )
    assert r.status_code == 201
    r = await intake.client.post(
        "/v1/admin/replay", json={"partner_id": "desipost"}, headers=admin(harness)
    )
    assert r.json()["events_emitted"] == 1
    assert await outbox_types(intake, rid) == ["PICKED_UP", "DELIVERED_TO_SELLER", "AT_HUB"]
    r = await intake.client.post("/v1/webhooks/desipost", content=grown, headers=headers)
    assert r.json()["accepted"] == 0 and r.json()["duplicates"] == 3
    r = await intake.client.post("/v1/admin/replay", json={}, headers=admin(harness))
    assert r.json()["events_emitted"] == 0
    assert len(await outbox_types(intake, rid)) == 3


async def test_secret_rotation_old_and_new_valid_until_not_after(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    partner_id = uid("rr").lower()
    old, new = "rr_live_" + uuid.uuid4().hex, "rr_live_" + uuid.uuid4().hex
    r = await intake.client.post(
        "/v1/admin/partners",
        json={
            "partner_id": partner_id,
            "display_name": "RapidRoute West",
            "scheme": "rapidroute",
            "liability_cap": 500_000,
            "rate_limit_per_s": 100,
            "secret": old,
        },
        headers=admin(harness),
    )
    assert r.status_code == 201, r.text
    assert "secret" not in r.text.replace('"secrets"', "")
    clock = ManualClock(datetime.now(UTC))
    runtime = intake.runtime
    saved, runtime.clock = runtime.clock, clock
    try:

        async def send(secret: str) -> int:
            body = rapidroute_batch([rapidroute_event(uid("RET"))])
            ts = int(clock.now().timestamp())
            resp = await intake.client.post(
                f"/v1/webhooks/{partner_id}",
                content=body,
                headers=rapidroute_headers(secret, body, timestamp=ts),
            )
            return resp.status_code

        assert await send(old) == 202 and await send(new) == 401
        r = await intake.client.post(
            f"/v1/admin/partners/{partner_id}/secrets",
            json={
                "secret": new,
                "previous_not_after": (clock.now() + timedelta(hours=24)).isoformat(),
            },
            headers=admin(harness),
        )
        assert r.status_code == 200, r.text
        assert [s["active"] for s in r.json()["secrets"]] == [True, True]
        assert await send(old) == 202 and await send(new) == 202
        clock.advance(timedelta(hours=24, seconds=1))
        assert await send(old) == 401 and await send(new) == 202
    finally:
        runtime.clock = saved
    listed = await all_pages(
        intake.client, "/v1/admin/partners", params={"limit": 2}, headers=admin(harness)
    )
    [mine] = [p for p in listed if p["partner_id"] == partner_id]
    assert len(mine["secrets"]) == 2 and mine["scheme"] == "rapidroute"


async def test_desipost_keys_are_stored_hashed_and_rotate(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    partner_id = uid("dp").lower()
    old, new = "dp_" + uuid.uuid4().hex, "dp_" + uuid.uuid4().hex
    r = await intake.client.post(
        "/v1/admin/partners",
        json={
            "partner_id": partner_id,
            "display_name": "DesiPost East",
            "scheme": "desipost",
            "liability_cap": 250_000,
            "secret": old,
        },
        headers=admin(harness),
    )
    assert r.status_code == 201, r.text
    stored = await rows(
        intake,
        "SELECT secret_encrypted, secret_hash FROM partner_secrets WHERE partner_id = :p",
        p=partner_id,
    )
    assert stored == [(None, hash_key(old))]
    r = await intake.client.post(
        f"/v1/admin/partners/{partner_id}/secrets",
        json={"secret": new, "previous_not_after": "2020-01-01T00:00:00Z"},  # revoke now
        headers=admin(harness),
    )
    assert r.status_code == 200
    body = desipost_snapshot(uid("RET"), uid("DP"), [("PICKED UP", "24-11-2026 15:43:02")])
    for key, expected in ((old, 401), (new, 202)):
        r = await intake.client.post(
            f"/v1/webhooks/{partner_id}", content=body, headers=desipost_headers(key)
        )
        assert r.status_code == expected, r.text
    # Admin API refuses a duplicate partner, an unknown scheme, a bad swiftship secret.
    for payload, status in (
        ({"partner_id": partner_id, "scheme": "desipost", "secret": new}, 409),
        ({"partner_id": uid("x").lower(), "scheme": "pigeonpost", "secret": new}, 422),
        (
            {"partner_id": uid("x").lower(), "scheme": "swiftship", "secret": "not-a-whsec-secret"},
            422,
        ),
    ):
        r = await intake.client.post(
            "/v1/admin/partners",
            json={"display_name": "X", "liability_cap": 1, **payload},
            headers=admin(harness),
        )
        assert r.status_code == status, r.text
    r = await intake.client.get(
        "/v1/admin/partners", headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    )
    assert r.status_code == 403


async def test_rate_limit_answers_429_with_retry_after(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    partner_id = uid("slow").lower()
    secret = "rr_live_" + uuid.uuid4().hex
    r = await intake.client.post(
        "/v1/admin/partners",
        json={
            "partner_id": partner_id,
            "display_name": "Slow",
            "scheme": "rapidroute",
            "liability_cap": 1,
            "rate_limit_per_s": 2,
            "secret": secret,
        },
        headers=admin(harness),
    )
    assert r.status_code == 201
    # Sent at once, so the bucket (2 tokens, refilled at 2/s) cannot refill in between however
    # slow the machine is.
    bodies = [rapidroute_batch([rapidroute_event(uid("RET"))]) for _ in range(6)]
    responses = await asyncio.gather(
        *(
            intake.client.post(
                f"/v1/webhooks/{partner_id}", content=body, headers=rapidroute_headers(secret, body)
            )
            for body in bodies
        )
    )
    codes = sorted(resp.status_code for resp in responses)
    for resp in responses:
        if resp.status_code == 429:
            assert int(resp.headers["Retry-After"]) >= 1
            assert resp.headers["content-type"].startswith(PROBLEM)
    assert codes.count(202) >= 2 and codes.count(429) >= 1 and set(codes) <= {202, 429}
    metrics = (await intake.client.get("/metrics")).text
    sample = f'intake_webhook_requests_total{{outcome="rate_limited",partner="{partner_id}"}}'
    assert sample in metrics


async def test_bad_bodies_for_every_partner(harness: Harness, pipeline: dict[str, Any]) -> None:
    client = pipeline["intake"].client
    rr, dp = harness.secrets["RAPIDROUTE_SECRET"], harness.secrets["DESIPOST_API_KEY"]
    for body in (b"{not json", b"[]", b'{"events": "many"}', b"\xff\xfe"):
        r = await client.post(
            "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(rr, body)
        )
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"]
        r = await client.post("/v1/webhooks/desipost", content=body, headers=desipost_headers(dp))
        assert r.status_code == 422, (body, r.text)
    snapshot = json.loads(
        desipost_snapshot(uid("RET"), uid("DP"), [("PICKED UP", "24-11-2026 15:43:02")])
    )
    wrong_type = json.dumps({**snapshot, "scans": "all of them"}).encode()
    r = await client.post("/v1/webhooks/desipost", content=wrong_type, headers=desipost_headers(dp))
    assert "body.scans" in [e["field"] for e in r.json()["errors"]]
    huge = b'{"events": [' + b" " * (1024 * 1024) + b"]}"
    r = await client.post(
        "/v1/webhooks/rapidroute", content=huge, headers=rapidroute_headers(rr, huge)
    )
    assert r.status_code == 413
    long_id = rapidroute_batch([rapidroute_event(uid("RET"), event_id="e" * 300)])
    r = await client.post(
        "/v1/webhooks/rapidroute", content=long_id, headers=rapidroute_headers(rr, long_id)
    )
    assert r.status_code == 422
    r = await client.post("/v1/webhooks/" + "x" * 65, content=b"{}")
    assert r.status_code in (404, 422)


async def test_replay_cli_emits_what_became_mappable(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from disputedesk.cli import app as cli

    intake = pipeline["intake"]
    partner_id = uid("cli").lower()
    secret = "rr_live_" + uuid.uuid4().hex
    r = await intake.client.post(
        "/v1/admin/partners",
        json={
            "partner_id": partner_id,
            "display_name": "CLI",
            "scheme": "rapidroute",
            "liability_cap": 1,
            "secret": secret,
        },
        headers=admin(harness),
    )
    assert r.status_code == 201
    rid = (await feed_return(intake, harness, partner_id=partner_id))["return_id"]
    body = rapidroute_batch([rapidroute_event(rid, "RXX"), rapidroute_event(rid, "RPU")])
    r = await intake.client.post(
        f"/v1/webhooks/{partner_id}", content=body, headers=rapidroute_headers(secret, body)
    )
    assert r.json()["accepted"] == 1 and r.json()["unmapped"] == ["RXX"]
    r = await intake.client.post(
        f"/v1/admin/partners/{partner_id}/status-mappings",
        json={"status": "RXX", "event_type": "QC_FAILED"},
        headers=admin(harness),
    )
    assert r.status_code == 201

    for expected in ("1 event(s) emitted", "0 event(s) emitted"):
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["replay", "--partner", partner_id]
        )
        assert result.exit_code == 0, result.output
        assert expected in result.output
    assert await outbox_types(intake, rid) == ["PICKED_UP", "QC_FAILED"]
