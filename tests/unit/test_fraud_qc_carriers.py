"""A hub's QC-contradiction excess carried by one or two of its agents is theirs
(`qc_contradiction.agents_carrying_hub`, `carried_by_agents`): the agents are named, take the
hub's finding and alert, and the hub is held at MEDIUM; a hub whose excess is spread over its
agents, or lies in passes naming no agent, keeps it."""

from __future__ import annotations

import math

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.detectors.stats import PeerSpread
from tests.support.fraud_qc_findings import S, h07_carriers, h07_hub_findings

TELLING = math.log(1 / S.alpha_medium)


def test_two_planted_agents_of_an_honest_hub_carry_it() -> None:
    # Development world 101's H-s101-07 when it was alerted (docs, "QC contradictions: honest
    # hubs alerted for their planted agents"): 8 contradicting buyers in 33 passes against hubs
    # at 2.35 %, its two named agents, both planted, at 3 of 9 and 3 of 10, neither telling
    # against the agents' rate; the other 2 of 14 passes name no agent.
    carriers = h07_carriers()
    assert set(carriers.agents) == {"AG-0701", "AG-0702"}
    assert carriers.hub.log_bf >= math.log(1 / S.alpha)
    assert carriers.rest.log_bf < TELLING


def test_the_alert_goes_to_the_carriers_and_the_hub_is_held() -> None:
    hub_found = h07_hub_findings()
    assert hub_found[0].alert
    held, agents = qc.carried_by_agents(hub_found, "H-07", h07_carriers())
    assert not any(f.alert for f in held) and all(f.contribution < 0.8 for f in held)
    assert held[0].numbers["carried_by"] == "AG-0701,AG-0702"
    assert {f.entity_id for f in agents} == {"AG-0701", "AG-0702"}
    for f in agents:
        assert f.alert and f.contribution >= 0.8
        assert (f.pattern, f.entity_type, f.code) == (
            "QC_CONTRADICTION_AGENT",
            "agent",
            qc.AGENT_AT_HUB,
        )
        assert f.numbers["hub_id"] == "H-07"


def test_a_planted_agent_beside_honest_mates_is_named_alone() -> None:
    # Wide world 5001's H-s5001-06: AG-0604 (planted) 8 of 50 and AG-0602 (planted) 4 of 23,
    # the honest AG-0601 4 of 29 and AG-0603 1 of 9, against hubs at 4.79 %. The two planted
    # agents carry the hub; the honest ones are not named.
    spread = PeerSpread(0.0479, 1000.0)
    parts = {"AG-0601": (4, 29), "AG-0602": (4, 23), "AG-0603": (1, 9), "AG-0604": (8, 50)}
    carriers = qc.agents_carrying_hub(17, 111, parts, spread, S)
    assert carriers is not None
    assert set(carriers.agents) == {"AG-0604", "AG-0602"}
    # One cheating agent among honest ones: named alone.
    honest = {"AG-a": (1, 30), "AG-b": (0, 25), "AG-p": (7, 25)}
    one = qc.agents_carrying_hub(8, 80, honest, PeerSpread(0.02, 1000.0), S)
    assert one is not None and set(one.agents) == {"AG-p"}


def test_an_excess_spread_over_its_agents_stays_the_hubs() -> None:
    # Four agents alike at about 4x the hubs' rate: two left out leave it telling.
    spread = PeerSpread(0.0235, 1000.0)
    parts = {f"AG-{i}": (4, 40) for i in range(4)}
    assert qc.agents_carrying_hub(16, 160, parts, spread, S) is None
    # Two high agents whose named mates lean high too (3 of 20, with one contradiction fewer
    # a Bayes factor above 3.5): the hub's, though the two alone would carry it.
    assert qc.agents_carrying_hub(8, 24, {"AG-x": (4, 12), "AG-y": (4, 12)}, spread, S) is not None
    mates = {"AG-x": (4, 12), "AG-y": (4, 12), "AG-m1": (2, 10), "AG-m2": (1, 10)}
    assert qc.agents_carrying_hub(11, 44, mates, spread, S) is None


def test_passes_naming_no_agent_and_a_quiet_hub_stay_the_hubs() -> None:
    spread = PeerSpread(0.0235, 1000.0)
    # The excess lies in the 9 of 20 passes naming no agent: no part to leave out.
    assert qc.agents_carrying_hub(10, 60, {"AG-a": (1, 20), "AG-b": (0, 20)}, spread, S) is None
    # A hub that does not tell has nothing to attribute.
    assert qc.agents_carrying_hub(2, 60, {"AG-a": (2, 30), "AG-b": (0, 30)}, spread, S) is None
    # A carrier that does not lean on its own (2 of 25): the hub without it no longer tells
    # (its other 2 of 5 passes name no agent), yet it is no cheating agent.
    assert qc.agents_carrying_hub(4, 30, {"AG-a": (2, 25)}, spread, S) is None


def test_a_carrier_takes_its_share_of_the_passes_naming_no_agent() -> None:
    # H-s101-07 on 2026-02-05, after AG-0701 explained it and left: 7 of 43 against hubs at
    # 1.67 %, AG-0702 3 of 14, the other 4 of 29 passes naming no agent (the planted agents'
    # passes with the agent left off). Kept whole, those read as the hub's excess and alerted
    # it; shared out as the named passes are, they go with the agent that holds them.
    spread = PeerSpread(0.0167, 1000.0)
    carriers = qc.agents_carrying_hub(7, 43, {"AG-0702": (3, 14)}, spread, S)
    assert carriers is not None and set(carriers.agents) == {"AG-0702"}
    assert qc.with_unnamed_share((3, 14), (7, 43), (3, 14)) == (7, 43)
    # Two agents: each takes the unnamed passes as its share of the named passes, and their
    # contradictions as its share of the named contradictions, never less.
    assert qc.with_unnamed_share((3, 10), (10, 40), (4, 20)) == (3 + 4, 10 + 10)
    assert qc.with_unnamed_share((1, 10), (10, 40), (4, 20)) == (1 + 3, 10 + 10)
    # Ordinary named agents beside an excess in the unnamed passes do not lean: no carrier.
    assert qc.agents_carrying_hub(11, 100, {"AG-a": (1, 40), "AG-b": (0, 40)}, spread, S) is None
