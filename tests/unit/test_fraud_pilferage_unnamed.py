"""A hub whose agents mostly go unnamed (rapidroute's parcels may name no agent): an agent that
explains the hub, or carries its excess, leaves the hub's record with its share of the parcels
naming no agent, not just the parcels that name it (`pilferage.with_unnamed_share`)."""

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
HONEST = PeerSpread(0.02, 1000)


def _hub(
    rng: random.Random, rates: dict[str, float], parcels: dict[str, int], named_share: float
) -> tuple[DayCount, dict[str, DayCount]]:
    """A hub's whole record and its agents' records on the parcels that name them: each parcel
    names its agent with the same chance, whoever the agent."""
    hub_n = hub_k = 0
    named: dict[str, DayCount] = {}
    for agent, n in parcels.items():
        k_named = n_named = 0
        for _ in range(n):
            incident = rng.random() < rates[agent]
            hub_n, hub_k = hub_n + 1, hub_k + incident
            if rng.random() < named_share:
                n_named, k_named = n_named + 1, k_named + incident
        named[agent] = DayCount(n_named, k_named)
    return DayCount(hub_n, hub_k), named


def _less(hub: DayCount, part: DayCount) -> tuple[int, int]:
    return max(hub.incidents - part.incidents, 0), max(hub.handled - part.handled, 0)


def _named(agents: dict[str, DayCount]) -> DayCount:
    return DayCount(
        sum(c.handled for c in agents.values()), sum(c.incidents for c in agents.values())
    )


def test_a_hub_naming_every_agent_or_none_keeps_its_parts_as_counted() -> None:
    part, hub = DayCount(120, 9), DayCount(500, 20)
    assert pilferage.with_unnamed_share(part, hub, DayCount(500, 20)) == part
    assert pilferage.with_unnamed_share(part, hub, DayCount(0, 0)) == part
    assert pilferage.with_unnamed_share(DayCount(0, 0), hub, DayCount(200, 12)) == DayCount(0, 0)


def test_an_agent_takes_its_share_of_the_unnamed_parcels_and_incidents() -> None:
    # 200 of the hub's 500 parcels name an agent, 12 of its 20 incidents: the agent with 120
    # of the named parcels and 9 of the named incidents holds 180 of the 300 unnamed parcels
    # and 6 of the 8 unnamed incidents.
    got = pilferage.with_unnamed_share(DayCount(120, 9), DayCount(500, 20), DayCount(200, 12))
    assert got == DayCount(300, 15)
    # No named parcel had an incident: the unnamed incidents go as the parcels do (12 of 20).
    got = pilferage.with_unnamed_share(DayCount(120, 0), DayCount(500, 20), DayCount(200, 0))
    assert got == DayCount(300, 12)


def test_an_ordinary_agent_leaving_never_leaves_the_hub_hotter_than_its_unnamed_parcels() -> None:
    # An agent with 85 of the 100 named parcels but 1 of the 2 named incidents (it explains the
    # hub by its record at other hubs): shared by incidents alone it would take 510 of the 600
    # unnamed parcels and only 11 of the 22 unnamed incidents, and the hub's rest would run at
    # 12 in 105, three times its unnamed parcels' rate. It takes at least its parcels' share.
    hub, named, part = DayCount(700, 24), DayCount(100, 2), DayCount(85, 1)
    got = pilferage.with_unnamed_share(part, hub, named)
    rest_k, rest_n = _less(hub, got)
    unnamed_rate = (hub.incidents - named.incidents) / (hub.handled - named.handled)
    assert rest_n > 0 and rest_k / rest_n <= unnamed_rate + 1 / rest_n


def test_an_honest_hub_left_without_its_unnamed_pilfering_agent_is_ordinary() -> None:
    # An honest hub (2 %) whose busiest agent pilfers at 6x, two parcels in three naming no
    # agent (a drawn world's rapidroute traffic at its most agentless). The agent stands out
    # and leaves the hub's record: with its named parcels only, the rest still carries two
    # thirds of its pilferage and the hub alerts in most draws; with its share of the unnamed
    # ones, in none.
    rng = random.Random(20261205)
    rates = {"bad": 0.12, "a": 0.02, "b": 0.02}
    parcels = {"bad": 600, "a": 450, "b": 450}
    alerted_named_only = alerted_whole = 0
    for _ in range(40):
        hub, named = _hub(rng, rates, parcels, named_share=0.36)
        k, n = _less(hub, named["bad"])
        alerted_named_only += sequential_test(k, n, HONEST, S).log_bf >= ALERT_AT
        whole = pilferage.with_unnamed_share(named["bad"], hub, _named(named))
        k, n = _less(hub, whole)
        alerted_whole += sequential_test(k, n, HONEST, S).log_bf >= ALERT_AT
    assert alerted_named_only >= 25  # 30 of 40
    assert alerted_whole <= 1  # none


def test_a_hubs_excess_one_unnamed_agent_carries_does_not_survive_leaving_it_out() -> None:
    # The same hub before its agent stands out on its named parcels: the hub alerts, and the
    # rule that wants the excess to hold without its worst agent finds the agent only when the
    # agent leaves with its unnamed parcels too.
    hub, named = DayCount(1000, 52), {"bad": DayCount(144, 15), "a": DayCount(108, 2)}
    named |= {"b": DayCount(108, 2)}
    assert sequential_test(hub.incidents, hub.handled, HONEST, S).log_bf >= ALERT_AT
    as_named = {a: (c.incidents, c.handled) for a, c in named.items()}
    worst, rest = without_worst_part(hub.incidents, hub.handled, as_named, HONEST, S)
    assert worst == "bad" and rest.log_bf >= MEDIUM_AT
    whole = {
        a: (w.incidents, w.handled)
        for a, c in named.items()
        for w in [pilferage.with_unnamed_share(c, hub, _named(named))]
    }
    worst, rest = without_worst_part(hub.incidents, hub.handled, whole, HONEST, S)
    assert worst == "bad" and rest.log_bf < MEDIUM_AT


def test_a_hubs_own_practice_survives_its_agents_unnamed_shares() -> None:
    # A hub pilfering on every agent's parcels (3x), agents mostly unnamed: leaving its worst
    # agent out with its unnamed share leaves a record that still tells.
    hub = DayCount(1200, 72)
    named = {"a": DayCount(140, 9), "b": DayCount(150, 8), "c": DayCount(130, 9)}
    whole = {
        a: (w.incidents, w.handled)
        for a, c in named.items()
        for w in [pilferage.with_unnamed_share(c, hub, _named(named))]
    }
    _, rest = without_worst_part(hub.incidents, hub.handled, whole, HONEST, S)
    assert rest.log_bf >= MEDIUM_AT


def test_hub_peers_leave_out_an_explaining_agents_unnamed_share() -> None:
    # H1: 600 parcels, 200 of them naming an agent; the bad agent's 80 named parcels stand for
    # 240 of the hub's, its 10 of the 13 named incidents for 31 of the 40. A desipost hub (no
    # agent named) keeps its counts.
    totals = {"H1": {"handled": 600, "incidents": 40}, "DESI": {"handled": 300, "incidents": 6}}
    at_hubs = {
        "H1": {"bad": DayCount(80, 10), "ok": DayCount(120, 3)},
        "DESI": {},
    }
    peers = pilferage.hubs_without_explaining(totals, at_hubs, lambda hub: {"bad"})
    assert peers == {
        "H1": {"handled": 360, "incidents": 9},
        "DESI": {"handled": 300, "incidents": 6},
    }
