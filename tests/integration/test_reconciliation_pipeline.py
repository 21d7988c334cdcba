"""The SOP on the real topics, end to end: the marketplace feed and partner webhooks through
intake, the escalation from the seller portal, the fraud score, and the decision and settlement
read back from the reconciliation API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Harness
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually


async def _webhook(
    harness: Harness, intake: Any, rid: str, event: str, at: datetime, weight_kg: float
) -> None:
    body = swiftship_event(rid, event, at=at.isoformat(), weight_kg=weight_kg)
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")),
    )
    assert r.status_code == 202, r.text


async def test_weight_drop_claim_is_decided_and_settled_end_to_end(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    ret = return_body(qc_required=False, item_value=180_000)
    rid = ret["return_id"]
    r = await intake.client.post(
        "/v1/returns", json=ret, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    now = datetime.now(UTC)
    await _webhook(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
    await _webhook(harness, intake, rid, "return.delivered", now - timedelta(days=1), 0.9)
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(
            rid, claim_type="MISSING_ITEM", claimed_amount=150_000, received_weight_g=900
        ),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code == 201, r.text

    async def case() -> dict[str, Any] | None:
        r = await recon.client.get(
            "/v1/cases", params={"return_id": rid}, headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT")
        )
        items = r.json()["items"]
        return items[0] if items else None

    summary = await eventually(
        case,
        until=lambda c: c is not None and c["state"] == "CLOSED",
        timeout=60,
        what="decided and settled",
    )
    assert summary["payout"] == 150_000
    r = await recon.client.get(
        f"/v1/cases/{summary['case_id']}", headers=harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    )
    detail = r.json()
    assert detail["decision"]["rule_id"] == "L6"  # 1,200 g picked up, 900 g delivered
    assert detail["decision"]["liable_party"] == "PARTNER"
    # Auto-paid, so the fraud gate let it through: scored, and not HIGH (E5).
    assert detail["decision"]["facts"]["fraud_band"] in ("LOW", "MEDIUM")
    assert [t["kind"] for t in detail["timeline"]][:1] == ["CaseOpened"]
    assert {"CaseDecided", "CaseSettled"} <= {t["kind"] for t in detail["timeline"]}
    assert [t["kind"] for t in detail["ledger"]] == ["SETTLEMENT"]
