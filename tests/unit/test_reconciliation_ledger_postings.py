"""Ledger postings and the policy record, without a database."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from services.reconciliation.ledger.postings import balances, reversal_postings, settlement_postings
from services.reconciliation.policy.rules import compute_amounts
from services.reconciliation.policy.sop_v1 import SOP_V1, Policy
from shared.events import LiableParty

MIGRATIONS = Path(__file__).resolve().parents[2] / "services/reconciliation/migrations/versions"


@given(
    claimed=st.integers(min_value=0, max_value=10_000_000),
    item_value=st.integers(min_value=0, max_value=10_000_000),
    pct=st.integers(min_value=0, max_value=100),
    party=st.sampled_from(list(LiableParty)),
    partner=st.sampled_from(["swiftship", "rapidroute", "desipost", "other"]),
)
def test_every_settlement_and_its_reversal_balance(
    claimed: int, item_value: int, pct: int, party: LiableParty, partner: str
) -> None:
    a = compute_amounts(
        claimed_amount=claimed,
        item_value=item_value,
        payout_pct=pct,
        liable_party=party,
        partner_id=partner,
        p=SOP_V1,
    )
    assert a.payout == a.partner_debit + a.buyer_receivable + a.marketplace_cost
    assert 0 <= a.partner_debit <= SOP_V1.partner_cap(partner)
    lines = settlement_postings(
        seller_id="S",
        partner_id=partner,
        buyer_id="B",
        payout=a.payout,
        partner_debit=a.partner_debit,
        buyer_receivable=a.buyer_receivable,
    )
    assert balances(lines)
    assert all(line.amount != 0 for line in lines)
    assert -sum(line.amount for line in lines if line.account_type == "seller_payable") == a.payout
    assert balances(lines + reversal_postings(lines))
    net: dict[str, int] = {}
    for line in lines + reversal_postings(lines):
        net[line.account] = net.get(line.account, 0) + line.amount
    assert set(net.values()) <= {0}


def test_the_migration_seeds_exactly_the_policy_the_code_defines() -> None:
    path = next(MIGRATIONS.glob("38fac58d512e_*.py"))
    spec = importlib.util.spec_from_file_location("sop_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # A stored version is never edited (docs/sop-lifecycle.md), so fields added to the policy
    # later are absent from the seed and read as their defaults: what must match is the policy
    # the stored definition reads as.
    assert Policy.model_validate(module.SOP_V1_DEFINITION) == SOP_V1
