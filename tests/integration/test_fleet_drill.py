"""The fleet drill, short: a three-broker Kafka cluster and two processes of each service under
traffic while the broker leading the busiest partitions is killed, one replica of each service
is killed, and every process is restarted in turn; afterwards nothing intake accepted is lost or
duplicated, the ledger balances and the money path ran (every check counted something). It runs
on a stack of its own: a cluster needs six Kafka ports and its own state folder."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from disputedesk.drills.checks import Verdict
from disputedesk.drills.runner import DrillPlan, DrillRunner, render_report
from disputedesk.stack import Stack
from tests.support.stacks import own_stack

# Its own stack, 200 ports above the test stack's (below the kernel's ephemeral range, see
# runner.ports_at_risk), Kafka taking six ports from its own upward.
FLEET_DRILL_STACK = {
    **own_stack("FLEET_DRILL", "fleet-drill-test", step=200),
    "DISPUTEDESK_KAFKA_BROKERS": "3",
}


# Three JVMs and eight service processes start, a broker restarts, every process restarts in
# turn: minutes on a busy two-core machine, beyond the suite's default limit.
@pytest.mark.timeout(900)
async def test_fleet_drill_loses_and_duplicates_nothing() -> None:
    environ = {**os.environ, **FLEET_DRILL_STACK}
    console = Console(width=160, force_terminal=False)
    runner = DrillRunner(plan=DrillPlan.fleet_short(), environ=environ, console=console)
    assert len(runner.stack.kafka_nodes) == 3
    try:
        report = await runner.run()
    finally:
        if os.environ.get("KEEP_TEST_STACK") != "1":
            Stack.from_env(FLEET_DRILL_STACK).down()
    render_report(report, console)

    failing = [c for c in report.checks if c.verdict.fails]
    assert not failing, failing
    assert report.drain.drained, report.drain.last_status
    assert not report.traffic["problems"]
    assert report.passed

    # Two processes of each service ran, and every fleet fault was injected.
    assert sorted(report.services) == sorted(
        f"{s}{suffix}"
        for s in ("intake", "fraud", "reconciliation", "notifications")
        for suffix in ("", "-2")
    )
    names = [f.name for f in report.faults]
    assert names[0] == "kill -9 the broker leading the busiest partitions, restart"
    assert {
        f"kill -9 {s}-2, restart" for s in ("intake", "fraud", "reconciliation", "notifications")
    } <= set(names)
    assert "rolling restart of every service" in names
    leader = report.faults[0].note
    assert "led 0 messages" not in leader  # the broker killed carried traffic

    # Every check counted something; the money path ran.
    assert all(c.expected for c in report.checks), [c.name for c in report.checks]
    by_name = {c.name: c for c in report.checks}
    cases = by_name["reconciliation: one case per disputed or lost return"]
    assert cases.verdict is Verdict.OK and cases.found == cases.expected > 0
    figures = report.figures
    assert figures["decisions"] >= cases.found
    assert figures["paise paid to sellers"] > 0
    assert figures["partner debits"] > 0
