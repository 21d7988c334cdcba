"""A hub pilfering on the parcels of a busy agent (one that handled more parcels than its mates
together): the one-agent rule (`pilferage.one_agents_excess`) keeps the hub's alert when the
other agents' own parcels show the excess too, and holds it when they run ordinary (the
agent's own practice)."""

from __future__ import annotations

import math
import random

from services.fraud.detectors import pilferage
from services.fraud.detectors.pilferage import DayCount
from services.fraud.detectors.sequential import without_worst_part
from services.fraud.detectors.stats import PeerSpread, Thresholds, sequential_test
from services.fraud.scoring.base import default_config

S = default_config().sequential
T = Thresholds()
ALERT_AT = math.log(1 / S.alpha)
MEDIUM_AT = math.log(1 / S.alpha_medium)
HONEST = PeerSpread(0.02, 600)
# A busy agent with 72 % of its hub's parcels and two mates (the sizes of the hubs where the
# rule held a pilfering hub: H-s112-02, 211 of 297 parcels on one agent).
BUSY = {"busy": 324, "a": 72, "b": 54}


def _held(parts: dict[str, tuple[int, int]], spread: PeerSpread) -> bool | None:
    """Whether the one-agent rule holds a hub alert of these agents' records, as scoring
    decides it (None: no alert, or one that survives leaving the worst agent out)."""
    k = sum(c for c, _ in parts.values())
    n = sum(h for _, h in parts.values())
    if sequential_test(k, n, spread, S).log_bf < ALERT_AT:
        return None
    worst, rest = without_worst_part(k, n, parts, spread, S)
    if worst is None or rest.log_bf >= MEDIUM_AT:
        return None
    others = [c for a, c in parts.items() if a != worst]
    return pilferage.one_agents_excess(parts[worst], others, rest.log_bf, spread, S, T)


def _draws(
    rates: dict[str, float], scale: float, named: float, draws: int, seed: int
) -> tuple[int, int]:
    """Hubs drawn at these agents' rates: (draws the rule decides, hub alerts it keeps). Each
    parcel names its agent with the chance `named`; the agents leave the hub with their share
    of the unnamed parcels, as scoring counts them."""
    rng = random.Random(seed)
    decided = kept = 0
    for _ in range(draws):
        k = n = 0
        parts = {a: [0, 0] for a in BUSY}
        for agent, size in BUSY.items():
            for _ in range(round(size * scale)):
                hit = rng.random() < rates[agent]
                k, n = k + hit, n + 1
                if rng.random() < named:
                    parts[agent][0] += hit
                    parts[agent][1] += 1
        if sequential_test(k, n, HONEST, S).log_bf < ALERT_AT:
            continue
        named_total = DayCount(sum(h for _, h in parts.values()), sum(c for c, _ in parts.values()))
        whole = {
            a: pilferage.with_unnamed_share(DayCount(h, c), DayCount(n, k), named_total)
            for a, (c, h) in parts.items()
        }
        worst, rest = without_worst_part(
            k, n, {a: (c.incidents, c.handled) for a, c in whole.items()}, HONEST, S
        )
        if worst is None or rest.log_bf >= MEDIUM_AT:
            continue
        decided += 1
        others = [(c, h) for a, (c, h) in parts.items() if a != worst]
        c_w, h_w = parts[worst]
        kept += not pilferage.one_agents_excess((c_w, h_w), others, rest.log_bf, HONEST, S, T)
    return decided, kept


def test_a_hub_pilfering_on_a_busy_agents_parcels_keeps_its_alert() -> None:
    # 30 incidents in 430 parcels (e^7.4): 22 in the busy agent's 300, 8 in its mates' 130 —
    # the mates run as high as the agent. Without the agent the rest is short of MEDIUM, but
    # the mates' own parcels, one incident fewer, still favour the alternative e^1.8, and the
    # agent holds no more than its share. Held by the rule before (its mates handled fewer
    # parcels than it), so the hub never alerted.
    parts = {"busy": (22, 300), "a": (4, 70), "b": (4, 60)}
    assert sequential_test(30, 430, HONEST, S).log_bf >= ALERT_AT
    worst, rest = without_worst_part(30, 430, parts, HONEST, S)
    assert worst == "busy" and 0 < rest.log_bf < MEDIUM_AT
    assert _held(parts, HONEST) is False


def test_a_busy_agent_pilfering_at_an_ordinary_hub_holds_the_hubs_alert() -> None:
    # The same hub record, but the excess on the agent's parcels alone: its mates run ordinary
    # (3 in 130 against 2 %), so the agent carries it.
    assert _held({"busy": (26, 300), "a": (2, 70), "b": (1, 60)}, HONEST) is True
    # One incident in a mate's few parcels is no practice: with one fewer the mates lean
    # ordinary, and the agent carries it still.
    assert _held({"busy": (7, 33), "a": (1, 2), "b": (0, 1)}, PeerSpread(0.017, 1000)) is True


def test_simulated_pilfering_hubs_keep_their_alert_and_honest_hubs_seldom_do() -> None:
    # Hubs of 270-450 parcels, a busy agent holding 72 % of them, every parcel named; the
    # draws where the hub's own test alerts and its worst agent carries it. A hub pilfering at
    # 3.5x on every agent's parcels was held in every one by the rule before.
    pilfering = honest_kept = honest_decided = 0
    decided_pilfering = 0
    for scale, seed in ((0.6, 1), (1.0, 2)):
        d, k = _draws({"busy": 0.07, "a": 0.07, "b": 0.07}, scale, 1.0, 200, seed)
        decided_pilfering, pilfering = decided_pilfering + d, pilfering + k
        for busy in (0.07, 0.10):
            d, k = _draws({"busy": busy, "a": 0.02, "b": 0.02}, scale, 1.0, 200, seed)
            honest_decided, honest_kept = honest_decided + d, honest_kept + k
    assert decided_pilfering >= 50 and pilfering >= decided_pilfering / 5
    assert honest_decided >= 200 and honest_kept <= honest_decided / 100


def test_an_honest_hub_naming_few_parcels_seldom_keeps_a_busy_agents_excess() -> None:
    # 28 % of parcels named (rapidroute): the mates' named parcels are few, and the unnamed
    # remainder, shared by estimate, is not read as theirs.
    decided = kept = 0
    for scale, seed in ((0.6, 3), (1.0, 4)):
        for busy in (0.07, 0.10):
            d, k = _draws({"busy": busy, "a": 0.02, "b": 0.02}, scale, 0.28, 200, seed)
            decided, kept = decided + d, kept + k
    assert decided >= 200 and kept <= decided / 50
