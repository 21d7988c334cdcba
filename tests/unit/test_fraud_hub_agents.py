"""Hubs and their agents: an agent judged against its hub-mates (a pilfering hub does not widen
the agents' honest spread, nor make its agents look like pilferers), and a hub alert only when
its excess is not one agent's."""

from __future__ import annotations

import math
import random

from services.fraud.detectors import pilferage
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import held_by_one_part, without_worst_part
from services.fraud.detectors.stats import (
    PeerSpread,
    Thresholds,
    robust_baseline,
    sequential_test,
)
from services.fraud.scoring.base import default_config

# The configured test (FRAUD_SEQ_ALPHA and the rest), as scoring runs it.
S = default_config().sequential
T = Thresholds()
ALERT_AT = math.log(1 / S.alpha)
MEDIUM_AT = math.log(1 / S.alpha_medium)


def _network(
    rng: random.Random,
    *,
    hubs: int,
    agents_per_hub: int,
    parcels: int,
    base: float,
    hub_ratio: dict[int, float],
    agent_ratio: dict[tuple[int, int], float],
) -> tuple[dict[str, pilferage.DayCount], dict[str, dict[str, pilferage.DayCount]]]:
    """Each agent picks up at one hub; a pilfering hub multiplies every one of its agents'
    incident rate, a pilfering agent its own."""
    agents: dict[str, pilferage.DayCount] = {}
    at_hubs: dict[str, dict[str, pilferage.DayCount]] = {}
    for h in range(hubs):
        at_hubs[f"H{h}"] = {}
        for a in range(agents_per_hub):
            n = max(20, int(parcels * rng.lognormvariate(0, 0.5)))
            rate = base * hub_ratio.get(h, 1.0) * agent_ratio.get((h, a), 1.0)
            k = sum(rng.random() < rate for _ in range(n))
            agents[f"A{h}.{a}"] = at_hubs[f"H{h}"][f"A{h}.{a}"] = pilferage.DayCount(n, k)
    return agents, at_hubs


def _spread(counts: dict[str, tuple[int, int]]) -> PeerSpread:
    spread = robust_baseline(list(counts.values()), T, prior_rate=pilferage.PRIOR_RATE).spread
    assert spread is not None
    return spread


def test_a_pilfering_hub_does_not_make_its_agents_look_like_pilferers() -> None:
    # Two of eight hubs pilfer (3x): every agent there runs at 3x all agents. Against all
    # agents' raw rates they would stand out; against their hub-mates they are ordinary.
    rng = random.Random(3)
    agents, at_hubs = _network(
        rng,
        hubs=8,
        agents_per_hub=3,
        parcels=400,
        base=0.02,
        hub_ratio={0: 3.0, 1: 3.0},
        agent_ratio={},
    )
    std, _ = pilferage.standardised(agents, at_hubs, T)
    spread = _spread(std)
    for a in ("A0.0", "A0.1", "A1.2"):
        k, n = std[a]
        assert sequential_test(k, n, spread, S).log_bf < MEDIUM_AT


def test_honest_spread_of_agents_is_not_widened_by_pilfering_hubs() -> None:
    # Raw agent rates with pilfering hubs among the hubs look unalike (a wide spread, so an
    # agent at 2.5-3x its mates hardly stands out); standardised to their hub-mates the
    # agents are as alike as they are.
    rng = random.Random(5)
    agents, at_hubs = _network(
        rng,
        hubs=8,
        agents_per_hub=3,
        parcels=500,
        base=0.02,
        hub_ratio={0: 3.0, 1: 2.5, 2: 3.5},
        agent_ratio={},
    )
    raw = _spread({a: (c.incidents, c.handled) for a, c in agents.items()})
    std, _ = pilferage.standardised(agents, at_hubs, T)
    assert _spread(std).concentration > 2 * raw.concentration


def test_an_agent_at_three_times_its_hub_mates_is_found_at_a_pilfering_hub_too() -> None:
    # An agent pilfering (3x) at an honest hub, with 700 parcels: found against its mates.
    rng = random.Random(8)
    agents, at_hubs = _network(
        rng,
        hubs=8,
        agents_per_hub=3,
        parcels=500,
        base=0.02,
        hub_ratio={1: 3.0, 2: 2.5},
        agent_ratio={(4, 0): 3.0},
    )
    agents["A4.0"] = at_hubs["H4"]["A4.0"] = pilferage.DayCount(700, 42)
    std, _ = pilferage.standardised(agents, at_hubs, T)
    k, n = std["A4.0"]
    others = {a: c for a, c in std.items() if a != "A4.0"}
    assert sequential_test(k, n, _spread(others), S).log_bf >= ALERT_AT


def test_standardised_agents_keep_the_stated_false_alarm_rate() -> None:
    # Honest agents at hubs whose rates differ (some pilfer), judged against their mates and
    # the standardised spread of the others: fewer than alpha ever reach the alert.
    rng = random.Random(13)
    alarms = tested = 0
    for _ in range(40):
        agents, at_hubs = _network(
            rng,
            hubs=6,
            agents_per_hub=3,
            parcels=400,
            base=0.02,
            hub_ratio={0: 3.0, 1: 2.0},
            agent_ratio={},
        )
        std, _ = pilferage.standardised(agents, at_hubs, T)
        for a, (k, n) in std.items():
            spread = _spread({b: c for b, c in std.items() if b != a})
            tested += 1
            alarms += sequential_test(k, n, spread, S).log_bf >= ALERT_AT
    assert alarms / tested <= S.alpha


def test_an_agent_without_hub_mates_is_judged_against_all_agents() -> None:
    agents = {"A": pilferage.DayCount(300, 6), "B": pilferage.DayCount(300, 6)}
    std, ref = pilferage.standardised(agents, {}, T)
    assert std["A"] == (6, 300)
    assert 0.01 < ref < 0.03


# --- a hub alert that one agent carries -----------------------------------------------------


def test_a_hubs_excess_carried_by_one_agent_does_not_survive_leaving_it_out() -> None:
    spread = PeerSpread(0.02, 1000)
    parts = {"bad": (36, 300), "a": (5, 300), "b": (6, 300)}
    k, n = 47, 900
    assert sequential_test(k, n, spread, S).log_bf >= ALERT_AT
    worst, rest = without_worst_part(k, n, parts, spread, S)
    assert worst == "bad"
    assert rest.log_bf < MEDIUM_AT


def test_a_hubs_excess_spread_over_its_agents_survives_leaving_the_worst_out() -> None:
    spread = PeerSpread(0.02, 1000)
    parts = {"a": (14, 300), "b": (15, 300), "c": (16, 300)}
    worst, rest = without_worst_part(45, 900, parts, spread, S)
    assert worst == "c"
    assert rest.log_bf >= MEDIUM_AT


def test_an_agent_holding_more_than_its_share_of_the_hubs_incidents_carries_its_excess() -> None:
    # One agent with 36 of the hub's 47 incidents on a third of its parcels: the excess is its.
    assert pilferage.one_agents_excess(
        (36, 300), [(5, 300), (6, 300)], 0.5, PeerSpread(0.02, 1000), S, T
    )


def test_a_small_hubs_excess_spread_over_its_agents_is_the_hubs() -> None:
    # Four agents at 4-9 %, the worst no worse than its mates: leaving it out takes a third of
    # a small hub's record (and the test drops below MEDIUM), but the excess is not its own.
    spread = PeerSpread(0.02, 550)
    parts = {"a": (4, 47), "b": (3, 63), "c": (2, 51), "d": (7, 81)}
    worst, rest = without_worst_part(16, 242, parts, spread, S)
    assert worst == "d" and rest.log_bf < MEDIUM_AT
    others = [c for a, c in parts.items() if a != worst]
    assert 0 < rest.log_bf
    assert not pilferage.one_agents_excess(parts[worst], others, rest.log_bf, spread, S, T)


def test_an_agent_holding_most_of_its_hubs_parcels_carries_its_excess() -> None:
    # 7 of 37 incidents, the worst agent with 7 of them on 33 parcels: its mates' 4 parcels
    # hold no incident and lean ordinary, so nothing tells the excess is the hub's.
    spread = PeerSpread(0.017, 1000)
    parts = {"busy": (7, 33), "a": (0, 2), "b": (0, 1), "c": (0, 1)}
    worst, rest = without_worst_part(7, 37, parts, spread, S)
    assert worst == "busy" and rest.log_bf <= 0
    others = [c for a, c in parts.items() if a != worst]
    assert pilferage.one_agents_excess(parts[worst], others, rest.log_bf, spread, S, T)


def test_a_busy_agents_excess_is_its_own_though_a_mate_leans_high() -> None:
    # The hub of a pilfering agent on its third day: 7 incidents in 37 parcels, 6 of them the
    # agent's on 33 parcels; one mate's 1 incident in 2 parcels leans to the alternative
    # (e^1.3 without the agent) and the agent holds no more than its share, but its mates'
    # 4 parcels cannot tell a hub's practice from the agent's.
    spread = PeerSpread(0.017, 1000)
    parts = {"busy": (6, 33), "a": (1, 2), "b": (0, 1), "c": (0, 1)}
    worst, rest = without_worst_part(7, 37, parts, spread, S)
    assert worst == "busy" and rest.log_bf > 0
    others = [c for a, c in parts.items() if a != worst]
    assert pilferage.one_agents_excess(parts[worst], others, rest.log_bf, spread, S, T)


def test_an_agent_alone_at_its_hub_carries_the_hubs_excess() -> None:
    # No mate to compare with: which of the two it is cannot be told, and the agent is weighed.
    spread = PeerSpread(0.02, 1000)
    assert pilferage.one_agents_excess((12, 200), [], 1.0, spread, S, T)
    assert pilferage.one_agents_excess((12, 200), [(0, 0)], 1.0, spread, S, T)


def test_no_agent_is_named_when_leaving_every_one_out_makes_the_evidence_stronger() -> None:
    # Peers read near the floor (thousands of one-parcel hubs): against them a hub at 34 %
    # over four alike agents is nothing the sequential test's alternatives allow, and each
    # agent's leaving out lifts the factor. No agent carries what leaving it out strengthens,
    # so none is named and the hub's rate alert is not held as "carried by one agent".
    spread = PeerSpread(0.0001, 1000)
    parts = {"a": (9, 25), "b": (8, 25), "c": (9, 25), "d": (8, 25)}
    whole = sequential_test(34, 100, spread, S)
    assert all(
        sequential_test(34 - k, 100 - n, spread, S).log_bf > whole.log_bf for k, n in parts.values()
    )
    worst, rest = without_worst_part(34, 100, parts, spread, S)
    assert worst is None
    assert rest == whole
    assert held_by_one_part([_finding(True, 0.95)], "PILFERAGE_HUB", worst, rest, S)[0].alert


def test_the_part_named_is_one_whose_leaving_out_weakens_the_test() -> None:
    # One agent's leaving out weakens the hub's evidence, another's strengthens it: the first
    # is named, never the second.
    spread = PeerSpread(0.02, 1000)
    parts = {"bad": (20, 100), "quiet": (0, 400)}
    whole = sequential_test(26, 900, spread, S)
    worst, rest = without_worst_part(26, 900, parts, spread, S)
    assert worst == "bad"
    assert rest.log_bf < whole.log_bf


def test_a_hub_whose_every_incident_comes_through_one_agent_is_that_agents() -> None:
    # Against peers read near the floor the hub's own factor is far below 1 and leaving its one
    # agent out (nothing left) "strengthens" it to 1: yet nothing is left to alert on, and a
    # rate alert on the hub is held as the agent's.
    spread = PeerSpread(0.0001, 1000)
    whole = sequential_test(12, 60, spread, S)
    assert whole.log_bf < 0
    worst, rest = without_worst_part(12, 60, {"only": (12, 60)}, spread, S)
    assert worst == "only" and rest.k == 0
    [held] = held_by_one_part([_finding(True, 0.95)], "PILFERAGE_HUB", worst, rest, S)
    assert not held.alert and held.numbers["worst_part"] == "only"


def test_an_agent_leaving_too_few_incidents_is_named_before_a_weaker_rest() -> None:
    # Leaving "most" out leaves 3 incidents, on which nothing alerts: it is the part named.
    spread = PeerSpread(0.02, 1000)
    parts = {"most": (17, 60), "some": (3, 60)}
    worst, rest = without_worst_part(20, 120, parts, spread, S)
    assert worst == "most" and rest.k == 3


def test_without_named_parts_the_place_is_judged_whole() -> None:
    # desipost never names the agent: no part to leave out.
    spread = PeerSpread(0.02, 1000)
    worst, rest = without_worst_part(27, 900, {}, spread, S)
    assert worst is None
    assert rest == sequential_test(27, 900, spread, S)


def _finding(alert: bool, contribution: float, pattern: str = "PILFERAGE_HUB") -> Finding:
    return Finding(
        code="HUB_PILFERAGE_SEQUENTIAL",
        detail="incident rate",
        contribution=contribution,
        pattern=pattern,
        entity_type="hub",
        entity_id="H1",
        numbers={"test": "sequential"},
        alert=alert,
    )


def test_an_alert_held_by_one_agent_is_demoted_to_medium() -> None:
    spread = PeerSpread(0.02, 1000)
    rest = sequential_test(9, 600, spread, S)
    [kept] = held_by_one_part([_finding(True, 0.95)], "PILFERAGE_HUB", "bad", rest, S)
    assert not kept.alert
    assert kept.contribution < 0.8
    assert kept.numbers["worst_part"] == "bad"


def test_an_alert_that_survives_keeps_its_strength_and_others_are_untouched() -> None:
    spread = PeerSpread(0.02, 1000)
    rest = sequential_test(30, 600, spread, S)
    other = _finding(True, 0.95, pattern="QC_CONTRADICTION_HUB")
    out = held_by_one_part([_finding(True, 0.95), other], "PILFERAGE_HUB", "c", rest, S)
    assert [f.alert for f in out] == [True, True]
    assert out[0].contribution == 0.95
    assert out[1] is other


# --- agents at careful hubs -----------------------------------------------------------------


def _unalike_hubs(
    rng: random.Random, *, hubs: int, base: float, pilferer: float = 1.0
) -> tuple[dict[str, pilferage.DayCount], dict[str, dict[str, pilferage.DayCount]]]:
    """Honest hubs whose own rates differ 0.6-1.7x (the drawn worlds' range), two to four
    agents each with 80-400 parcels; the first hub is careful (0.6x), and its first agent runs
    at `pilferer` times it."""
    agents: dict[str, pilferage.DayCount] = {}
    at_hubs: dict[str, dict[str, pilferage.DayCount]] = {}
    for h in range(hubs):
        factor = rng.uniform(0.6, 1.7) if h else 0.6
        at_hubs[f"H{h}"] = {}
        for a in range(rng.randint(2, 4)):
            n = rng.randint(80, 400)
            rate = base * factor * (pilferer if h == a == 0 else 1.0)
            k = sum(rng.random() < rate for _ in range(n))
            agents[f"A{h}.{a}"] = at_hubs[f"H{h}"][f"A{h}.{a}"] = pilferage.DayCount(n, k)
    return agents, at_hubs


def _agent_log_bf(std: dict[str, tuple[int, int]], agent: str) -> float:
    k, n = std[agent]
    return sequential_test(k, n, _spread({a: c for a, c in std.items() if a != agent}), S).log_bf


def test_an_agent_pilfering_at_a_careful_hub_is_weighed_against_that_hub() -> None:
    # At 3.5x a hub running at 0.6x an ordinary one, it is 2.1x an ordinary hub's agents:
    # expected to run like an ordinary hub's agents, it was found in 3 of 40 networks; with
    # its mates' record lowering what it is expected to run at (as far as the hubs' spread
    # allows), in 7.
    rng = random.Random(17)
    found = 0
    for _ in range(40):
        agents, at_hubs = _unalike_hubs(rng, hubs=10, base=0.025, pilferer=3.5)
        std, _ = pilferage.standardised(agents, at_hubs, T)
        found += _agent_log_bf(std, "A0.0") >= ALERT_AT
    assert found >= 5


def test_honest_agents_at_careful_and_rough_hubs_keep_the_stated_false_alarm_rate() -> None:
    # A careful hub lowers what its agents are expected to run at: an honest agent next to
    # lucky mates must not be read as a pilferer for it.
    rng = random.Random(19)
    alarms = tested = 0
    for _ in range(40):
        agents, at_hubs = _unalike_hubs(rng, hubs=10, base=0.025)
        std, _ = pilferage.standardised(agents, at_hubs, T)
        for a in std:
            tested += 1
            alarms += _agent_log_bf(std, a) >= ALERT_AT
    assert alarms / tested <= S.alpha
