"""A claim on a QC pass naming no agent at a hub whose excess one or two of its agents carry
(`qc_contradiction.carriers_share`, `unnamed_pass`): it takes the carriers' HIGH only where
they hold most of the hub's named contradictions, less where they hold less, and counts once
however many carriers say it."""

from __future__ import annotations

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.detectors.findings import Finding
from services.fraud.scoring.base import default_config
from tests.support.fraud_qc_findings import h07_carriers, h07_hub_findings


def carriers_of_h07(named_contradictions: int | None) -> list[Finding]:
    """H-s101-07's carriers' findings, told that the hub's named passes hold
    `named_contradictions` (None: scoring kept no count, as with the reach off)."""
    _, agents = qc.carried_by_agents(
        h07_hub_findings(), "H-07", h07_carriers(), named_contradictions
    )
    return agents


def test_carriers_holding_every_named_contradiction_lift_an_unnamed_pass_to_high() -> None:
    agents = carriers_of_h07(6)
    assert all(f.numbers[qc.CARRIERS_SHARE] == 1.0 for f in agents)
    said = [qc.unnamed_pass(f, "H-07", f.contribution) for f in agents]
    assert all(s is not None for s in said)
    first = said[0]
    assert first is not None
    assert first.contribution >= 0.8 and not first.alert
    # About the hub: two carriers say one thing, and a revision keeps one of them.
    assert (first.code, first.entity_type, first.entity_id) == (qc.UNNAMED_AT_HUB, "hub", "H-07")
    assert {(s.code, s.entity_type, s.entity_id) for s in said if s} == {
        (qc.UNNAMED_AT_HUB, "hub", "H-07")
    }


def test_an_honest_agent_holding_contradictions_too_leaves_the_unnamed_pass_medium() -> None:
    # An ordinary third agent at the hub with 3 contradicting buyers: the carriers hold 6 of 9,
    # a contradicted unnamed pass is theirs two times in three, probable but not HIGH.
    agents = carriers_of_h07(9)
    said = qc.unnamed_pass(agents[0], "H-07", agents[0].contribution)
    assert said is not None
    assert agents[0].numbers[qc.CARRIERS_SHARE] == round(6 / 9, 3)
    assert 0.5 <= said.contribution < 0.8


def test_carriers_holding_few_of_the_named_contradictions_say_little() -> None:
    agents = carriers_of_h07(30)
    said = qc.unnamed_pass(agents[0], "H-07", agents[0].contribution)
    assert said is not None and said.contribution < 0.5


def test_no_share_without_named_contradictions_or_for_another_hub() -> None:
    agents = carriers_of_h07(6)
    assert qc.unnamed_pass(agents[0], "H-08", agents[0].contribution) is None
    old = Finding(
        code=qc.AGENT_AT_HUB,
        detail="",
        contribution=0.95,
        pattern="QC_CONTRADICTION_AGENT",
        entity_type="agent",
        entity_id="AG-0701",
        numbers={"hub_id": "H-07"},
    )
    # An alert raised before the share was kept says nothing of the unnamed passes.
    assert qc.unnamed_pass(old, "H-07", 0.8) is None
    # An agent's alert on its own test (not a carrier's) neither.
    own = Finding(
        code="AGENT_QC_CONTRADICTION_SEQUENTIAL",
        detail="",
        contribution=0.95,
        pattern="QC_CONTRADICTION_AGENT",
        entity_type="agent",
        entity_id="AG-0701",
        numbers={"hub_id": "H-07", qc.CARRIERS_SHARE: 1.0},
    )
    assert qc.unnamed_pass(own, "H-07", 0.8) is None


def test_an_open_alert_read_at_its_floor_keeps_high_at_a_full_share() -> None:
    agents = carriers_of_h07(6)
    said = qc.unnamed_pass(agents[0], "H-07", 0.8)
    assert said is not None and said.contribution == 0.8


def test_a_carrier_found_after_another_counts_the_one_already_alerted() -> None:
    # The two carriers of a hub are often found one at a time: the second's share holds the
    # first's contradictions too (it is under an alert for this hub).
    carriers = h07_carriers()
    one = qc.Carriers({"AG-0702": carriers.agents["AG-0702"]}, carriers.hub, carriers.rest)
    assert qc.carriers_share(one, 6) == 0.5
    assert qc.carriers_share(one, 6, alerted_contradictions=3) == 1.0


def test_on_by_default_and_off_no_share_is_kept_and_nothing_reaches_the_unnamed_passes() -> None:
    assert default_config().qc_unnamed_carrier_reach is True
    # Off (`FRAUD_QC_UNNAMED_CARRIER_REACH=false`), scoring passes no named contradictions:
    agents = carriers_of_h07(None)
    assert agents and all(qc.CARRIERS_SHARE not in f.numbers for f in agents)
    assert all(qc.unnamed_pass(f, "H-07", f.contribution) is None for f in agents)
