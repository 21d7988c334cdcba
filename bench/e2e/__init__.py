"""End-to-end benchmark: the four services as separate uvicorn processes (as `disputedesk run`
starts them) on fresh, migrated databases, driven open-loop at fixed offered rates.

Traffic per second at the goal step (1×): 200 partner events (pickup, in transit, delivered to
seller, rendered in every partner format `disputedesk.simulate.partners.SIGNERS` speaks) with a
marketplace feed entry per return, and 20 seller escalations with evidence on delivered returns.
Each step offers a multiple of that for a fixed time, then lets the pipeline drain.

Measured per step:
  escalation accepted (HTTP 201) → case decided (CaseDecided/CaseRejected consumed from
  reconciliation.cases.v1) → decision email in the mail sink (its file's arrival stamp),
  with the stages in between (canonical event on intake.returns.v1, fraud assessment, case
  opened, acknowledgement email);
  partner event accepted (HTTP 202) → canonical event on intake.returns.v1;
  backlog (consumer-group lag from Kafka's committed offsets, plus every service's outbox
  backlog) sampled each second: a step is sustained when the backlog does not grow and the
  accepted rate matches the offered one.
Baselines in the same run: raw Kafka round trip, a bare FastAPI endpoint, raw PostgreSQL
commits. Output: a table, bench-results/e2e.json and bench-results/e2e.png.

Run: `make bench` (section e2e), or `python -m bench e2e` (or `python -m bench.e2e`) against
the stack in $DISPUTEDESK_STATE_DIR. Settings (environment): BENCH_E2E_MULTIPLIERS (default
"0.25,0.5,1,1.5"), BENCH_E2E_STEP_S (25), BENCH_E2E_PORT_BASE (28801: intake, then
reconciliation, fraud, notifications on the next ports; replica r 10·(r−1) above),
BENCH_E2E_TIMEOUT_S (60), BENCH_E2E_MIX ("even,production": how partners send, see `mix`),
BENCH_E2E_REPLICAS ("1,2": processes per service), BENCH_E2E_IDLE_S (30: the idle line after
the steps). Every mix runs with every process count, each pass on fresh databases and topics.

The package's rooms: `settings` (goal, journey, environment), `mix` (when each request of a
step is sent, per traffic mix: pure), `traffic` (requests and one step of open-loop load),
`watchers` (topics, mail sink, backlog), `system` (databases, topics, service processes),
`cpu`, `baselines`, `figures` (the pure figures of a step), `run` (the passes, the idle line,
the passes side by side) and `report` (tables and chart).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.e2e.baselines import bare_fastapi, kafka_round_trip, postgres_commits
from bench.e2e.cpu import CpuMeter, cpu_ms_per_request
from bench.e2e.figures import (
    highest_sustained,
    latency_summary,
    percentile,
    slope_per_s,
    step_figures,
    sustained_verdict,
)
from bench.e2e.report import print_table, write_chart
from bench.e2e.run import _sample_until, measure
from bench.e2e.settings import (
    ESCALATION_OFFSET_S,
    GOAL,
    GOAL_ESCALATIONS_PER_S,
    GOAL_PARTNER_EVENTS_PER_S,
    JOURNEY,
    RESULTS,
    SCAN_AGES,
    SCAN_OFFSETS_S,
    Settings,
    multipliers_from_env,
)
from bench.e2e.system import Services, _recreate_topics, prepare_system
from bench.e2e.traffic import Traffic, run_step
from bench.e2e.watchers import (
    BacklogProbe,
    BacklogSample,
    Observations,
    _note_event,
    classify_email,
    watch_mail,
    watch_topics,
)

# What other benchmarks (`bench.fraud_latency`) and the tests take from here.
__all__ = [
    "BacklogProbe",
    "BacklogSample",
    "CpuMeter",
    "ESCALATION_OFFSET_S",
    "GOAL",
    "GOAL_ESCALATIONS_PER_S",
    "GOAL_PARTNER_EVENTS_PER_S",
    "JOURNEY",
    "Observations",
    "RESULTS",
    "SCAN_AGES",
    "SCAN_OFFSETS_S",
    "Services",
    "Settings",
    "Traffic",
    "_note_event",
    "_recreate_topics",
    "_sample_until",
    "bare_fastapi",
    "classify_email",
    "cpu_ms_per_request",
    "highest_sustained",
    "kafka_round_trip",
    "latency_summary",
    "main",
    "measure",
    "multipliers_from_env",
    "percentile",
    "postgres_commits",
    "prepare_system",
    "print_table",
    "run_step",
    "slope_per_s",
    "step_figures",
    "sustained_verdict",
    "watch_mail",
    "watch_topics",
    "write_chart",
]


def main(env: dict[str, str] | None = None) -> dict[str, Any]:
    if env is None:
        from disputedesk.stack import Stack

        stack = Stack.from_env()
        env = dict(stack.up())
        stack.apply_topics(env)
    stamp = time.strftime
    result = asyncio.run(
        measure(env, lambda line: print(f"[{stamp('%H:%M:%S')}] {line}", flush=True))
    )
    print_table(result)
    RESULTS.mkdir(exist_ok=True)
    write_chart(result, RESULTS / "e2e.png")
    print(f"wrote {RESULTS / 'e2e.png'}")
    return result
