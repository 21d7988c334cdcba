"""A claim's facts that reach fraud after the claim revise its assessment (real pipeline: intake's
public webhooks and escalations → Kafka → fraud; the claim's assessment read through fraud's API).

Partners send late (rapidroute in batches, desipost snapshots), so a seller's claim is often
assessed before the scans that judge it: here the QC pass of an agent under an open alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Harness
from tests.support.db import rows
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.fraud import qc_agent_alert
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"


async def _scan(harness: Harness, intake: Any, rid: str, event: str, **over: Any) -> None:
    body = swiftship_event(rid, event, **over)
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")),
    )
    assert r.status_code in (200, 202), r.text


async def test_a_late_qc_pass_by_an_alerted_agent_revises_the_claim_once(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, fraud = pipeline["intake"], pipeline["fraud"]
    now = datetime.now(UTC)
    hub, picker, qc_agent = uid("H-LATE"), uid("AG-PICK"), uid("AG-QC")
    seller = uid("S-LATE")
    # The QC agent is under an open alert: a QC pass of theirs that a wrong item contradicts is
    # what the alert is about.
    async with fraud.runtime.sessionmaker() as session, session.begin():
        session.add(qc_agent_alert(qc_agent, raised_at=now - timedelta(days=5)))
    body = return_body(seller_id=seller, initiated_at=(now - timedelta(days=4)).isoformat())
    rid = body["return_id"]
    r = await intake.client.post(
        "/v1/returns", json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    qc_at = now - timedelta(days=3, hours=-1)
    await _scan(
        harness, intake, rid, "return.picked_up", hub=hub, agent=picker, weight_kg=0.5,
        at=(now - timedelta(days=3)).isoformat(),
    )  # fmt: skip
    await _scan(
        harness, intake, rid, "return.delivered", hub=hub, agent=picker, weight_kg=0.5,
        at=(now - timedelta(hours=5)).isoformat(),
    )  # fmt: skip
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, seller_id=seller, channel="EMAIL", claim_type="WRONG_ITEM"),
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    escalation_id = str(r.json()["escalation_id"])

    async def claim() -> list[Any]:
        return await rows(
            fraud,
            "SELECT subject_event_id, revision, band FROM assessments WHERE escalation_id = :e "
            "AND subject_type LIKE '%seller_escalation_filed%' ORDER BY revision",
            e=escalation_id,
        )

    first = (await eventually(claim, what="the claim's assessment"))[0]
    assert first.band != "HIGH"

    async def current() -> dict[str, Any]:
        r = await fraud.client.get(
            f"/v1/assessments/{first.subject_event_id}", headers=harness.key(AGENT)
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert (await current())["revision"] == 0
    # The QC scan of three days ago reaches intake after the claim (a partner's late batch).
    await _scan(
        harness, intake, rid, "return.qc_passed", hub=hub, agent=qc_agent, weight_kg=0.5,
        at=qc_at.isoformat(),
    )  # fmt: skip
    revised = await eventually(
        current,
        until=lambda a: a["revision"] >= 1,
        what="the claim revised on its late QC pass",
    )
    assert revised["band"] == "HIGH", revised["reasons"]
    codes = [x["code"] for x in revised["reasons"]]
    assert codes[0] == "LATE_SCAN" and "AGENT_QC_CONTRADICTION_RATE_HIGH" in codes
    assert revised["entities"]["seller_id"] == seller

    # The same QC scan again (a partner's retry under a new message id) and a scan that changes
    # nothing the claim reads: no further revision once fraud has scored both.
    await _scan(
        harness, intake, rid, "return.qc_passed", hub=hub, agent=qc_agent, weight_kg=0.5,
        at=qc_at.isoformat(),
    )  # fmt: skip
    transit_at = now - timedelta(days=2)
    await _scan(
        harness, intake, rid, "return.in_transit", hub=hub, agent=picker, weight_kg=0.5,
        at=transit_at.isoformat(),
    )  # fmt: skip

    async def transit_scored() -> list[Any]:
        return await rows(
            fraud,
            "SELECT 1 FROM assessments WHERE return_id = :r AND event_time = :t",
            r=rid,
            t=transit_at,
        )

    await eventually(transit_scored, what="the in-transit scan assessed")
    assert [(c.revision, c.band) for c in await claim()] == [(0, first.band), (1, "HIGH")]
