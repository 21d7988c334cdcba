"""Evidence reuse: the same file (sha256) or a near-duplicate image (perceptual hash within a small
Hamming distance) on a different return, by the same seller or another one.

Returns of the same order are not different returns in this sense: a multi-item order has one
invoice, and each item's claim may carry it. Evidence shared between returns with the same
order id and seller is not reuse; the same file on a return of another order, or of another
seller, still is."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import hamming64

PATTERN = "EVIDENCE_REUSE"
ACTION = "Reject the reused evidence, request fresh evidence, review the seller's paid claims."


@dataclass(frozen=True, slots=True)
class EvidenceFingerprint:
    sha256: str
    phash: int | None
    return_id: str
    seller_id: str
    # The order the return belongs to, when known.
    order_id: str | None = None

    def same_order(self, other: EvidenceFingerprint) -> bool:
        """Whether two returns are items of one order of one seller: evidence shared between
        them (the order's invoice, a photo of the whole parcel) is the order's, not reused.
        Unknown orders are never the same."""
        return (
            self.order_id is not None
            and self.order_id == other.order_id
            and self.seller_id == other.seller_id
        )


def chance_match_rate(max_distance: int) -> float:
    """Probability that two unrelated 64-bit hashes lie within `max_distance` bits: the stated
    false-alarm rate of one near-duplicate comparison."""
    return sum(math.comb(64, i) for i in range(max_distance + 1)) / 2**64


def reuse_findings(
    *,
    seller_id: str,
    return_id: str,
    items: Sequence[EvidenceFingerprint],
    earlier: Sequence[EvidenceFingerprint],
    max_distance: int,
) -> list[Finding]:
    """Compare this claim's evidence with earlier evidence on other returns."""
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        for old in earlier:
            if old.return_id == return_id or item.same_order(old):
                continue
            other_seller = old.seller_id != seller_id
            if old.sha256 == item.sha256:
                key = ("exact", old.return_id)
                if key in seen:
                    continue
                seen.add(key)
                out.append(
                    Finding(
                        code="EVIDENCE_REUSED_EXACT",
                        detail=(
                            f"sha256 {item.sha256[:12]}… already filed on {old.return_id}"
                            + (f" by seller {old.seller_id}" if other_seller else "")
                        ),
                        contribution=0.95 if other_seller else 0.9,
                        pattern=PATTERN,
                        entity_type="seller",
                        entity_id=seller_id,
                        numbers={
                            "matched_return": old.return_id,
                            "other_seller": int(other_seller),
                        },
                        alert=True,
                        suggested_action=ACTION,
                    )
                )
            elif item.phash is not None and old.phash is not None:
                d = hamming64(item.phash, old.phash)
                if d <= max_distance:
                    key = ("near", old.return_id)
                    if key in seen:
                        continue
                    seen.add(key)
                    fa = chance_match_rate(max_distance)
                    out.append(
                        Finding(
                            code="EVIDENCE_NEAR_DUPLICATE",
                            detail=(
                                f"image within Hamming {d} of one on {old.return_id}"
                                f" (chance match {fa:.1e})"
                            ),
                            contribution=0.9 if other_seller else 0.85,
                            pattern=PATTERN,
                            entity_type="seller",
                            entity_id=seller_id,
                            numbers={
                                "hamming": d,
                                "matched_return": old.return_id,
                                "chance_match": float(f"{fa:.3g}"),
                            },
                            alert=True,
                            suggested_action=ACTION,
                        )
                    )
    return out
