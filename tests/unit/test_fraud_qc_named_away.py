"""A QC entity's contradicting buyer leaves its counts (and its peers') once named away from it
twice, or under a wrong/used alert (`qc_contradiction.named_elsewhere`), no longer on one
naming away: where claims are common one naming away is what an ordinary buyer gets, and
leaving all of those out threw away a third of every agent's evidence, the careless agent's
most of all (its own pickups without QC and its unnamed passes count as away from it)."""

from __future__ import annotations

import math

import numpy as np

from services.fraud.detectors.qc_contradiction import (
    NAMED_AWAY_AT_LEAST,
    named_elsewhere,
    one_per_buyer,
)
from services.fraud.detectors.stats import robust_baseline, sequential_test
from services.fraud.scoring.base import default_config

CONFIG = default_config()
ALERT = math.log(1 / CONFIG.sequential.alpha)


def test_a_buyer_named_once_away_stays_twice_away_leaves() -> None:
    # (entity, buyer, named on the entity's passes, named everywhere)
    contradicting = [
        ("AG-1", "B-once", 1, 2),  # once away: an ordinary buyer where claims are common
        ("AG-1", "B-twice", 1, 3),
        ("AG-1", "B-here", 2, 2),  # named only on this agent's passes: its own victim
        ("AG-2", "B-once", 1, 2),
        ("AG-2", "B-alerted", 1, 1),
    ]
    assert NAMED_AWAY_AT_LEAST == 2
    out = named_elsewhere(contradicting, alerted={"B-alerted"})
    assert out == {"AG-1": 1, "AG-2": 1}
    # The rule as it stood (one naming away) would have taken B-once from both.
    assert named_elsewhere(contradicting, {"B-alerted"}, at_least=1) == {"AG-1": 2, "AG-2": 2}


def _marketplace(
    rng: np.random.Generator, *, agents: int = 20, passes: int = 300, ratio: float = 3.0
) -> tuple[list[tuple[str, str, int, int]], dict[str, dict[str, int]]]:
    """Agents passing `passes` parcels each, AG-0 careless (`ratio` times the others' 3 %), each
    contradicting buyer with seven returns away from the agent, each named one time in twenty
    (wrong, used or missing items claimed on 5 % of returns); and ten buyers abusing on their
    own, each through four agents, named on 60 % of eight returns."""
    contradicting: list[tuple[str, str, int, int]] = []
    totals: dict[str, dict[str, int]] = {}
    for i in range(agents + 1):
        agent = f"AG-{i}"
        k = int(rng.binomial(passes, 0.03 * (ratio if i == 0 else 1.0)))
        totals[agent] = {"qc_contradictions": k, "qc_passed": passes}
        contradicting += [
            (agent, f"B-{i}-{b}", 1, 1 + int(rng.binomial(7, 0.05))) for b in range(k)
        ]
    for b in range(10):
        named = 1 + int(rng.binomial(7, 0.6))
        for i in rng.choice(agents + 1, size=4, replace=False):
            totals[f"AG-{i}"]["qc_contradictions"] += 1
            totals[f"AG-{i}"]["qc_passed"] += 1
            contradicting.append((f"AG-{i}", f"B-abusing-{b}", 1, named))
    return contradicting, totals


def _factors(
    contradicting: list[tuple[str, str, int, int]],
    totals: dict[str, dict[str, int]],
    at_least: int,
) -> dict[str, float]:
    """Every agent's sequential log Bayes factor, the rule applied to it and its peers alike."""
    out = named_elsewhere(contradicting, at_least=at_least)
    counts = {a: one_per_buyer(v, 0, out.get(a, 0)) for a, v in totals.items()}
    factors = {}
    for a, v in counts.items():
        peers = [(w["qc_contradictions"], w["qc_passed"]) for b, w in counts.items() if b != a]
        base = robust_baseline(peers, CONFIG.thresholds, prior_rate=0.03, leave_out=True)
        factors[a] = sequential_test(
            v["qc_contradictions"], v["qc_passed"], base.spread, CONFIG.sequential
        ).log_bf
    return factors


def test_where_claims_are_common_a_careless_agent_keeps_its_evidence() -> None:
    rng = np.random.default_rng(20261205)
    draws = 150
    found = {1: 0, NAMED_AWAY_AT_LEAST: 0}
    honest_alerts = {1: 0, NAMED_AWAY_AT_LEAST: 0}
    abusing_left = 0
    for _ in range(draws):
        contradicting, totals = _marketplace(rng)
        abusing = [c for c in contradicting if c[1].startswith("B-abusing")]
        abusing_left += sum(c[3] - c[2] >= NAMED_AWAY_AT_LEAST for c in abusing) / len(abusing)
        for at_least in found:
            factors = _factors(contradicting, totals, at_least)
            found[at_least] += factors["AG-0"] >= ALERT
            honest_alerts[at_least] += sum(f >= ALERT for a, f in factors.items() if a != "AG-0")
    # The careless agent at 3x over 300 passes: found far more often with the rule at two
    # (89 against 60 of these 150 draws).
    assert found[NAMED_AWAY_AT_LEAST] / draws >= 0.55
    assert found[NAMED_AWAY_AT_LEAST] - found[1] >= 0.15 * draws
    # The buyers abusing on their own still leave nearly always; honest agents stay unalerted
    # (the stated 0.5 %, with room for the draw).
    assert abusing_left / draws >= 0.95
    assert honest_alerts[NAMED_AWAY_AT_LEAST] <= 0.005 * 20 * draws
