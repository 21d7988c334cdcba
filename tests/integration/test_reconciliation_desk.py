"""The review desk API: queue and keyset pagination, the case story, desk actions, four eyes,
appeals by a different manager, finance statements, policy versions and access rules."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import xlsxwriter  # noqa: F401  (the statement's writer; imported to fail early if missing)

from services.reconciliation.policy.sop_v1 import SOP_V1, Policy
from shared.events import NotificationSent, ReasonCode, RefundIssued
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.paging import next_link
from tests.support.reconciliation import (
    T0,
    Engine,
    appeal,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"  # agent.asha
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"  # manager.ravi
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"  # manager.meera
FINANCE = "DISPUTEDESK_KEY_FINANCE"


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "desk") as eng:
        yield eng


async def review_case(
    eng: Engine,
    *,
    partner: str = "rapidroute",
    band: str = "HIGH",
    claim: str = "DAMAGED",
    amount: int = 249_900,
    item_value: int = 249_900,
) -> dict[str, Any]:
    """A case the SOP hands to a person (HIGH fraud band → UNDER_REVIEW)."""
    rid = uid("RET-DESK")
    filed = eng.envelope(escalation(rid, claim=claim, amount=amount))
    await eng.send(
        filed,
        return_initiated(rid, partner=partner, item_value=item_value),
        scan(
            rid,
            "DELIVERED_TO_SELLER",
            T0 + timedelta(days=2),
            weight=1000,
            otp=False,
            partner=partner,
        ),
        scan(rid, "PICKED_UP", T0, weight=1000, partner=partner),
        assessed(filed, band),
    )
    state = "UNDER_REVIEW" if band == "HIGH" else "CLOSED"
    return await eng.wait_case(rid, lambda c: c["state"] == state and c["fraud_band"] == band)


async def test_queue_filters_and_keyset_pagination(desk: Engine, harness: Harness) -> None:
    partner = f"partner-{uuid.uuid4().hex[:6]}"
    created = [(await review_case(desk, partner=partner))["case_id"] for _ in range(5)]
    agent = harness.key(AGENT)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {
            "state": "UNDER_REVIEW",
            "partner_id": partner,
            "fraud_band": "HIGH",
            "claim_type": "DAMAGED",
            "limit": 2,
        }
        if cursor:
            params["cursor"] = cursor
        r = await desk.client.get("/v1/cases", params=params, headers=agent)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [c["case_id"] for c in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            assert "link" not in r.headers
            break
        # The next page is also announced as a Link header: the same query, the new cursor.
        assert next_link(r) == {**{k: str(v) for k, v in params.items()}, "cursor": cursor}

    assert pages == 3
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))

    # Assignee and age filters.
    r = await desk.client.post(
        f"/v1/cases/{created[0]}/assign", json={"assignee": "agent.asha"}, headers=agent
    )
    assert r.status_code == 200, r.text
    r = await desk.client.get(
        "/v1/cases", params={"assignee": "agent.asha", "partner_id": partner}, headers=agent
    )
    assert [c["case_id"] for c in r.json()["items"]] == [created[0]]
    r = await desk.client.get(
        "/v1/cases", params={"partner_id": partner, "min_age_hours": 1}, headers=agent
    )
    assert r.json()["items"] == []
    r = await desk.client.get(
        "/v1/cases", params={"partner_id": partner, "max_age_hours": 1}, headers=agent
    )
    assert len(r.json()["items"]) == 5

    r = await desk.client.get("/v1/cases", params={"cursor": "not-a-cursor"}, headers=agent)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "query.cursor"
    r = await desk.client.get("/v1/cases", params={"state": "NOPE"}, headers=agent)
    assert r.status_code == 422
    assert (await desk.client.get("/v1/cases")).status_code == 401


async def test_case_detail_tells_the_whole_story(desk: Engine, harness: Harness) -> None:
    case = await review_case(desk)
    cid = case["case_id"]
    agent = harness.key(AGENT)
    key = {**agent, "Idempotency-Key": uid("idem")}
    for _ in range(2):  # a retried request adds the note once and answers the same
        r = await desk.client.post(
            f"/v1/cases/{cid}/notes", json={"note": "Asked the hub for CCTV."}, headers=key
        )
        assert r.status_code == 200, r.text
        assert r.json()["version"] == case["version"] + 1
    r = await desk.client.post(
        f"/v1/cases/{cid}/notes", json={"note": "Something else"}, headers=key
    )
    assert r.status_code == 422
    r = await desk.client.post(
        f"/v1/cases/{cid}/calls",
        headers=agent,
        json={
            "direction": "OUTBOUND",
            "counterpart": "SELLER",
            "duration_s": 185,
            "summary": "Seller confirms the box was crushed on arrival.",
        },
    )
    assert r.status_code == 200, r.text
    # The notifications service reports an email about this case.
    await desk.send(
        NotificationSent(
            message_id=uuid.uuid4(),
            subject_key=case["return_id"],
            case_id=cid,
            return_id=case["return_id"],
            seller_id=case["seller_id"],
            template="acknowledgement",
            case_version=1,
            subject=f"[{cid}] We have your claim",
            attempts=1,
            sent_at=desk.clock.now(),
        )
    )
    # (NotificationSent travels on the deliveries topic.) The marketplace refunds the buyer.
    await desk.send(
        RefundIssued(
            refund_id=uid("RF"),
            return_id=case["return_id"],
            order_id="O-1",
            amount=249_900,
            issued_at=desk.clock.now(),
        )
    )

    async def story() -> dict[str, Any]:
        r = await desk.client.get(f"/v1/cases/{cid}", headers=agent)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    from tests.support.waiting import eventually

    detail = await eventually(
        story,
        until=lambda d: {"EMAIL_SENT", "REFUND_ISSUED"} <= {t["kind"] for t in d["timeline"]},
        what="email and refund in the timeline",
    )
    kinds = [t["kind"] for t in detail["timeline"]]
    assert kinds[0] == "CaseOpened"
    assert {"CaseUnderReview", "NOTE", "CALL_LOGGED", "EMAIL_SENT"} <= set(kinds)
    assert kinds.count("NOTE") == 1
    call = next(t for t in detail["timeline"] if t["kind"] == "CALL_LOGGED")
    assert call["actor"] == "agent.asha" and "3 min 5 s" in call["reason"]
    facts = detail["facts"]
    assert [s["event_type"] for s in facts["partner_scans"]] == ["PICKED_UP", "DELIVERED_TO_SELLER"]
    assert facts["fraud_assessments"][0]["band"] == "HIGH"
    assert facts["escalations"][0]["evidence"][0]["kind"] == "UNBOXING_VIDEO"
    assert "seller_email" not in facts["escalations"][0]
    assert "seller_contact" not in facts["escalations"][0]
    assert facts["return"]["item_value"] == 249_900


async def test_decide_with_reason_within_the_cap(desk: Engine, harness: Harness) -> None:
    case = await review_case(desk, partner="desipost")
    cid = case["case_id"]
    agent = harness.key(AGENT)
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=agent,
        json={"liable_party": "PARTNER", "payout_pct": 100},
    )
    assert r.status_code == 422
    assert any(e["field"] == "body.reason" for e in r.json()["errors"])
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=agent,
        json={
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "rule_id": "L9",
            "reason": "CCTV shows the parcel dropped at the hub",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "CLOSED"
    closed = await desk.case(case["return_id"])
    assert closed is not None
    d = closed["decision"]
    assert (d["rule_id"], d["decided_by"], d["payout"], d["partner_debit"]) == (
        "L9",
        "agent.asha",
        249_900,
        249_900,
    )
    assert d["explanation"].startswith(f"About your return {case['return_id']}")
    assert "CCTV shows the parcel dropped at the hub" in d["explanation"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=agent,
        json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "again please"},
    )
    assert r.status_code == 409


async def test_a_claim_on_a_pilfered_return_held_for_review_is_settled_as_the_sop_would(
    desk: Engine, harness: Harness
) -> None:
    """A seller's claim on a parcel that lost weight after a pickup by an agent alerted for
    pilferage is HIGH (fraud's `PILFERAGE_AT_AGENT`): the SOP holds it for the desk (E5) instead
    of paying it on L6. Reviewed and decided on L6, the seller is paid and the partner debited
    exactly as the SOP pays and debits the same claim found LOW: the review delays the payout,
    it loses neither."""

    async def claim_after_the_pickup(band: str) -> str:
        rid = uid("RET-PILF")
        filed = eng.envelope(escalation(rid, amount=120_000))
        high = assessed(filed, band)
        if band == "HIGH":
            high = high.model_copy(
                update={
                    "reasons": [
                        ReasonCode(
                            code="PILFERAGE_AT_AGENT",
                            detail="the return came to harm after a pickup by agent AG-7",
                            contribution=0.9,
                            numbers={"pattern": "PILFERAGE_AGENT", "entity": "agent:AG-7"},
                        )
                    ]
                }
            )
        await eng.send(
            filed,
            return_initiated(rid, partner="desipost", item_value=120_000),
            scan(rid, "PICKED_UP", T0, weight=1000, partner="desipost"),
            scan(
                rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=400, partner="desipost"
            ),
            high,
        )
        return rid

    eng = desk
    paid_rid = await claim_after_the_pickup("LOW")
    paid = await eng.wait_case(paid_rid, lambda c: c["state"] == "CLOSED")
    held_rid = await claim_after_the_pickup("HIGH")
    held = await eng.wait_case(held_rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert held["reason_code"] == "FRAUD_REVIEW" and held.get("decision") is None
    r = await eng.client.post(
        f"/v1/cases/{held['case_id']}/decision",
        headers=harness.key(AGENT),
        json={
            "liable_party": "PARTNER",
            "payout_pct": 100,
            "rule_id": "L6",
            "reason": "weighed short after the alerted agent's pickup; the partner's liability",
        },
    )
    assert r.status_code == 200, r.text
    decided = await eng.case(held_rid)
    assert decided is not None
    auto, desk_decision = paid["decision"], decided["decision"]
    assert auto["rule_id"] == "L6" and auto["liable_party"] == "PARTNER"
    assert (desk_decision["rule_id"], desk_decision["liable_party"]) == ("L6", "PARTNER")
    assert (desk_decision["payout"], desk_decision["partner_debit"]) == (
        auto["payout"],
        auto["partner_debit"],
    )
    assert auto["payout"] == 120_000 and auto["partner_debit"] > 0


async def test_four_eyes_above_the_approval_cap(desk: Engine, harness: Harness) -> None:
    case = await review_case(desk, partner="swiftship", amount=3_000_000, item_value=3_000_000)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=harness.key(MANAGER),
        json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner admitted the loss"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["reason_code"]) == ("ESCALATED", "ABOVE_APPROVAL_CAP")
    # An ops_agent cannot approve above the cap; the proposer cannot approve their own proposal.
    r = await desk.client.post(f"/v1/cases/{cid}/approve", json={}, headers=harness.key(AGENT))
    assert r.status_code == 403
    r = await desk.client.post(f"/v1/cases/{cid}/approve", json={}, headers=harness.key(MANAGER))
    assert r.status_code == 403
    assert "Four eyes" in r.json()["detail"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/approve",
        json={"reason": "Checked the POD"},
        headers=harness.key(MANAGER_2),
    )
    assert r.status_code == 200, r.text
    closed = await desk.case(case["return_id"])
    assert closed is not None and closed["state"] == "CLOSED"
    assert (
        closed["payout"],
        closed["decision"]["partner_debit"],
        closed["decision"]["marketplace_cost"],
    ) == (3_000_000, 1_000_000, 2_000_000)
    assert (closed["proposed_by"], closed["decided_by"]) == ("manager.ravi", "manager.meera")


async def test_agent_decision_above_the_cap_waits_for_a_manager(
    desk: Engine, harness: Harness
) -> None:
    case = await review_case(desk, partner="swiftship", amount=2_600_000, item_value=2_600_000)
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=harness.key(AGENT),
        json={
            "liable_party": "BUYER",
            "payout_pct": 100,
            "reason": "Buyer returned a different phone",
        },
    )
    assert r.json()["state"] == "ESCALATED" and r.json()["payout"] == 0
    r = await desk.client.post(f"/v1/cases/{cid}/approve", json={}, headers=harness.key(MANAGER))
    assert r.status_code == 200 and r.json()["payout"] == 2_600_000


async def test_appeal_is_decided_by_a_different_manager_and_reversed_in_the_ledger(
    desk: Engine, harness: Harness
) -> None:
    rid = uid("RET-APPEAL")
    filed = desk.envelope(escalation(rid))
    await desk.send(
        filed,
        return_initiated(rid, partner="rapidroute"),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner="rapidroute"),
        scan(rid, "PICKED_UP", T0, weight=1000, partner="rapidroute"),
        assessed(filed, "HIGH"),
    )
    case = await desk.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    cid = case["case_id"]
    r = await desk.client.post(
        f"/v1/cases/{cid}/decision",
        headers=harness.key(MANAGER),
        json={"liable_party": "BUYER", "payout_pct": 50, "reason": "Shared responsibility"},
    )
    assert r.json()["payout"] == 124_950
    await desk.send(appeal(filed.payload, desk.clock.now()))  # type: ignore[arg-type]
    await desk.wait_case(rid, lambda c: c["state"] == "APPEALED")
    body = {
        "overturn": True,
        "liable_party": "PARTNER",
        "payout_pct": 100,
        "reason": "The hub's scan shows the damage happened in transit",
    }
    r = await desk.client.post(
        f"/v1/cases/{cid}/appeal-decision", json=body, headers=harness.key(MANAGER)
    )
    assert r.status_code == 403  # the original decider
    r = await desk.client.post(
        f"/v1/cases/{cid}/appeal-decision", json=body, headers=harness.key(AGENT)
    )
    assert r.status_code == 403  # not a manager
    r = await desk.client.post(
        f"/v1/cases/{cid}/appeal-decision", json=body, headers=harness.key(MANAGER_2)
    )
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["payout"]) == ("CLOSED", 249_900)
    r = await desk.client.get(f"/v1/ledger/cases/{cid}", headers=harness.key(FINANCE))
    kinds = [t["kind"] for t in r.json()["transactions"]]
    assert kinds == ["SETTLEMENT", "REVERSAL", "SETTLEMENT"]
    seller = sum(
        line["amount"]
        for t in r.json()["transactions"]
        for line in t["lines"]
        if line["account"].startswith("seller_payable")
    )
    assert -seller == 249_900
    assert all(sum(line["amount"] for line in t["lines"]) == 0 for t in r.json()["transactions"])

    # The appeal's decision is final: a further appeal, even days later, changes nothing.
    desk.clock.advance(timedelta(days=8))
    await desk.send(appeal(filed.payload, desk.clock.now()))  # type: ignore[arg-type]
    from tests.support.waiting import eventually

    await eventually(
        lambda: desk.sql(
            "SELECT disposition FROM appeals WHERE return_id = :r "
            "AND disposition = 'ALREADY_APPEALED'",
            r=rid,
        ),
        what="further appeal recorded as repeated",
    )
    assert (await desk.case(rid) or {})["state"] == "CLOSED"


async def test_finance_reads_partner_statements(desk: Engine, harness: Harness) -> None:
    partner = f"stmt-{uuid.uuid4().hex[:6]}"
    for p in (partner, "rapidroute"):
        case = await review_case(desk, partner=p)
        r = await desk.client.post(
            f"/v1/cases/{case['case_id']}/decision",
            headers=harness.key(AGENT),
            json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "Lost at the hub"},
        )
        assert r.status_code == 200, r.text
    period = {
        "period_start": (desk.clock.now() - timedelta(days=1)).isoformat(),
        "period_end": (desk.clock.now() + timedelta(days=1)).isoformat(),
    }
    finance = harness.key(FINANCE)
    r = await desk.client.get(
        f"/v1/ledger/partners/{partner}/statement", params=period, headers=finance
    )
    assert r.status_code == 200, r.text
    statement = r.json()
    # An unknown partner has no contractual cap: nothing is recoverable, the marketplace absorbs it.
    assert statement["totals"]["net_receivable"] == 0 and statement["lines"] == []
    r = await desk.client.get(
        "/v1/ledger/partners/rapidroute/statement", params=period, headers=finance
    )
    totals = r.json()["totals"]
    assert totals["net_receivable"] == sum(line["amount"] for line in r.json()["lines"]) > 0
    r = await desk.client.get(
        "/v1/ledger/partners/rapidroute/statement",
        params={**period, "format": "csv"},
        headers=finance,
    )
    assert r.headers["content-type"].startswith("text/csv")
    assert f"net receivable,,,,,{totals['net_receivable']}" in r.text
    r = await desk.client.get(
        "/v1/ledger/partners/rapidroute/statement",
        params={**period, "format": "xlsx"},
        headers=finance,
    )
    assert r.content[:2] == b"PK"  # a zip container, as every .xlsx is
    import zipfile

    assert "xl/worksheets/sheet1.xml" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    r = await desk.client.get(
        "/v1/ledger/partners/rapidroute/statement", params=period, headers=harness.key(AGENT)
    )
    assert r.status_code == 403
    bad = {"period_start": period["period_end"], "period_end": period["period_start"]}
    r = await desk.client.get(
        "/v1/ledger/partners/rapidroute/statement", params=bad, headers=finance
    )
    assert r.status_code == 422
    r = await desk.client.get("/v1/ledger/balances", headers=finance)
    assert r.json()["total"] == 0


async def test_policy_version_is_stored_as_the_code_defines_it(
    desk: Engine, harness: Harness
) -> None:
    r = await desk.client.get("/v1/policies/sop-v1", headers=harness.key(AGENT))
    assert r.status_code == 200
    # Stored once and never edited: it reads as the code's policy (later fields by default).
    assert Policy.model_validate(r.json()["definition"]) == SOP_V1
    assert r.json()["status"] == "ACTIVE"
    assert (
        await desk.client.get("/v1/policies/sop-v9", headers=harness.key(AGENT))
    ).status_code == 404


async def test_domain_metrics_are_exported(desk: Engine) -> None:
    await review_case(desk, band="LOW")
    text = (await desk.client.get("/metrics")).text
    assert 'disputedesk_cases_total{state="CLOSED"}' in text
    assert 'disputedesk_decisions_total{liable_party="BUYER",rule_id="L11"}' in text
    assert "disputedesk_payout_paise_total" in text
    assert "seller.sop@example.com" not in text
