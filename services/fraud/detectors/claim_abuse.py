"""Claim abuse by a seller: claims far above category peers, many high-value claims, `MISSING_ITEM`
claims whose weight was intact, claims filed just before the window closes, repeatedly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import RateTest, Thresholds, contribution_from_p, rate_test

PATTERN = "CLAIM_ABUSE"
ACTION = "Hold the seller's open claims for manual review and ask for unboxing videos."


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """The claim being scored, as far as the return's history tells."""

    claim_type: str
    item_value: int | None
    weight_intact: bool | None  # None: pickup or delivery weight unknown
    hours_after_delivery: float | None
    high_value: bool


def claim_flags(
    claim: ClaimFacts, *, window_h: float, late_margin_h: float
) -> list[tuple[str, str, float, dict[str, float | int | str]]]:
    """Red flags of this one claim (code, detail, contribution, numbers)."""
    flags: list[tuple[str, str, float, dict[str, float | int | str]]] = []
    if claim.claim_type == "MISSING_ITEM" and claim.weight_intact:
        flags.append(("CLAIM_MISSING_ITEM_WEIGHT_INTACT",
                      "MISSING_ITEM claimed but the delivered weight matches the pickup weight",
                      0.35, {}))
    h = claim.hours_after_delivery
    if h is not None and window_h - late_margin_h <= h <= window_h:
        flags.append(("CLAIM_FILED_AT_WINDOW_CLOSE",
                      f"filed {h:.1f} h after delivery, window closes at {window_h:.0f} h",
                      0.15, {"hours_after_delivery": round(h, 1)}))
    return flags


def _finding(code: str, test: RateTest, seller_id: str, t: Thresholds, what: str) -> Finding:
    return Finding(
        code=code, detail=f"{what} {test.detail()}", contribution=contribution_from_p(test.p, t),
        pattern=PATTERN, entity_type="seller", entity_id=seller_id, numbers=test.numbers(),
        alert=test.p <= t.alpha_high, suggested_action=ACTION,
    )


def seller_findings(
    seller_id: str, own: Mapping[str, int], category: Mapping[str, int], t: Thresholds
) -> list[Finding]:
    """Seller-level tests; `category` totals include the seller, whose counts are taken out."""

    def peer(metric: str) -> int:
        return category.get(metric, 0) - own.get(metric, 0)

    def o(metric: str) -> int:
        return own.get(metric, 0)

    tests = [
        ("SELLER_CLAIM_RATE_HIGH", "claim rate",
         rate_test(o("claims"), o("delivered"), peer("claims"), peer("delivered"), t,
                   prior_rate=0.05)),
        ("SELLER_HIGH_VALUE_CLAIMS", "high-value claim rate",
         rate_test(o("claims_high_value"), o("delivered_high_value"), peer("claims_high_value"),
                   peer("delivered_high_value"), t, prior_rate=0.05)),
        ("SELLER_MISSING_ITEM_WEIGHT_INTACT", "share of claims MISSING_ITEM with intact weight",
         rate_test(o("claims_missing_intact"), o("claims"), peer("claims_missing_intact"),
                   peer("claims"), t, prior_rate=0.05)),
        ("SELLER_LATE_CLAIMS", "share of claims filed as the window closes",
         rate_test(o("claims_late"), o("claims"), peer("claims_late"), peer("claims"), t,
                   prior_rate=0.07)),
    ]
    out = []
    for code, what, test in tests:
        f = _finding(code, test, seller_id, t, what)
        if f.contribution > 0:
            out.append(f)
    return out
