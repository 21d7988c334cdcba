"""A return belongs to one seller and one partner: the marketplace feed binds each return to its
seller_id, partner_id and awb, and only those may escalate it or report scans on it — on the
real stack, through intake's public API down to reconciliation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import REGISTRY

from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import (
    desipost_snapshot,
    escalation_body,
    rapidroute_batch,
    rapidroute_event,
    return_body,
    swiftship_event,
    uid,
)
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers
from tests.support.waiting import eventually

OTHER_SELLER = "S-OTHER-2"
ESCALATION_FILED = "disputedesk.intake.seller_escalation_filed.v1"
SCAN = "disputedesk.intake.return_shipment_event.v1"


def portal(harness: Harness) -> dict[str, str]:
    return harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")  # bound to S-DEMO-1


def agent(harness: Harness) -> dict[str, str]:
    return harness.key("DISPUTEDESK_KEY_OPS_AGENT")


def security_events(kind: str, reason: str, partner: str = "none") -> float:
    return (
        REGISTRY.get_sample_value(
            "disputedesk_intake_security_events_total",
            {"kind": kind, "partner": partner, "reason": reason},
        )
        or 0.0
    )


async def feed(intake: Any, harness: Harness, rid: str, **over: Any) -> dict[str, Any]:
    body = return_body(rid, **over)
    r = await intake.client.post(
        "/v1/returns", json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    return body


async def ce_types(intake: Any, return_id: str) -> list[str]:
    return [
        r[0]
        for r in await rows(
            intake, "SELECT ce_type FROM outbox WHERE key = :k ORDER BY id", k=return_id
        )
    ]


def india(at: datetime) -> str:
    return (at + timedelta(hours=5, minutes=30)).strftime("%d-%m-%Y %H:%M:%S")


async def swiftship(
    intake: Any, harness: Harness, body: bytes, webhook_id: str | None = None
) -> Any:
    """A signed swiftship delivery; the webhook id is swiftship's event id (same id: a retry)."""
    secret = harness.secrets["SWIFTSHIP_SECRET"]
    return await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(secret, body, webhook_id=webhook_id or uid("msg")),
    )


async def recon_has_scan(recon: Any, rid: str, event_type: str) -> None:
    await eventually(
        lambda: scalar(
            recon,
            "SELECT count(*) FROM shipment_events WHERE return_id = :r AND event_type = :t",
            r=rid,
            t=event_type,
        ),
        what=f"reconciliation stored the {event_type} scan of {rid}",
    )


# -- seller side ------------------------------------------------------------------------------


async def test_seller_cannot_escalate_another_sellers_known_return(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = uid("RET")
    await feed(intake, harness, rid, seller_id=OTHER_SELLER)
    before = security_events("escalation", "seller_mismatch")
    unknown = await intake.client.get("/v1/escalations/ESC-DOESNOTEXIST", headers=portal(harness))

    by_portal = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
    )
    by_agent = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid, channel="CALL"), headers=agent(harness)
    )
    for r in (by_portal, by_agent):
        # Exactly what an unknown id answers: whose return it is does not leak.
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (r.json()["title"], r.json()["detail"]) == (
            unknown.json()["title"],
            unknown.json()["detail"],
        )
    assert security_events("escalation", "seller_mismatch") == before + 2
    assert await scalar(intake, "SELECT count(*) FROM escalations WHERE return_id = :r", r=rid) == 0
    assert await ce_types(intake, rid) == ["disputedesk.intake.return_initiated.v1"]

    # The owner's own escalation still goes through, as before.
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, seller_id=OTHER_SELLER, channel="EMAIL"),
        headers=agent(harness),
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "filed"
    case = await eventually(
        lambda: rows(recon, "SELECT seller_id FROM cases WHERE return_id = :r", r=rid),
        what="the owner's case",
    )
    assert case == [(OTHER_SELLER,)]
    assert await scalar(recon, "SELECT count(*) FROM escalations WHERE return_id = :r", r=rid) == 1


async def test_escalation_before_the_feed_is_emitted_then_refused_for_another_seller(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = uid("RET")
    before = security_events("escalation", "seller_mismatch")
    r = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
    )
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "pending_return"
    esc = r.json()["escalation_id"]
    # Emitted at once (SOP E1: the case opens and waits for the return); ownership unverified.
    assert await ce_types(intake, rid) == [ESCALATION_FILED]

    await feed(intake, harness, rid, seller_id=OTHER_SELLER)
    mine = await intake.client.get(f"/v1/escalations/{esc}", headers=portal(harness))
    assert mine.status_code == 200 and mine.json()["state"] == "refused"
    assert mine.json()["refused_reason"] is None  # the seller is not told whose return it is
    seen_by_ops = await intake.client.get(f"/v1/escalations/{esc}", headers=agent(harness))
    assert seen_by_ops.json()["refused_reason"] == "seller_mismatch"
    assert security_events("escalation", "seller_mismatch") == before + 1
    assert await ce_types(intake, rid) == [
        ESCALATION_FILED,
        "disputedesk.intake.return_initiated.v1",
    ]
    # A refused escalation takes no evidence and no appeal.
    r = await intake.client.post(
        f"/v1/escalations/{esc}/appeal", json={"reason": "why"}, headers=portal(harness)
    )
    assert r.status_code == 409

    # Reconciliation closes the claim's case unpaid and detaches it from the return.
    case = await eventually(
        lambda: rows(
            recon,
            "SELECT state, reason_code, payout, ownership_refused_at IS NOT NULL FROM cases "
            "WHERE return_id = :r AND state = 'REJECTED'",
            r=rid,
        ),
        what="the claim closed",
    )
    assert case == [("REJECTED", "SELLER_MISMATCH", 0, True)]
    assert await scalar(
        recon, "SELECT disposition FROM escalations WHERE escalation_id = :e", e=esc
    ) == ("REFUSED")


async def test_pending_escalation_of_the_same_seller_is_filed_when_the_feed_arrives(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = uid("RET")
    r = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
    )
    assert r.status_code == 202, r.text
    esc = r.json()["escalation_id"]
    # Evidence sent while it waits goes out as for any filed escalation.
    extra = {
        "kind": "PHOTO",
        "uri": "https://evidence.example/p/2.jpg",
        "sha256": uuid.uuid4().hex + uuid.uuid4().hex,
        "captured_at": datetime.now(UTC).isoformat(),
    }
    r = await intake.client.post(
        f"/v1/escalations/{esc}/evidence", json={"evidence": [extra]}, headers=portal(harness)
    )
    assert r.status_code == 201 and r.json()["event_id"] is not None and r.json()["added"] == 1

    fed = await feed(intake, harness, rid)
    expected = [
        ESCALATION_FILED,
        "disputedesk.intake.evidence_added.v1",
        "disputedesk.intake.return_initiated.v1",
    ]
    assert await ce_types(intake, rid) == expected
    r = await intake.client.get(f"/v1/escalations/{esc}", headers=portal(harness))
    assert r.json()["state"] == "filed"

    # The feed resent (the same entry) binds nothing twice.
    r = await intake.client.post(
        "/v1/returns", json=fed, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202 and r.json()["duplicate"] is True, r.text
    assert await ce_types(intake, rid) == expected
    primary = await eventually(
        lambda: scalar(
            recon, "SELECT primary_escalation_id FROM cases WHERE return_id = :r", r=rid
        ),
        what="the seller's case",
    )
    assert primary == esc


async def test_held_scans_past_the_hold_window_are_refused_and_escalations_wait_in_their_case(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    from services.intake.holds import service as holds

    intake = pipeline["intake"]
    rid = uid("RET")
    r = await intake.client.post(
        "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
    )
    esc = r.json()["escalation_id"]
    r = await swiftship(intake, harness, swiftship_event(rid, "return.picked_up"))
    assert r.status_code == 202 and r.json()["held"] == 1
    window = intake.runtime.settings.hold_window_h

    async def states() -> list[Any]:
        return await rows(
            intake,
            "SELECT state FROM escalations WHERE return_id = :r UNION ALL "
            "SELECT state FROM held_scans WHERE return_id = :r",
            r=rid,
        )

    # (Other tests' holds may expire too: only this test's rows are asserted.)
    async with intake.runtime.sessionmaker() as session, session.begin():
        await holds.expire(
            session, now=datetime.now(UTC) + timedelta(hours=window - 1), hold_window_h=window
        )
    assert sorted(await states()) == [("held",), ("pending_return",)]
    later = datetime.now(UTC) + timedelta(hours=window + 1)
    while True:  # one batch per call, as the sweep loop does
        async with intake.runtime.sessionmaker() as session, session.begin():
            late = await holds.expire(session, now=later, hold_window_h=window)
        if not late.scans:
            break
    # The escalation's case waits for the return (E1 sends it to the desk after 48 h).
    assert sorted(await states()) == [("pending_return",), ("refused",)]
    assert await rows(
        intake, "SELECT state, refused_reason FROM held_scans WHERE return_id = :r", r=rid
    ) == [("refused", "unknown_shipment")]
    # The feed arriving afterwards binds the escalation and emits no refused scan.
    await feed(intake, harness, rid)
    assert await ce_types(intake, rid) == [
        ESCALATION_FILED,
        "disputedesk.intake.return_initiated.v1",
    ]
    r = await intake.client.get(f"/v1/escalations/{esc}", headers=agent(harness))
    assert r.json()["state"] == "filed"


# -- partner side -----------------------------------------------------------------------------


async def test_desipost_cannot_declare_a_swiftship_return_lost(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid = uid("RET")
    ret = await feed(intake, harness, rid, partner_id="swiftship")
    before = security_events("scan", "partner_mismatch", "desipost")
    now = datetime.now(UTC)
    # The right return and even the right AWB, from the wrong partner.
    body = desipost_snapshot(
        rid,
        ret["awb"],
        [("PICKED UP", india(now - timedelta(hours=5))), ("LOST", india(now - timedelta(hours=1)))],
    )
    r = await intake.client.post(
        "/v1/webhooks/desipost",
        content=body,
        headers=desipost_headers(harness.secrets["DESIPOST_API_KEY"]),
    )
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["refused"]) == (0, 2)
    assert "swiftship" not in r.text  # never who the shipment belongs to
    verdict, detail = (
        await rows(
            intake,
            "SELECT verdict, detail::text FROM raw_requests WHERE id = :i",
            i=uuid.UUID(r.json()["raw_ref"]),
        )
    )[0]
    assert verdict == "foreign_shipment"
    assert {e["reason"] for e in json.loads(detail)["refused"]} == {"partner_mismatch"}
    assert security_events("scan", "partner_mismatch", "desipost") == before + 2
    assert await ce_types(intake, rid) == ["disputedesk.intake.return_initiated.v1"]

    # The real partner's scan goes through, and is all reconciliation ever sees.
    r = await swiftship(
        intake,
        harness,
        swiftship_event(rid, "return.in_transit", awb=ret["awb"], at=now.isoformat()),
    )
    assert r.json()["accepted"] == 1, r.text
    await recon_has_scan(recon, rid, "IN_TRANSIT")
    assert (
        await scalar(recon, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid) == 1
    )
    # No case, so no decision and no debit of swiftship.
    assert await scalar(recon, "SELECT count(*) FROM cases WHERE return_id = :r", r=rid) == 0


async def test_wrong_awb_from_the_right_partner_is_refused(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    await feed(intake, harness, rid, partner_id="swiftship")
    before = security_events("scan", "awb_mismatch", "swiftship")
    r = await swiftship(intake, harness, swiftship_event(rid, "return.lost", awb=uid("SS")))
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["refused"]) == (0, 1)
    assert security_events("scan", "awb_mismatch", "swiftship") == before + 1
    assert await ce_types(intake, rid) == ["disputedesk.intake.return_initiated.v1"]
    assert (
        await scalar(
            intake,
            "SELECT verdict FROM raw_requests WHERE id = :i",
            i=uuid.UUID(r.json()["raw_ref"]),
        )
        == "foreign_shipment"
    )


async def test_a_batch_mixing_own_and_foreign_scans_keeps_the_own_ones(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    own, foreign = uid("RET"), uid("RET")
    own_ret = await feed(intake, harness, own, partner_id="rapidroute", awb=uid("RR"))
    foreign_ret = await feed(intake, harness, foreign, partner_id="swiftship")
    mine = rapidroute_event(own, "RPU", awb=own_ret["awb"])
    theirs = rapidroute_event(foreign, "RLS", awb=foreign_ret["awb"])
    body = rapidroute_batch([mine, theirs])
    r = await intake.client.post(
        "/v1/webhooks/rapidroute",
        content=body,
        headers=rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body),
    )
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["refused"]) == (1, 1)
    verdict, detail = (
        await rows(
            intake,
            "SELECT verdict, detail::text FROM raw_requests WHERE id = :i",
            i=uuid.UUID(r.json()["raw_ref"]),
        )
    )[0]
    assert verdict == "partially_foreign"
    assert [e["partner_event_id"] for e in json.loads(detail)["refused"]] == [theirs["id"]]
    assert await ce_types(intake, own) == ["disputedesk.intake.return_initiated.v1", SCAN]
    assert await ce_types(intake, foreign) == ["disputedesk.intake.return_initiated.v1"]


async def test_scan_before_the_feed_is_held_then_emitted_once_on_bind(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    rid, awb = uid("RET"), uid("SS")
    now = datetime.now(UTC)
    body = swiftship_event(
        rid, "return.picked_up", awb=awb, at=(now - timedelta(hours=3)).isoformat()
    )
    webhook_id = uid("msg")
    for _ in range(2):  # redelivered while held: held once
        r = await swiftship(intake, harness, body, webhook_id)
        assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["held"], r.json()["duplicates"]) == (0, 0, 1)
    # Another partner's scan of the same return, also ahead of the feed.
    foreign = desipost_snapshot(rid, awb, [("LOST", india(now - timedelta(hours=1)))])
    r = await intake.client.post(
        "/v1/webhooks/desipost",
        content=foreign,
        headers=desipost_headers(harness.secrets["DESIPOST_API_KEY"]),
    )
    assert r.json()["held"] == 1, r.text
    assert await scalar(intake, "SELECT count(*) FROM held_scans WHERE return_id = :r", r=rid) == 2
    assert await ce_types(intake, rid) == []
    before = security_events("scan", "partner_mismatch", "desipost")

    await feed(intake, harness, rid, partner_id="swiftship", awb=awb)
    assert await ce_types(intake, rid) == ["disputedesk.intake.return_initiated.v1", SCAN]
    assert await rows(
        intake,
        "SELECT partner_id, state FROM held_scans WHERE return_id = :r ORDER BY partner_id",
        r=rid,
    ) == [("desipost", "refused"), ("swiftship", "emitted")]
    assert security_events("scan", "partner_mismatch", "desipost") == before + 1

    # Redelivered after the bind: a duplicate, never emitted again.
    r = await swiftship(intake, harness, body, webhook_id)
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1)
    assert await ce_types(intake, rid) == ["disputedesk.intake.return_initiated.v1", SCAN]
    await recon_has_scan(recon, rid, "PICKED_UP")
    assert (
        await scalar(recon, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid) == 1
    )


async def test_a_scan_racing_its_feed_entry_is_never_left_waiting(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The feed entry and a scan (or escalation) of the same return, at the same moment: either
    the hold commits first and the feed entry binds it, or the scan sees the return."""
    import asyncio

    intake = pipeline["intake"]
    rids = [uid("RET") for _ in range(12)]

    async def race(rid: str) -> None:
        await asyncio.gather(
            feed(intake, harness, rid),
            swiftship(intake, harness, swiftship_event(rid, "return.picked_up")),
            intake.client.post(
                "/v1/escalations", json=escalation_body(rid), headers=portal(harness)
            ),
        )

    await asyncio.gather(*(race(rid) for rid in rids))
    for rid in rids:
        assert sorted(await ce_types(intake, rid)) == sorted(
            ["disputedesk.intake.return_initiated.v1", SCAN, ESCALATION_FILED]
        ), rid
        assert (
            await scalar(
                intake,
                "SELECT count(*) FROM held_scans WHERE return_id = :r AND state = 'held'",
                r=rid,
            )
            == 0
        )
        assert (
            await scalar(intake, "SELECT state FROM escalations WHERE return_id = :r", r=rid)
            == "filed"
        )
