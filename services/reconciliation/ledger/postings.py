"""The lines SOP step 3 posts for a settled decision, and their mirror for a reversal.

A line's `amount` is signed paise: positive debits, negative credits, so a balanced
transaction's lines sum to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

PROTECTION_FUND = "protection_fund"


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    account_type: str
    counterparty_id: str | None
    amount: int


def settlement_postings(
    *,
    seller_id: str,
    partner_id: str | None,
    buyer_id: str | None,
    payout: int,
    partner_debit: int,
    buyer_receivable: int,
) -> list[Posting]:
    """Protection fund pays the seller; recoveries from the partner or buyer refill it."""
    lines: list[Posting] = []
    if payout:
        lines += [
            Posting(PROTECTION_FUND, PROTECTION_FUND, None, payout),
            Posting(f"seller_payable:{seller_id}", "seller_payable", seller_id, -payout),
        ]
    if partner_debit:
        partner = partner_id or "unknown"
        lines += [
            Posting(f"partner_receivable:{partner}", "partner_receivable", partner, partner_debit),
            Posting(PROTECTION_FUND, PROTECTION_FUND, None, -partner_debit),
        ]
    if buyer_receivable:
        buyer = buyer_id or "unknown"
        lines += [
            Posting(f"buyer_receivable:{buyer}", "buyer_receivable", buyer, buyer_receivable),
            Posting(PROTECTION_FUND, PROTECTION_FUND, None, -buyer_receivable),
        ]
    return lines


def reversal_postings(lines: list[Posting]) -> list[Posting]:
    """The mirror of a transaction: entries are never edited, an error is undone by its opposite."""
    return [Posting(p.account, p.account_type, p.counterparty_id, -p.amount) for p in lines]


def balances(lines: list[Posting]) -> bool:
    return sum(p.amount for p in lines) == 0
