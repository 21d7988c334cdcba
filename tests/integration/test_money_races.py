"""Races on the money path, sent at once against the real stack (a reconciliation instance of its
own on real Kafka and PostgreSQL): two approvals of one proposal, two decisions, two appeal
decisions, a decision against an escalation, a partner's contest against the desk's overturn,
the same escalation to management twice with and without an Idempotency-Key.

Whatever order they run in: nothing is paid twice, the ledger balances, there is one decision
per case version, and every request that lost answers 409 or 422 problem+json, never a 5xx.
Each race runs for several rounds, each on a fresh case.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Harness
from tests.integration.test_seller_directory import _address, _case, _feed, _scan
from tests.support.db import scalar
from tests.support.factories import escalation_body
from tests.support.keys import add_key
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
from tests.support.services import RunningService
from tests.support.stories import (
    evidence_photo,
    filed_case,
)

PROBLEM = "application/problem+json"
ROUNDS = 4
AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MANAGER_2 = "DISPUTEDESK_KEY_OPS_MANAGER_2"
PARTNER_RAPIDROUTE = "DISPUTEDESK_KEY_PARTNER_RAPIDROUTE"
DECIDED = "disputedesk.reconciliation.case_decided.v1"
APPEALED = "disputedesk.reconciliation.case_appealed.v1"
DONE_STATES = {"DECIDED", "CLOSED"}
PARTNER_LOST_IT = {"liable_party": "PARTNER", "payout_pct": 100, "reason": "Partner lost it"}
OVERTURN = {
    "overturn": True,
    "liable_party": "SELLER",
    "payout_pct": 0,
    "reason": "The seller packed it badly",
}


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "money_races") as eng:
        yield eng


@pytest.fixture(scope="module")
def manager_3(harness: Harness) -> dict[str, str]:
    """A third manager, so that two managers other than the proposer can race to approve."""
    return add_key(harness.env, f"manager.race-{uuid.uuid4().hex[:6]}", ["ops_manager"])


async def _review_case(desk: Engine, amount: int = 249_900) -> tuple[str, Any]:
    rid = f"RET-RACE-{uuid.uuid4().hex[:10].upper()}"
    filed = desk.envelope(escalation(rid, amount=amount))
    await desk.send(
        filed,
        return_initiated(rid, partner="rapidroute", item_value=amount),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner="rapidroute"),
        scan(rid, "PICKED_UP", T0, weight=1000, partner="rapidroute"),
        assessed(filed, "HIGH"),
    )
    case = await desk.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    return str(case["case_id"]), filed


async def _at_once(*sends: Any) -> list[httpx.Response]:
    return list(await asyncio.gather(*sends))


def _one_won(responses: list[httpx.Response], *, won: int = 200) -> httpx.Response:
    """Exactly one request acted; each other one lost with 409 or 422 problem+json."""
    shown = [(r.status_code, r.text[:300]) for r in responses]
    winners = [r for r in responses if r.status_code == won]
    assert len(winners) == 1, shown
    for r in responses:
        if r is not winners[0]:
            assert r.status_code in (409, 422), shown
            assert r.headers["content-type"].startswith(PROBLEM), shown
    return winners[0]


def _none_failed(responses: list[httpx.Response], *, refused: tuple[int, ...] = (409, 422)) -> None:
    """No 5xx; each request that did not act was refused as problem+json."""
    for r in responses:
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            assert r.status_code in refused, r.text
            assert r.headers["content-type"].startswith(PROBLEM), r.text


async def _money_of(desk: Engine, case_id: str) -> dict[str, Any]:
    """What the ledger and the outbox hold for one case."""
    unbalanced = await desk.sql(
        "SELECT transaction_id FROM ledger_entries WHERE case_id = :c "
        "GROUP BY transaction_id HAVING sum(amount) <> 0",
        c=case_id,
    )
    kinds = await desk.sql(
        "SELECT kind, count(*) AS n FROM ledger_transactions WHERE case_id = :c GROUP BY kind",
        c=case_id,
    )
    paid = await desk.sql(
        "SELECT coalesce(sum(amount), 0) AS paid FROM ledger_entries "
        "WHERE case_id = :c AND account_type = 'seller_payable'",
        c=case_id,
    )
    decided = [e for e in await desk.events(case_id) if e["ce_type"] == DECIDED]
    versions = [e["payload"].get("case_version") for e in decided]
    notices = await desk.sql(
        "SELECT count(*) AS n FROM debit_notices WHERE case_id = :c", c=case_id
    )
    return {
        "unbalanced": len(unbalanced),
        "transactions": {row["kind"]: row["n"] for row in kinds},
        "seller_paid": -int(paid[0]["paid"]),
        "decisions": len(decided),
        "decision_versions": versions,
        "notices": int(notices[0]["n"]),
    }


def _versions_distinct(money: dict[str, Any]) -> None:
    versions = [v for v in money["decision_versions"] if v is not None]
    assert len(versions) == len(set(versions)), money


async def test_two_managers_approving_one_proposal_pay_it_once(
    harness: Harness, desk: Engine, manager_3: dict[str, str]
) -> None:
    for _ in range(ROUNDS):
        case_id, _ = await _review_case(desk, amount=3_000_000)
        r = await desk.client.post(
            f"/v1/cases/{case_id}/decision", json=PARTNER_LOST_IT, headers=harness.key(MANAGER)
        )
        assert r.json()["state"] == "ESCALATED", r.text
        approve = f"/v1/cases/{case_id}/approve"
        _one_won(
            await _at_once(
                desk.client.post(approve, json={"reason": "ok"}, headers=harness.key(MANAGER_2)),
                desk.client.post(approve, json={"reason": "ok too"}, headers=manager_3),
            )
        )
        money = await _money_of(desk, case_id)
        assert money["unbalanced"] == 0 and money["decisions"] == 1, money
        assert money["transactions"].get("SETTLEMENT") == 1, money
        assert money["seller_paid"] == 3_000_000 and money["notices"] <= 1, money


async def test_two_desk_decisions_at_once_make_one(harness: Harness, desk: Engine) -> None:
    for _ in range(ROUNDS):
        case_id, _ = await _review_case(desk)
        decide = f"/v1/cases/{case_id}/decision"
        _one_won(
            await _at_once(
                desk.client.post(decide, json=PARTNER_LOST_IT, headers=harness.key(AGENT)),
                desk.client.post(
                    decide,
                    json={"liable_party": "BUYER", "payout_pct": 50, "reason": "Half"},
                    headers=harness.key(MANAGER),
                ),
            )
        )
        money = await _money_of(desk, case_id)
        assert money["unbalanced"] == 0 and money["decisions"] == 1, money
        assert money["transactions"].get("SETTLEMENT") == 1, money
        assert money["seller_paid"] in (249_900, 124_950), money


async def test_a_decision_racing_an_escalation_or_an_evidence_request(
    harness: Harness, desk: Engine
) -> None:
    """The desk's other moves on the same case at the same time: each runs wholly before or
    after the decision (the case row is locked), so either both succeed in some order or the
    one that finds the case decided answers 409."""
    for round_ in range(ROUNDS):
        case_id, _ = await _review_case(desk)
        other = (
            ("escalate", {"reason": "Needs a manager"})
            if round_ % 2 == 0
            else ("evidence-requests", {"checklist": ["photos"], "reason": "We need photos"})
        )
        rs = await _at_once(
            desk.client.post(
                f"/v1/cases/{case_id}/decision", json=PARTNER_LOST_IT, headers=harness.key(AGENT)
            ),
            desk.client.post(
                f"/v1/cases/{case_id}/{other[0]}", json=other[1], headers=harness.key(MANAGER)
            ),
        )
        _none_failed(rs)
        money = await _money_of(desk, case_id)
        assert money["unbalanced"] == 0 and money["decisions"] <= 1, money
        assert money["transactions"].get("SETTLEMENT", 0) == money["decisions"], money


async def _appealed_case(harness: Harness, desk: Engine) -> str:
    case_id, filed = await _review_case(desk)
    r = await desk.client.post(
        f"/v1/cases/{case_id}/decision", json=PARTNER_LOST_IT, headers=harness.key(AGENT)
    )
    assert r.status_code == 200, r.text
    await desk.send(appeal(filed.payload, desk.clock.now()))
    await desk.wait_case(filed.payload.return_id, lambda c: c["state"] == "APPEALED")
    return case_id


async def test_two_appeal_decisions_at_once_reverse_once(
    harness: Harness, desk: Engine, manager_3: dict[str, str]
) -> None:
    for _ in range(ROUNDS):
        case_id = await _appealed_case(harness, desk)
        path = f"/v1/cases/{case_id}/appeal-decision"
        _one_won(
            await _at_once(
                desk.client.post(path, json=OVERTURN, headers=harness.key(MANAGER_2)),
                desk.client.post(
                    path, json={"overturn": False, "reason": "It stands"}, headers=manager_3
                ),
            )
        )
        money = await _money_of(desk, case_id)
        assert money["unbalanced"] == 0, money
        assert money["transactions"].get("REVERSAL", 0) <= 1, money
        assert money["seller_paid"] in (0, 249_900), money
        _versions_distinct(money)


async def test_two_appeals_at_once_are_heard_once(harness: Harness, desk: Engine) -> None:
    """The seller's appeal sent twice at once (two portal tabs): the case is appealed once; the
    second filing is a repeat, never a second appeal or a second decision."""
    for _ in range(ROUNDS):
        case_id, filed = await _review_case(desk)
        r = await desk.client.post(
            f"/v1/cases/{case_id}/decision", json=PARTNER_LOST_IT, headers=harness.key(AGENT)
        )
        assert r.status_code == 200, r.text
        now = desk.clock.now()
        await desk.send(appeal(filed.payload, now), appeal(filed.payload, now))
        await desk.wait_case(filed.payload.return_id, lambda c: c["state"] == "APPEALED")
        await asyncio.sleep(0.5)
        moves = await desk.sql(
            "SELECT count(*) AS n FROM outbox WHERE ce_subject = :c AND ce_type = :t",
            c=case_id,
            t=APPEALED,
        )
        assert int(moves[0]["n"]) <= 1, moves
        money = await _money_of(desk, case_id)
        assert money["unbalanced"] == 0 and money["decisions"] == 1, money


async def _partner_notice(desk: Engine, case_id: str) -> str:
    rows = await desk.sql("SELECT notice_id FROM debit_notices WHERE case_id = :c", c=case_id)
    assert len(rows) == 1, rows
    return str(rows[0]["notice_id"])


async def test_a_partner_contest_racing_the_desks_overturn(harness: Harness, desk: Engine) -> None:
    """The partner contests its debit while a manager overturns the decision that made it: the
    ledger balances whichever runs first, and the partner is never debited twice."""
    partner = harness.key(PARTNER_RAPIDROUTE)
    for _ in range(ROUNDS):
        case_id = await _appealed_case(harness, desk)
        notice_id = await _partner_notice(desk, case_id)
        rs = await _at_once(
            desk.client.post(
                f"/v1/partner/notices/{notice_id}/contest",
                json={"reason": "Weighed at pickup"},
                headers=partner,
            ),
            desk.client.post(
                f"/v1/cases/{case_id}/appeal-decision",
                json=OVERTURN,
                headers=harness.key(MANAGER_2),
            ),
        )
        _none_failed(rs)
        money = await _money_of(desk, case_id)
        assert money["unbalanced"] == 0, money
        # The overturn always lands, and takes the whole debit off: whichever ran first, the
        # notice ends withdrawn and a ruling on it afterwards is refused.
        assert await _partner_owes(desk, case_id) == 0
        await _withdrawn_and_closed_to_rulings(harness, desk, case_id, notice_id)


async def test_a_ruling_racing_the_desks_overturn(harness: Harness, desk: Engine) -> None:
    """A manager rules REVERSED on the partner's contest while another overturns the decision:
    the debit comes off the partner once, never twice (a ruling that waited for the overturn's
    lock must see the notice it withdrew, not the copy it read before waiting)."""
    partner = harness.key(PARTNER_RAPIDROUTE)
    for _ in range(ROUNDS):
        case_id = await _appealed_case(harness, desk)
        notice_id = await _partner_notice(desk, case_id)
        r = await desk.client.post(
            f"/v1/partner/notices/{notice_id}/contest",
            json={"reason": "Weighed at pickup"},
            headers=partner,
        )
        assert r.status_code == 201, r.text
        rs = await _at_once(
            desk.client.post(
                f"/v1/partner-notices/{notice_id}/ruling",
                json={"outcome": "REVERSED", "reason": "Their pickup photo shows it intact"},
                headers=harness.key(MANAGER),
            ),
            desk.client.post(
                f"/v1/cases/{case_id}/appeal-decision",
                json=OVERTURN,
                headers=harness.key(MANAGER_2),
            ),
        )
        _none_failed(rs)
        assert rs[1].status_code == 200, rs[1].text
        assert (await _money_of(desk, case_id))["unbalanced"] == 0
        assert await _partner_owes(desk, case_id) == 0
        notice = await desk.sql(
            "SELECT dispute FROM debit_notices WHERE notice_id = :n", n=uuid.UUID(notice_id)
        )
        assert notice[0]["dispute"] in ("WITHDRAWN", "REVERSED"), notice


async def _withdrawn_and_closed_to_rulings(
    harness: Harness, desk: Engine, case_id: str, notice_id: str
) -> None:
    notice = await desk.sql(
        "SELECT dispute FROM debit_notices WHERE notice_id = :n", n=uuid.UUID(notice_id)
    )
    assert notice[0]["dispute"] == "WITHDRAWN", notice
    r = await desk.client.post(
        f"/v1/partner-notices/{notice_id}/ruling",
        json={"outcome": "REVERSED", "reason": "Late ruling"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert await _partner_owes(desk, case_id) == 0


async def test_the_same_escalation_to_management_twice_at_once(
    harness: Harness, desk: Engine
) -> None:
    """Under one Idempotency-Key: one task. Without one (two agents, one reason): one open
    management task per case, the other request answered 409 naming the open one."""
    agent = harness.key(AGENT)
    for round_ in range(ROUNDS):
        case_id, _ = await _review_case(desk)
        path = f"/v1/cases/{case_id}/escalate-to-management"
        body = {"reason": "Repeat offender"}
        headers = [agent, harness.key(MANAGER)]
        if round_ % 2 == 0:
            key = uuid.uuid4().hex
            headers = [{**agent, "Idempotency-Key": key}, {**agent, "Idempotency-Key": key}]
        rs = await _at_once(*(desk.client.post(path, json=body, headers=h) for h in headers))
        _none_failed(rs, refused=(409,))
        tasks = await desk.sql(
            "SELECT count(*) AS n FROM case_tasks WHERE case_id = :c AND team = 'management'",
            c=case_id,
        )
        assert int(tasks[0]["n"]) == 1, (tasks, [(r.status_code, r.text[:200]) for r in rs])
        # Nor a second one through the generic task route, under the same case lock.
        r = await desk.client.post(
            f"/v1/cases/{case_id}/tasks",
            json={"team": "management", "ask": "Look at this one too"},
            headers=agent,
        )
        assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM), r.text


# --- through the whole pipeline: what the seller sends at once, from intake on ----------------


async def _pipeline_money(recon: RunningService, case_id: str) -> dict[str, Any]:
    unbalanced = await scalar(
        recon,
        "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries WHERE case_id = :c "
        "GROUP BY transaction_id HAVING sum(amount) <> 0) AS t",
        c=case_id,
    )
    settlements = await scalar(
        recon,
        "SELECT count(*) FROM ledger_transactions WHERE case_id = :c AND kind = 'SETTLEMENT'",
        c=case_id,
    )
    decided = await scalar(
        recon,
        "SELECT count(*) FROM outbox WHERE ce_subject = :c AND ce_type = :t",
        c=case_id,
        t=DECIDED,
    )
    appealed = await scalar(
        recon,
        "SELECT count(*) FROM outbox WHERE ce_subject = :c AND ce_type = :t",
        c=case_id,
        t=APPEALED,
    )
    return {
        "unbalanced": unbalanced,
        "settlements": settlements,
        "decided": decided,
        "appealed": appealed,
    }


async def test_two_uploads_completing_a_checklist_at_once_decide_once(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """A damage claim with one photo waits for evidence (two photos and a label); the second
    photo and the label photo arrive at the same moment, from the seller's two devices. Each
    upload alone leaves the checklist short, together they complete it: the case is decided
    and paid once, whichever the consumers see first."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    agent = harness.key(AGENT)
    for _ in range(ROUNDS):
        base = uuid.uuid4().int % 10**15 * 10  # each photo's digest its own (its sha256)
        filed = await filed_case(
            harness,
            pipeline,
            until=lambda c: c["state"] == "AWAITING_EVIDENCE",
            evidence=[evidence_photo("PHOTO", base)],
        )
        path = f"/v1/escalations/{filed.escalation_id}/evidence"
        rs = await _at_once(
            intake.client.post(
                path, json={"evidence": [evidence_photo("PHOTO", base + 1)]}, headers=agent
            ),
            intake.client.post(
                path, json={"evidence": [evidence_photo("LABEL_PHOTO", base + 2)]}, headers=agent
            ),
        )
        assert all(r.status_code in (200, 201, 202) for r in rs), [r.text for r in rs]
        case = await _case(harness, recon, filed.rid, lambda c: c["state"] in DONE_STATES)
        await asyncio.sleep(1)  # anything a second decision would add, it would have by now
        money = await _pipeline_money(recon, case["case_id"])
        assert money["unbalanced"] == 0 and money["decided"] == 1, money
        assert money["settlements"] == 1, money


async def test_two_appeals_sent_at_once_through_intake_are_heard_once(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The appeal of a decided claim sent twice at once (a double click, two tabs): each
    request is answered without a 5xx, the case is appealed once, and nothing more is paid."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    agent = harness.key(AGENT)
    for _ in range(ROUNDS):
        filed = await filed_case(harness, pipeline)  # L11: decided, half paid, closed
        path = f"/v1/escalations/{filed.escalation_id}/appeal"
        rs = await _at_once(
            *(intake.client.post(path, json={"reason": "Look again"}, headers=agent) for _ in "ab")
        )
        _none_failed(rs)
        await _case(harness, recon, filed.rid, lambda c: c["state"] == "APPEALED")
        await asyncio.sleep(1)
        money = await _pipeline_money(recon, filed.case["case_id"])
        assert money["unbalanced"] == 0 and money["appealed"] == 1, money
        assert money["settlements"] == 1, money


# --- a partner's debit reversed twice: by its contest and by the decision's overturn ----------


async def _partner_owes(desk: Engine, case_id: str) -> int:
    rows = await desk.sql(
        "SELECT coalesce(sum(amount), 0) AS owed FROM ledger_entries "
        "WHERE case_id = :c AND account_type = 'partner_receivable'",
        c=case_id,
    )
    return int(rows[0]["owed"])


async def test_a_debit_the_overturn_reversed_cannot_be_reversed_again_by_a_contest(
    harness: Harness, desk: Engine
) -> None:
    """The appeal overturns the decision that debited the partner (its settlement reversed: the
    partner owes nothing on the case). The partner's notice of that debit can then no longer be
    contested (409): a contest upheld in the partner's favour would take the debit off a second
    time, and the marketplace would owe the partner what it never charged."""
    case_id = await _appealed_case(harness, desk)
    notice_id = await _partner_notice(desk, case_id)
    assert await _partner_owes(desk, case_id) == 249_900
    r = await desk.client.post(
        f"/v1/cases/{case_id}/appeal-decision",
        json=OVERTURN,
        headers=harness.key(MANAGER_2),
    )
    assert r.status_code == 200, r.text
    assert await _partner_owes(desk, case_id) == 0
    r = await desk.client.post(
        f"/v1/partner/notices/{notice_id}/contest",
        json={"reason": "Weighed at pickup"},
        headers=harness.key(PARTNER_RAPIDROUTE),
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM), r.text
    r = await desk.client.get(
        f"/v1/partner/notices/{notice_id}", headers=harness.key(PARTNER_RAPIDROUTE)
    )
    assert r.status_code == 200 and r.json()["dispute"] == "WITHDRAWN", r.text
    assert await _partner_owes(desk, case_id) == 0


async def test_a_contest_ruled_before_the_overturn_is_not_reversed_twice(
    harness: Harness, desk: Engine
) -> None:
    """The partner contests and the desk reverses its debit; later the seller's appeal
    overturns the decision. The overturn takes back what the decision posted and what the
    contest took off, together: the partner owes nothing on the case, not minus the debit,
    and the marketplace bears nothing for a debit that no longer exists."""
    case_id = await _appealed_case(harness, desk)
    notice_id = await _partner_notice(desk, case_id)
    partner = harness.key(PARTNER_RAPIDROUTE)
    r = await desk.client.post(
        f"/v1/partner/notices/{notice_id}/contest",
        json={"reason": "Weighed at pickup"},
        headers=partner,
    )
    assert r.status_code in (200, 201), r.text
    r = await desk.client.post(
        f"/v1/partner-notices/{notice_id}/ruling",
        json={"outcome": "REVERSED", "reason": "The hub's scale was off"},
        headers=harness.key(MANAGER),
    )
    assert r.status_code == 200, r.text
    assert await _partner_owes(desk, case_id) == 0
    r = await desk.client.post(
        f"/v1/cases/{case_id}/appeal-decision",
        json=OVERTURN,
        headers=harness.key(MANAGER_2),
    )
    assert r.status_code == 200, r.text
    assert await _partner_owes(desk, case_id) == 0
    bears = await desk.sql(
        "SELECT coalesce(sum(amount), 0) AS cost FROM ledger_entries "
        "WHERE case_id = :c AND account_type = 'marketplace_cost'",
        c=case_id,
    )
    money = await _money_of(desk, case_id)
    assert money["unbalanced"] == 0 and money["seller_paid"] == 0, money
    assert int(bears[0]["cost"]) == 0, bears


async def test_the_same_claim_filed_twice_at_once_is_paid_once(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The seller's claim sent twice at once, without an Idempotency-Key (two filings; the case
    merges the second) and under one key (one filing): each answered without a 5xx, one case,
    decided and paid once."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    agent = harness.key(AGENT)
    for round_ in range(ROUNDS):
        seller = f"S-RACE-{uuid.uuid4().hex[:8].upper()}"
        rid = await _feed(harness, intake, seller, item_value=180_000, qc_required=False)
        now = datetime.now(UTC)
        await _scan(harness, intake, rid, "return.picked_up", now - timedelta(days=2), 1.2)
        await _scan(harness, intake, rid, "return.delivered", now - timedelta(days=1), 1.2)
        body = escalation_body(
            rid, seller_id=seller, channel="EMAIL", seller_email=_address(), claimed_amount=150_000
        )
        headers = [agent, agent]
        if round_ % 2:
            key = uuid.uuid4().hex
            headers = [{**agent, "Idempotency-Key": key}] * 2
        rs = await _at_once(
            *(intake.client.post("/v1/escalations", json=body, headers=h) for h in headers)
        )
        _none_failed(rs, refused=(409,))
        case = await _case(harness, recon, rid, lambda c: c["state"] == "CLOSED")
        await asyncio.sleep(1)
        cases = await scalar(recon, "SELECT count(*) FROM cases WHERE return_id = :r", r=rid)
        money = await _pipeline_money(recon, case["case_id"])
        assert cases == 1 and money["decided"] == 1 and money["settlements"] == 1, money
        assert money["unbalanced"] == 0, money
