"""A hub's QC-contradiction finding does not speak for the passes of its agents whose own record
at the hub is ordinary: neither its open alert's floor nor its revisions reach a claim on such a
pass, while a pass naming no agent, or a telling agent's, stays the hub's (pure logic; the
scoring path on real PostgreSQL is in tests/integration/test_fraud_qc_hub_reach.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql

from services.fraud.detectors import qc_contradiction as qc
from services.fraud.detectors.findings import Finding
from services.fraud.models import ReturnFacts
from services.fraud.scoring.revisions import CLAIM_TYPE, is_about, selector_for


def hub_finding(**numbers: float | int | str) -> Finding:
    return Finding(
        "HUB_QC_CONTRADICTION_SEQUENTIAL",
        "",
        0.8,
        "QC_CONTRADICTION_HUB",
        "hub",
        "H-1",
        dict(numbers),
        alert=True,
    )


def claim_on(qc_agent: str | None) -> ReturnFacts:
    return ReturnFacts(
        return_id="R-1",
        seller_id="S-1",
        buyer_id="B-1",
        hubs=["H-1"],
        pickup_agent_id=qc_agent,
        qc_agent_id=qc_agent,
        qc_hub_id="H-1",
        qc_result="PASSED",
        terminal="DELIVERED_TO_SELLER",
        incident=False,
        claim_type="WRONG_ITEM",
        pair_counted=True,
    )


def about(finding: Finding, facts: ReturnFacts) -> bool:
    return is_about(
        finding.pattern,
        finding.entity_type,
        finding.entity_id,
        None,
        facts,
        CLAIM_TYPE,
        terminal_scan=False,
        numbers=finding.numbers,
    )


def test_a_hub_finding_names_its_ordinary_agents_and_leaves_the_agents_own_alone() -> None:
    agent = Finding(
        "AGENT_QC_CONTRADICTION_SEQUENTIAL", "", 0.8, "QC_CONTRADICTION_AGENT", "agent", "AG-2", {}
    )
    named = qc.with_ordinary_agents([hub_finding(), agent], {"AG-3", "AG-1"})
    assert named[0].numbers[qc.ORDINARY_AGENTS] == "AG-1,AG-3"
    assert named[1] == agent  # an agent's finding is its own passes' already
    assert qc.ordinary_agents(named[0].numbers) == {"AG-1", "AG-3"}
    assert qc.with_ordinary_agents([hub_finding()], set()) == [hub_finding()]


def test_an_open_hub_alert_reaches_unnamed_and_telling_passes_not_ordinary_ones() -> None:
    finding = qc.with_ordinary_agents([hub_finding()], {"AG-1"})[0]
    assert not about(finding, claim_on("AG-1"))  # an ordinary agent's pass
    assert about(finding, claim_on("AG-2"))  # a telling agent's
    assert about(finding, claim_on(None))  # a pass naming no agent: only the hub is known
    # A hub alert raised before its findings named ordinary agents reaches every pass, as before.
    assert about(hub_finding(), claim_on("AG-1"))


def test_the_revisions_select_what_the_open_alert_reaches() -> None:
    finding = qc.with_ordinary_agents([hub_finding()], {"AG-1", "AG-4"})[0]
    selector = selector_for(finding)
    assert selector is not None
    dialect: Any = postgresql.dialect  # untyped in SQLAlchemy's stubs
    dialect = dialect()
    sql = " AND ".join(
        str(c.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        for c in selector.conditions
    )
    assert "return_facts.qc_agent_id IS NULL OR" in sql
    assert "NOT IN ('AG-1', 'AG-4')" in sql
    # Without ordinary agents, the hub's claims as before: no condition on the agent.
    plain = selector_for(hub_finding())
    assert plain is not None and len(plain.conditions) == len(selector.conditions) - 1


def test_an_agent_is_ordinary_only_when_its_record_favours_its_peers() -> None:
    # Agents at 2.5 %, as alike as the bound allows: one contradiction in forty passes is
    # their rate; three in forty, or one in five, is above it though short of telling.
    from services.fraud.scoring.base import _favours_peers, default_config

    s = default_config().sequential
    assert _favours_peers(1, 40, 0.025, 1000.0, s)
    assert _favours_peers(0, 3, 0.025, 1000.0, s)
    assert not _favours_peers(3, 40, 0.025, 1000.0, s)
    assert not _favours_peers(1, 5, 0.025, 1000.0, s)
