"""What a seller's claim-rate evidence makes of one of its claims: HIGH, or MEDIUM held for review.

A seller's claim-rate sequential test alerts at a Bayes factor of 1/`seller_seq_alpha` (100): by
Ville's inequality at most 1 % of honest sellers ever get there, which is the honest-seller goal's
own figure, and the alert sends the seller to an analyst. Its claims are another matter. The
honest seller so alerted is the one claiming most often by luck, its claims are 5-8 % of a thin
world's honest escalations, and the alert's revisions (its earlier claims) and floor (its later
ones) made every one of them HIGH: one false alarm in a hundred sellers became many honest
escalations sent to an analyst as probable fraud.

So the claim-rate evidence makes a claim HIGH only once it reaches 1/`seller_claim_high_alpha`.
By default that is the alert's own level (100), and an alerted seller's claims are HIGH: SOP v1
reviews only HIGH (E5), and a level above the alert holds a moderate abuser's claims at MEDIUM,
decided on their facts and paid while its alert waits for an analyst. Set above the alert (1e-3,
a factor of 1,000), by the same bound at most 0.1 % of honest sellers ever get there. That bounds
sellers, not their claims: Ville's inequality holds for a seller drawn from the honest
population, and the chance of reaching a level is largest for the sellers that hold most claims
(busy, and claiming in the upper part of their population), so the share of honest claims whose
seller reaches a level is several times the share of sellers that do. Simulated on the
development worlds' markets at the alert's level, 0.06-0.3 % of honest sellers and 0.9-2.9 % of
honest claims; at 1,000, 0.45 % of honest claims (docs/fraud-detection-journal.md, "Honest
escalations: a seller's false alarm counted in claims"). One honest seller's false alarm is
what most of the development worlds' honest escalations HIGH are. Between the alert and that
level the evidence stops at MEDIUM (`BELOW_HIGH`), and weak signs combined with it cannot lift
it across into HIGH. Once the seller's evidence reaches the
level, its floor makes its claims filed from then on HIGH, and its revisions lift the claims
filed before the alert to HIGH from a second level, 1/`seller_claim_lift_alpha` (by default the
same): those are the run the test was crossed on, the very claims an honest seller's luck is
made of; set at 1e-3, by Ville's bound at most 0.1 % of honest sellers ever have them lifted.
With `seller_claim_follow_down` both levels are followed down as well as up: when the seller's
evidence, read again on its claims and deliveries, falls back below a level its claims were HIGH
on, those claims go back to MEDIUM while the alert stays open (`service.follow_evidence`,
`stage`, `crossed`). Neither is the default: a moderate abuser's evidence hovers about its alert
as an honest seller's does, and is found late, so its claims went down with the honest ones.

A seller in a seller-buyer collusion ring (an open alert on one of its pairs) is alerted for
claim abuse on the claims its ring made: those claims are HIGH on the ring's alert, and its
claim-abuse evidence lifts none of its claims to HIGH, so its claims with buyers outside the
ring stay MEDIUM at most, whatever the level.

A rate test's finding (`SELLER_CLAIM_RATE_HIGH`, p at most 1e-4) is already past that level and
is left alone, and so are the other patterns' findings, whose alerts are at 1/`seq_alpha` or
beyond.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.findings import Finding
from shared.events import ReasonCode

# The highest MEDIUM score (as scoring.service.BELOW_HIGH).
BELOW_HIGH = 0.79
_HIGH_FLOOR = 0.8
SEQUENTIAL_CODE = "SELLER_CLAIM_RATE_SEQUENTIAL"
# Named in a held finding's numbers (and so in the claim's reasons): the Bayes factor a claim
# would need to be HIGH on this evidence, as a log.
HELD = "claim_high_log_bayes_factor"


def short_of_high(
    pattern: str, entity_type: str, numbers: Mapping[str, object], high_log_bf: float
) -> bool:
    """Whether a finding (or an alert's evidence) is a seller's claim-rate sequential evidence
    short of what makes one of its claims HIGH."""
    if pattern != claim_abuse.PATTERN or entity_type != "seller":
        return False
    if numbers.get("test") != "sequential":
        return False
    log_bf = numbers.get("log_bayes_factor")
    return isinstance(log_bf, int | float) and float(log_bf) < high_log_bf


def stage(numbers: Mapping[str, object], high_log_bf: float, lift_log_bf: float) -> int | None:
    """How far a seller's claim-rate sequential evidence (a finding's or an alert's numbers)
    reaches: 0 short of its claims' HIGH level (`high_log_bf`), so its claims are MEDIUM; 1 from
    there, so the claims filed since its alert are HIGH; 2 from the lift level (`lift_log_bf`)
    on, so those filed before the alert are HIGH too. None for other evidence (a rate test)."""
    if numbers.get("test") != "sequential":
        return None
    log_bf = numbers.get("log_bayes_factor")
    if not isinstance(log_bf, int | float):
        return None
    return 0 if log_bf < high_log_bf else 1 if log_bf < lift_log_bf else 2


def crossed(was: int, now: int) -> tuple[bool, bool]:
    """Which of an alerted seller's claims change band as its evidence moves from stage `was`
    to stage `now` (`stage`): those filed since its alert, those filed before it."""
    return (was >= 1) != (now >= 1), (was >= 2) != (now >= 2)


def in_ring(f: Finding, ring_sellers: Collection[str]) -> bool:
    """Whether a finding is a seller's claim-abuse evidence while the seller is in a
    seller-buyer collusion ring (an open alert on one of its pairs)."""
    return (
        f.pattern == claim_abuse.PATTERN
        and f.entity_type == "seller"
        and (f.entity_id in ring_sellers)
    )


def held(
    f: Finding, weight: float, high: float, ring_sellers: Collection[str] = ()
) -> tuple[Finding, float]:
    """The finding and its weight on a claim: unchanged, or at most MEDIUM and marked held when
    it is a seller's claim-rate evidence short of `high` (a log Bayes factor), or any claim-
    abuse evidence of a seller in a collusion ring (`ring_sellers`): the claims the ring made
    are what lifts its record, they are HIGH on the ring's own alert, and the seller's claims
    with other buyers carry nothing of their own."""
    if weight < _HIGH_FLOOR:
        return f, weight
    if not in_ring(f, ring_sellers) and not short_of_high(
        f.pattern, f.entity_type, f.numbers, high
    ):
        return f, weight
    capped = min(weight, BELOW_HIGH)
    numbers = f.numbers | {HELD: round(high, 3)}
    return replace(f, contribution=min(f.contribution, capped), numbers=numbers), capped


def is_held(numbers: Mapping[str, object]) -> bool:
    """Whether a claim's reason is a seller's claim-rate evidence held at MEDIUM (`held`)."""
    return HELD in numbers


def kept_below_high(score: float, reasons: Sequence[ReasonCode]) -> float:
    """A claim's combined score, held at MEDIUM when it carries a held reason and no other
    piece of direct evidence HIGH on its own: as at first assessment (`service.corroborated`),
    weak findings beside it (a claim filed as the window closes, the seller's rate test short
    of its own HIGH, a pair's claims) add up to MEDIUM at most, and risk carried from other
    entities never corroborates."""
    if score < _HIGH_FLOOR or not any(is_held(r.numbers) for r in reasons):
        return score
    if any(
        r.contribution >= _HIGH_FLOOR
        for r in reasons
        if not is_held(r.numbers) and not r.code.endswith("_RISK_ELEVATED")
    ):
        return score
    return BELOW_HIGH
