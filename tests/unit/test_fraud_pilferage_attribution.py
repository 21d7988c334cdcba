"""Who pilfers, the hub or one of its agents (`pilferage.hub_likelier`): the two explanations
weighed by their likelihood on the hub's agents' records, not by which test crossed first.

Class D: one busy agent holding most of its hub's parcels, the hub pilfering on all of them; the
one-agent rule held the hub's alert whenever its mates had fewer parcels than that agent, so the
hub was never alerted. Class B: a pilfering hub whose incidents fell on one agent; that agent,
telling, took its parcels out of the hub's record and alerted in its place."""

from __future__ import annotations

import math
import random

from services.fraud.detectors import pilferage
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.pilferage import HUB_LIKELIER_AT, DayCount
from services.fraud.detectors.sequential import without_worst_part
from services.fraud.detectors.stats import PeerSpread, Thresholds, sequential_test
from services.fraud.scoring.base import default_config
from services.fraud.scoring.pilferage import held_by_likelier_hub

S = default_config().sequential
ALERT_AT = math.log(1 / S.alpha)
MEDIUM_AT = math.log(1 / S.alpha_medium)
SPREAD = PeerSpread(0.02, 600)
T = Thresholds()


def _draw(
    rng: random.Random, rates: dict[str, float], parcels: dict[str, int]
) -> dict[str, tuple[int, int]]:
    return {a: (sum(rng.random() < rates[a] for _ in range(n)), n) for a, n in parcels.items()}


def _one_agent_rule(rates: dict[str, float], parcels: dict[str, int]) -> tuple[int, int]:
    """Of 300 draws of a hub's agents' records, those where the hub's own test alerts but its
    worst agent carries it (the rest below MEDIUM, so the one-agent rule decides), and of
    those, the ones where the hub keeps its alert."""
    rng = random.Random(20261205)
    decided = kept = 0
    for _ in range(300):
        parts = _draw(rng, rates, parcels)
        k = sum(c for c, _ in parts.values())
        n = sum(h for _, h in parts.values())
        if sequential_test(k, n, SPREAD, S).log_bf < ALERT_AT:
            continue
        worst, rest = without_worst_part(k, n, parts, SPREAD, S)
        if worst is None or rest.log_bf >= MEDIUM_AT:
            continue
        decided += 1
        kept += pilferage.hub_likelier(parts, {worst}, SPREAD.rate) > HUB_LIKELIER_AT
    return decided, kept


BUSY = {"busy": 324, "a": 72, "b": 54}  # one agent with 72 % of the hub's parcels


def test_class_d_a_hub_pilfering_on_its_busy_agents_parcels_keeps_its_alert() -> None:
    # The hub at 3.5x on every parcel: its two small agents run as high as the busy one. The
    # rule before held every such alert (the mates handled fewer parcels than the agent).
    decided, kept = _one_agent_rule({"busy": 0.07, "a": 0.07, "b": 0.07}, BUSY)
    assert decided >= 50
    assert kept >= 0.4 * decided


def test_class_d_an_honest_hub_of_a_busy_pilfering_agent_stays_held() -> None:
    # The busy agent pilfers at 3.5x, its mates run like any hub's: the hub's alert is its.
    decided, kept = _one_agent_rule({"busy": 0.07, "a": 0.02, "b": 0.02}, BUSY)
    assert decided >= 50
    assert kept <= 0.02 * decided


def test_one_incident_in_a_few_parcels_does_not_make_a_hubs_practice() -> None:
    # The busy agent's 6 incidents in 33 parcels and one in its mates' 2: on that one incident
    # alone the hub would be likelier; the rest is weighed with one incident fewer.
    parts = {"busy": (6, 33), "a": (1, 2), "b": (0, 1), "c": (0, 1)}
    assert pilferage.hub_likelier(parts, {"busy"}, 0.017) <= HUB_LIKELIER_AT
    # Its mates at the busy agent's rate on many parcels: the hub's.
    parts = {"busy": (15, 211), "a": (9, 120)}
    assert pilferage.hub_likelier(parts, {"busy"}, 0.02) > HUB_LIKELIER_AT


def _alert(agent: str) -> Finding:
    return Finding(
        code="AGENT_PILFERAGE_SEQUENTIAL",
        detail="incident rate",
        contribution=0.95,
        pattern="PILFERAGE_AGENT",
        entity_type="agent",
        entity_id=agent,
        numbers={},
        alert=True,
    )


def test_class_b_an_agent_whose_mates_run_as_high_is_held_for_its_hub() -> None:
    # A pilfering hub (3.5x an ordinary hub's 2 %) whose incidents fell most on AG1: 12 in 144
    # against its mates' 17 in 230. AG1 tells against the agents measured against their mates,
    # and alerted; but its mates run far above an ordinary hub too, and the hub pilfering on
    # every parcel is the likelier: AG1's alert is held and AG1 does not explain the hub away.
    at_hub = {"H1": {"AG1": DayCount(144, 12), "AG2": DayCount(120, 9), "AG3": DayCount(110, 8)}}
    [held] = held_by_likelier_hub(
        [_alert("AG1")], "PILFERAGE_AGENT", "AG1", at_hub, lambda hub: {"AG1"}, 0.02
    )
    assert not held.alert and held.contribution < 0.8
    assert held.numbers["likelier_hub"] == "H1"


def test_a_pilfering_agent_at_an_honest_hub_keeps_its_alert() -> None:
    # AG1 at 3.5x, its mates like any hub's agents: its own.
    at_hub = {"H1": {"AG1": DayCount(144, 10), "AG2": DayCount(120, 2), "AG3": DayCount(110, 3)}}
    [kept] = held_by_likelier_hub(
        [_alert("AG1")], "PILFERAGE_AGENT", "AG1", at_hub, lambda hub: {"AG1"}, 0.02
    )
    assert kept.alert
    # Two pilfering agents at one honest hub: each is weighed with the other accused, not with
    # the other's incidents lifting the "ordinary" rest.
    at_hub = {"H1": {"AG1": DayCount(144, 10), "AG2": DayCount(120, 9), "AG3": DayCount(110, 2)}}
    [kept] = held_by_likelier_hub(
        [_alert("AG1")], "PILFERAGE_AGENT", "AG1", at_hub, lambda hub: {"AG1", "AG2"}, 0.02
    )
    assert kept.alert


def test_class_b_a_pilfering_hubs_agents_do_not_explain_it_away_once_they_all_run_high() -> None:
    # Over many draws of a hub pilfering at 3.5x on three agents' parcels, the hub is the
    # likelier than its first agent alone in nearly all (so that agent, telling or not, leaves
    # the hub its record); a pilfering agent at an honest hub is taken for its hub rarely (6 of
    # 200 here, whose mates ran high by luck: held until the record tells them apart).
    rng = random.Random(5)
    parcels = {"a": 150, "b": 150, "c": 150}
    hub_kept = agent_kept = 0
    for _ in range(200):
        parts = _draw(rng, {"a": 0.07, "b": 0.07, "c": 0.07}, parcels)
        hub_kept += pilferage.hub_likelier(parts, {"a"}, 0.02) > HUB_LIKELIER_AT
        parts = _draw(rng, {"a": 0.07, "b": 0.02, "c": 0.02}, parcels)
        agent_kept += pilferage.hub_likelier(parts, {"a"}, 0.02) > HUB_LIKELIER_AT
    assert hub_kept >= 180
    assert agent_kept <= 10


def test_class_b_a_telling_agent_whose_mates_run_as_high_leaves_the_hub_its_record() -> None:
    # The hub pilfers at 3.5x and AG1, with 12 of its incidents on 144 parcels, tells first.
    # Before, a telling agent explained its hub whatever its mates ran at, and its parcels left
    # the hub's record; its mates' 17 in 230 say the hub is the likelier, and the hub keeps them.
    agents = {"AG1": DayCount(144, 12), "AG2": DayCount(120, 9), "AG3": DayCount(110, 8)}
    assert pilferage.explaining_agents(agents, {"AG1"}, 0.02, T) == set()
    # A pilfering agent at an honest hub still explains it (and its own mates stay ordinary).
    agents = {"AG1": DayCount(144, 12), "AG2": DayCount(120, 3), "AG3": DayCount(110, 2)}
    assert pilferage.explaining_agents(agents, {"AG1"}, 0.02, T) == {"AG1"}
