"""The fault drill, short: the four services as processes under traffic while the broker, each
service and the database fail in turn; afterwards nothing intake accepted is lost or duplicated
in any service, and the money path was exercised: every case decided, sellers paid, partners
debited, proposals above the cap approved, appeals decided, every decision emailed once. It
runs on a stack of its own, since it stops Kafka and PostgreSQL and its services use the same
consumer groups as the in-process pipeline of the other tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.console import Console

from disputedesk.drills.checks import Verdict
from disputedesk.drills.runner import DrillPlan, DrillRunner, render_report
from disputedesk.stack import Stack
from tests.support.stacks import own_stack

# Its own stack, 100 ports above the test stack's (below the kernel's ephemeral range, see
# runner.ports_at_risk).
DRILL_STACK = own_stack("DRILL", "drills-test", step=100)


async def test_short_drill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    environ = {**os.environ, **DRILL_STACK}
    console = Console(width=160, force_terminal=False)
    runner = DrillRunner(plan=DrillPlan.short(), environ=environ, console=console)
    try:
        report = await runner.run()
    finally:
        if os.environ.get("KEEP_TEST_STACK") != "1":
            Stack.from_env(DRILL_STACK).down()
    render_report(report, console)

    failing = [c for c in report.checks if c.verdict.fails]
    assert not failing, failing
    assert report.drain.drained, report.drain.last_status
    assert not report.traffic["problems"]
    assert report.passed

    # Every fault was injected, and the traffic exercised every kind of redelivery.
    names = [f.name for f in report.faults]
    assert names[0] == "Kafka broker stopped and restarted"
    assert {
        f"kill -9 {s}, restart" for s in ("intake", "fraud", "reconciliation", "notifications")
    } <= set(names)
    assert "PostgreSQL restarted" in names
    redelivered = report.traffic["deliberate_redeliveries"]
    assert redelivered["webhook"] > 0 and redelivered["escalation"] > 0
    assert redelivered["replay"] > 0

    # Every check counted something: none passed by comparing nothing with nothing.
    assert all(c.expected for c in report.checks), [c.name for c in report.checks]
    by_name = {c.name: c for c in report.checks}
    cases = by_name["reconciliation: one case per disputed or lost return"]
    assert cases.verdict is Verdict.OK and cases.expected and cases.found == cases.expected
    escalations = report.traffic["requests"]["escalation"]
    assert cases.expected >= escalations["accepted_distinct"]

    # The money path: every case decided by the rule its story calls for, sellers paid,
    # partners debited, proposals above the cap approved, appeals decided, decisions emailed.
    decided = by_name["reconciliation: every case decided, by the rule its story calls for"]
    assert decided.verdict is Verdict.OK and decided.found == cases.found
    figures = report.figures
    assert figures["decisions"] >= cases.found
    assert figures["paise paid to sellers"] > 0
    assert figures["partner debits"] > 0 and figures["paise owed by partners"] > 0
    assert figures["proposals above the cap"] > 0
    assert figures["approvals"] == figures["proposals above the cap"]
    assert figures["appeals"] > 0 and figures["appeal decisions"] == figures["appeals"]
    assert 0 < figures["appeals upheld"] < figures["appeals"]  # some overturned, some not
    # Each decision emailed once, but for parcels declared lost: the desk opened those cases
    # itself and has no seller address on file.
    lost = report.traffic["scenarios"]["LOST"]
    assert lost > 0 and figures["decision emails"] == figures["decisions"] - lost
    emails = by_name["mail sink: one email per message (by Message-ID)"]
    assert emails.verdict is Verdict.OK and emails.found > cases.found

    out = tmp_path / "drills.json"
    report.write_json(out)
    assert json.loads(out.read_text())["passed"] is True
