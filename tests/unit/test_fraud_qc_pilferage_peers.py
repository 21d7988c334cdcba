"""Who a QC agent and a pickup agent are weighed against: peers counted as the entity is (QC
contradictions once per buyer), and an agent's hub-mates taken into account only where the hub
itself runs high (a hub of two agents gives one mate, too few to rescale an agent by)."""

from __future__ import annotations

import math
import random

from services.fraud.detectors import pilferage, qc_contradiction
from services.fraud.detectors.stats import (
    PeerSpread,
    Thresholds,
    robust_baseline,
    sequential_test,
)
from services.fraud.scoring.base import default_config

S = default_config().sequential
T = Thresholds()
ALERT_AT = math.log(1 / S.alpha)


def _spread(counts: list[tuple[int, int]], prior_rate: float) -> PeerSpread:
    spread = robust_baseline(counts, T, prior_rate=prior_rate).spread
    assert spread is not None
    return spread


# --- pilferage: hubs of two agents ----------------------------------------------------------


def _two_agent_hubs(
    rng: random.Random, *, hubs: int, base: float, agent_ratio: dict[str, float]
) -> tuple[dict[str, pilferage.DayCount], dict[str, dict[str, pilferage.DayCount]]]:
    """Honest hubs of two agents, each agent with 80-200 parcels (the drawn worlds' agents)."""
    agents: dict[str, pilferage.DayCount] = {}
    at_hubs: dict[str, dict[str, pilferage.DayCount]] = {}
    for h in range(hubs):
        at_hubs[f"H{h}"] = {}
        for a in range(2):
            name = f"A{h}.{a}"
            n = rng.randint(80, 200)
            rate = base * agent_ratio.get(name, 1.0)
            k = sum(rng.random() < rate for _ in range(n))
            agents[name] = at_hubs[f"H{h}"][name] = pilferage.DayCount(n, k)
    return agents, at_hubs


def test_an_agent_at_an_ordinary_hub_is_measured_like_every_ordinary_hubs_agent() -> None:
    # Its one mate had a lucky month (1 incident in 120): against hubs that run alike that
    # says next to nothing of the hub, and the agent is rescaled almost as the agents of the
    # other, ordinary hubs are, not by its mate (who alone would make it run at 2.6x them).
    agents = {"A": pilferage.DayCount(170, 15), "B": pilferage.DayCount(120, 1)}
    others = {f"X{i}": pilferage.DayCount(150, 3) for i in range(10)}
    at_hubs = {"H": {"A": agents["A"], "B": agents["B"]}} | {
        f"H{i}": {f"X{i}": c} for i, c in others.items()
    }
    std, _ = pilferage.standardised(agents | others, at_hubs, T)
    scale = std["X0"][1] / 150
    assert std["A"][0] == 15
    assert 0.9 * 170 * scale <= std["A"][1] <= 170 * scale + 1


def test_an_agent_at_a_hub_running_high_is_measured_against_its_mates() -> None:
    # The hub pilfers: both mates run at 3x all agents, and so does the agent.
    at_hub = {
        "A": pilferage.DayCount(300, 18),
        "B": pilferage.DayCount(300, 19),
        "C": pilferage.DayCount(300, 17),
    }
    others = {f"X{i}": pilferage.DayCount(300, 6) for i in range(12)}
    at_hubs = {"H": at_hub} | {f"H{i}": {f"X{i}": c} for i, c in others.items()}
    std, ref = pilferage.standardised(at_hub | others, at_hubs, T)
    k, n = std["A"]
    assert k / n < 1.3 * ref


def test_one_mate_does_not_widen_the_agents_honest_spread() -> None:
    # Honest agents two to a hub: rescaled by their one mate's luck, they looked far less alike
    # than they are, and a pilferer was weighed against that wide spread.
    rng = random.Random(21)
    agents, at_hubs = _two_agent_hubs(rng, hubs=10, base=0.02, agent_ratio={})
    raw = _spread([(c.incidents, c.handled) for c in agents.values()], pilferage.PRIOR_RATE)
    std, _ = pilferage.standardised(agents, at_hubs, T)
    assert _spread(list(std.values()), pilferage.PRIOR_RATE).concentration >= (
        0.8 * raw.concentration
    )


def test_a_pilfering_agent_with_one_mate_is_found() -> None:
    # A pilferer at 3.5x with 150 parcels (about 13 incidents), at an honest hub of two among
    # eight such hubs: found in 13 of 30 networks (9 when rescaled by its one mate's luck).
    rng = random.Random(34)
    found = 0
    for _ in range(30):
        agents, at_hubs = _two_agent_hubs(rng, hubs=8, base=0.025, agent_ratio={"A0.0": 3.5})
        agents["A0.0"] = at_hubs["H0"]["A0.0"] = pilferage.DayCount(
            150, sum(rng.random() < 0.0875 for _ in range(150))
        )
        std, _ = pilferage.standardised(agents, at_hubs, T)
        k, n = std["A0.0"]
        others = [c for a, c in std.items() if a != "A0.0"]
        found += sequential_test(k, n, _spread(others, pilferage.PRIOR_RATE), S).log_bf >= (
            ALERT_AT
        )
    assert found >= 12


def test_honest_agents_two_to_a_hub_keep_the_stated_false_alarm_rate() -> None:
    rng = random.Random(55)
    alarms = tested = 0
    for _ in range(40):
        agents, at_hubs = _two_agent_hubs(rng, hubs=8, base=0.02, agent_ratio={})
        std, _ = pilferage.standardised(agents, at_hubs, T)
        for a, (k, n) in std.items():
            others = [c for b, c in std.items() if b != a]
            tested += 1
            alarms += sequential_test(k, n, _spread(others, pilferage.PRIOR_RATE), S).log_bf >= (
                ALERT_AT
            )
    assert alarms / tested <= S.alpha


# --- QC: peers counted once per buyer -------------------------------------------------------


def _qc_population() -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Twelve ordinary agents (one pass in 40 contradicted, each by another buyer) and four
    through whom one buyer each returned six wrong items (the buyer's pattern, or a ring's)."""
    everyone = {f"AG-{i}": {"qc_contradictions": 3, "qc_passed": 120} for i in range(12)}
    repeats: dict[str, int] = {}
    for i in range(4):
        everyone[f"AG-R{i}"] = {"qc_contradictions": 3 + 6, "qc_passed": 120 + 6}
        repeats[f"AG-R{i}"] = 5
    return everyone, repeats


def test_qc_peers_are_counted_once_per_buyer_like_the_agent() -> None:
    everyone, repeats = _qc_population()
    peers = qc_contradiction.per_buyer_population(everyone, repeats)
    assert peers["AG-R0"] == {"qc_contradictions": 4, "qc_passed": 121}
    assert peers["AG-3"] == everyone["AG-3"]


def test_a_qc_agent_at_three_times_is_found_against_peers_counted_per_buyer() -> None:
    # The QC agent passed the wrong items of 16 different buyers in 160 passes (4x the
    # ordinary agents' 1 in 40). Against raw peers, whose rate the repeating buyers lift, it
    # is not found; against peers counted as it is, it is.
    everyone, repeats = _qc_population()
    k, n = 16, 160

    def log_bf(peers: dict[str, dict[str, int]]) -> float:
        spread = _spread(
            [(v["qc_contradictions"], v["qc_passed"]) for v in peers.values()],
            qc_contradiction.PRIOR_RATE,
        )
        return sequential_test(k, n, spread, S).log_bf

    assert log_bf(everyone) < ALERT_AT
    assert log_bf(qc_contradiction.per_buyer_population(everyone, repeats)) >= ALERT_AT


def test_contradictions_of_buyers_under_a_wrong_used_alert_leave_every_qc_entity() -> None:
    # AG-1: five contradictions, two of them one buyer's repeats, two by buyers under a
    # wrong/used alert: each of those leaves with the pass it contradicted, after the repeats.
    # AG-2: one contradiction, and (lifetime pair counts in a shorter window) three alerted
    # buyers: never below nothing.
    everyone = {
        "AG-1": {"qc_contradictions": 5, "qc_passed": 100},
        "AG-2": {"qc_contradictions": 1, "qc_passed": 40},
    }
    peers = qc_contradiction.per_buyer_population(everyone, {"AG-1": 2}, {"AG-1": 2, "AG-2": 3})
    assert peers["AG-1"] == {"qc_contradictions": 1, "qc_passed": 96}
    assert peers["AG-2"] == {"qc_contradictions": 0, "qc_passed": 39}


# --- pilferage: hubs weighed against hubs counted as they are --------------------------------


def _hubs_with_pilfering_agents(
    rng: random.Random,
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, pilferage.DayCount]]]:
    """Ten hubs of three agents (base rate 2 %); four of them carry one agent pilfering at 5x."""
    totals: dict[str, dict[str, int]] = {}
    at_hubs: dict[str, dict[str, pilferage.DayCount]] = {}
    for h in range(10):
        at_hubs[f"H{h}"] = {}
        for a in range(3):
            n = rng.randint(120, 200)
            rate = 0.02 * (5.0 if a == 0 and h < 4 else 1.0)
            k = sum(rng.random() < rate for _ in range(n))
            at_hubs[f"H{h}"][f"A{h}.{a}"] = pilferage.DayCount(n, k)
        totals[f"H{h}"] = {
            "handled": sum(c.handled for c in at_hubs[f"H{h}"].values()),
            "incidents": sum(c.incidents for c in at_hubs[f"H{h}"].values()),
        }
    return totals, at_hubs


def test_hub_peers_leave_out_the_agents_explaining_them() -> None:
    totals = {"H1": {"handled": 500, "incidents": 30}, "DESI": {"handled": 300, "incidents": 6}}
    at_hubs = {
        "H1": {"bad": pilferage.DayCount(150, 20), "ok": pilferage.DayCount(350, 10)},
        "DESI": {},
    }
    peers = pilferage.hubs_without_explaining(totals, at_hubs, lambda hub: {"bad"})
    assert peers == {
        "H1": {"handled": 350, "incidents": 10},
        "DESI": {"handled": 300, "incidents": 6},
    }


def test_a_pilfering_hub_stands_out_against_hubs_counted_without_their_pilfering_agents() -> None:
    # A hub pilfering at 3.5x (1,500 parcels) among ten hubs, four of them carrying a pilfering
    # agent: against the raw hubs it hardly stands out, against the hubs without the agents
    # that explain them it does.
    rng = random.Random(89)
    totals, at_hubs = _hubs_with_pilfering_agents(rng)
    k, n = sum(rng.random() < 0.07 for _ in range(1500)), 1500

    def explaining(hub: str) -> set[str]:
        return pilferage.agents_standing_out(at_hubs[hub], T)

    def log_bf(hubs: dict[str, dict[str, int]]) -> float:
        spread = _spread(
            [(v["incidents"], v["handled"]) for v in hubs.values()], pilferage.PRIOR_RATE
        )
        return sequential_test(k, n, spread, S).log_bf

    assert log_bf(totals) < ALERT_AT
    assert log_bf(pilferage.hubs_without_explaining(totals, at_hubs, explaining)) >= ALERT_AT
