"""sop-v1's edges as the seller lives them, through intake's HTTP API, the partner's webhook and
every service on the test stack: the decision, the ledger and each email the seller receives
(amounts, dates in India time, the rule's words) at a weight one gram either side of the
500 g crossing (weights sent in kilograms), a payout one paisa above a partner's cap, and a claim
window ending seconds before the filing, with scan times written in +05:30."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from services.reconciliation.policy.explain import SELLER_TIME_ZONE
from shared.decision_wording import same_minute
from shared.money import rupees as inr
from tests.conftest import Harness
from tests.integration.test_seller_directory import _feed
from tests.support.factories import escalation_body
from tests.support.mail import messages_mentioning, text_part
from tests.support.scenario import AGENT, case_of, in_both, mails_about, new_seller, seller_address
from tests.support.scenario import send_swiftship_scan as _scan_kg

IST = timezone(timedelta(hours=5, minutes=30))
FINANCE = "DISPUTEDESK_KEY_FINANCE"


async def _claim_before_delivery(
    harness: Harness,
    pipeline: dict[str, Any],
    *,
    item_value: int,
    pickup_kg: float,
    delivered_kg: float,
) -> tuple[str, str, str, dict[str, Any]]:
    """Picked up two days ago, the seller's damage claim filed (E1 waits for the delivery scan,
    so no proactive case opens on the weight), then the delivery scan of a day ago. Times are
    sent in India's offset."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    to, seller = seller_address(), new_seller()
    rid = await _feed(harness, intake, seller, qc_required=False, item_value=item_value)
    now = datetime.now(IST)
    await _scan_kg(harness, intake, rid, "return.picked_up", now - timedelta(days=2), pickup_kg)
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(
            rid, seller_id=seller, channel="EMAIL", seller_email=to, claimed_amount=item_value
        ),
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    await _scan_kg(harness, intake, rid, "return.delivered", now - timedelta(days=1), delivered_kg)
    case = await case_of(harness, recon, rid, lambda c: c["state"] == "CLOSED")
    return rid, seller, to, case


async def _ledger(harness: Harness, recon: Any, case_id: str) -> dict[str, int]:
    r = await recon.client.get(f"/v1/ledger/cases/{case_id}", headers=harness.key(FINANCE))
    assert r.status_code == 200, r.text
    [settlement] = r.json()["transactions"]
    lines: dict[str, int] = {}
    for line in settlement["lines"]:
        lines[line["account"]] = lines.get(line["account"], 0) + line["amount"]
    assert sum(lines.values()) == 0, lines
    return lines


async def test_one_gram_past_the_500_g_crossing_pays_the_partner_cap_and_the_paisa_above(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """0.5 kg at pickup, 0.449 kg at delivery: 51 g lost, more than max(50 g, 10 %) = 50 g, so
    L6, the partner liable. The claim is ₹10,000.01, one paisa above swiftship's cap: the
    partner is debited ₹10,000.00 and the marketplace bears ₹0.01, which the decision email
    says once; the settlement pays the seller ₹10,000.01."""
    recon = pipeline["reconciliation"]
    rid, seller, to, case = await _claim_before_delivery(
        harness, pipeline, item_value=1_000_001, pickup_kg=0.5, delivered_kg=0.449
    )
    d = case["decision"]
    assert (d["rule_id"], d["liable_party"], d["outcome"]) == ("L6", "PARTNER", "GRANTED"), d
    assert (d["payout"], d["partner_debit"], d["marketplace_cost"]) == (1_000_001, 1_000_000, 1)
    lines = await _ledger(harness, recon, case["case_id"])
    assert lines[f"seller_payable:{seller}"] == -1_000_001
    assert lines["partner_receivable:swiftship"] == 1_000_000
    [decided] = await mails_about(harness, rid, "approved in full")
    assert decided["To"] == to
    in_both(
        decided,
        inr(1_000_001),
        "500 g at pickup and 449 g on delivery, a drop of 51 g",
        f"{inr(1_000_000)} of it is recovered from the logistics partner",
        f"the marketplace bears the remaining {inr(1)}",
    )
    assert text_part(decided).count(f"remaining {inr(1)}") == 1, text_part(decided)
    [settled] = await mails_about(harness, rid, "payment reference")
    in_both(settled, inr(1_000_001))
    assert len(messages_mentioning(harness.mail_dir, rid)) == 3


async def test_exactly_50_g_lost_at_the_crossing_is_no_weight_drop_and_halves_odd_paise(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """0.5 kg → 0.45 kg: 50 g lost is not more than max(50 g, 10 %), so no weight drop; no QC at
    pickup and a damage claim is L11, half, the buyer liable: ₹10,000.01 halves to ₹5,000.00
    (floored to the paisa, never ₹5,000.01), and no cap applies to the buyer."""
    recon = pipeline["reconciliation"]
    rid, seller, _, case = await _claim_before_delivery(
        harness, pipeline, item_value=1_000_001, pickup_kg=0.5, delivered_kg=0.45
    )
    d = case["decision"]
    assert (d["rule_id"], d["liable_party"], d["outcome"]) == ("L11", "BUYER", "PARTIAL"), d
    assert (d["payout"], d["buyer_receivable"], d["partner_debit"]) == (500_000, 500_000, 0), d
    lines = await _ledger(harness, recon, case["case_id"])
    assert lines[f"seller_payable:{seller}"] == -500_000
    [decided] = await mails_about(harness, rid, "partly approved")
    in_both(decided, inr(500_000), f"50 % of {inr(1_000_001)}")
    assert inr(500_001) not in text_part(decided)
    assert "weighed" not in text_part(decided)
    [settled] = await mails_about(harness, rid, "payment reference")
    in_both(settled, inr(500_000))


def _minute_prefix(when: datetime) -> str:
    """`8 Nov 2026, 3:05` in India time: what the paragraph says of a moment whether it gives
    it to the minute or to the second."""
    local = when.astimezone(SELLER_TIME_ZONE)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    hour = local.hour % 12 or 12
    return f"{local.day} {months[local.month - 1]} {local.year}, {hour}:{local.minute:02d}"


async def test_a_claim_filed_seconds_after_the_168_hours_is_closed_with_both_moments(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """Delivered (the scan written in +05:30) 168 hours and some seconds before the filing: E3
    closes it. The email gives the filing and the window's end in India time, to the second
    when they share a minute, so the seller sees why; the appeal is offered with its date."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    to, seller = seller_address(), new_seller()
    rid = await _feed(harness, intake, seller, qc_required=False, item_value=180_000)
    # The window ends one second into the current minute and the filing follows within it
    # (started early enough in a minute to be filed before the next).
    if datetime.now(UTC).second > 40:
        await asyncio.sleep(61 - datetime.now(UTC).second)
    now = datetime.now(IST)
    while now.second < 2:
        await asyncio.sleep(0.5)
        now = datetime.now(IST)
    delivered = now.replace(second=1, microsecond=0) - timedelta(hours=168)
    await _scan_kg(harness, intake, rid, "return.picked_up", delivered - timedelta(days=1), 1.2)
    await _scan_kg(harness, intake, rid, "return.delivered", delivered, 1.2)
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(
            rid, seller_id=seller, channel="EMAIL", seller_email=to, claimed_amount=150_000
        ),
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    case = await case_of(harness, recon, rid, lambda c: c["state"] in ("REJECTED", "CLOSED"))
    assert (case["state"], case["decision"]["rule_id"]) == ("REJECTED", "E3"), case
    filed = datetime.fromisoformat(case["decision"]["facts"]["filed_at"])
    end = delivered + timedelta(hours=168)
    assert end < filed
    [closed] = await mails_about(harness, rid, "was closed")
    assert closed["To"] == to
    in_both(
        closed,
        f"filed on {_minute_prefix(filed)}",
        f"the time to claim ended at {_minute_prefix(end)}",
    )
    assert same_minute(filed, end), (filed, end)
    seconds = filed.astimezone(SELLER_TIME_ZONE).strftime(":%S")
    in_both(
        closed, f"ended at {_minute_prefix(end)}:01 ", f"filed on {_minute_prefix(filed)}{seconds} "
    )
    # The rejection's appeal-by is the decision plus 7 days, in India time with UTC beside it.
    appeal_by = datetime.fromisoformat(case["appeal_by"]).astimezone(UTC)
    assert _minute_prefix(appeal_by) in text_part(closed), text_part(closed)


async def test_a_claim_filed_a_minute_inside_the_168_hours_is_decided(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The other side of the same edge: delivered 168 hours less a minute before the filing
    (scan in +05:30): in time, decided (L11) and paid."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    to, seller = seller_address(), new_seller()
    rid = await _feed(harness, intake, seller, qc_required=False, item_value=180_000)
    now = datetime.now(IST)
    delivered = now - timedelta(hours=168) + timedelta(minutes=1)
    await _scan_kg(harness, intake, rid, "return.picked_up", delivered - timedelta(days=1), 1.2)
    await _scan_kg(harness, intake, rid, "return.delivered", delivered, 1.2)
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(
            rid, seller_id=seller, channel="EMAIL", seller_email=to, claimed_amount=150_000
        ),
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    case = await case_of(harness, recon, rid, lambda c: c["state"] in ("REJECTED", "CLOSED"))
    assert (case["state"], case["decision"]["rule_id"], case["payout"]) == ("CLOSED", "L11", 75_000)
    [decided] = await mails_about(harness, rid, "partly approved")
    in_both(decided, inr(75_000))
