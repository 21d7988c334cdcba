"""The benchmark's goal, journey shape and settings from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"

GOAL_PARTNER_EVENTS_PER_S = 200.0
GOAL_ESCALATIONS_PER_S = 20.0
GOAL_P95_S = 2.0
# The idle line's goal: the four services and PostgreSQL together, no traffic.
IDLE_GOAL_CORES = 0.05
GOAL = (
    "sustained 200 partner events/s plus 20 escalations/s with all four services, Kafka and "
    "PostgreSQL on this machine, escalation → decision email p95 ≤ 2 s"
)
# The partner scans of one return, in journey order, as canonical types: the simulator's
# partner-neutral scan, which `disputedesk.simulate.partners` renders in each partner's format.
JOURNEY = ("PICKED_UP", "IN_TRANSIT", "DELIVERED_TO_SELLER")
# How long before the return's creation in the benchmark each scan happened: in the past, in
# journey order, the delivery an hour before the claim. Fixed per return, so desipost's
# cumulative snapshots repeat earlier scans exactly (intake deduplicates them by date).
SCAN_AGES = (timedelta(hours=48), timedelta(hours=24), timedelta(hours=1))
# Offsets (s) from a return's feed entry to each scan, and to its escalation: the escalation
# follows the delivery after a pause, as a seller's would, so it is the case's last fact.
SCAN_OFFSETS_S = (0.5, 1.0, 1.5)
ESCALATION_OFFSET_S = 4.0
SERVICES = ("intake", "reconciliation", "fraud", "notifications")
CONSUMER_GROUPS = ("fraud", "reconciliation", "notifications")
DECIDED_TYPES = {
    "disputedesk.reconciliation.case_decided.v1": "DECIDED",
    "disputedesk.reconciliation.case_rejected.v1": "REJECTED",
    "disputedesk.reconciliation.case_under_review.v1": "UNDER_REVIEW",
    "disputedesk.reconciliation.case_escalated.v1": "ESCALATED",
}


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def multipliers_from_env(name: str, default: str = "0.25,0.5,1,1.5") -> tuple[float, ...]:
    """The steps' multiples of the goal load, from a comma-separated variable."""
    return tuple(float(m) for m in os.environ.get(name, default).split(",") if m.strip())


def names_from_env(name: str, default: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in os.environ.get(name, default).split(",") if m.strip())


@dataclass(frozen=True)
class Settings:
    multipliers: tuple[float, ...] = (0.25, 0.5, 1.0, 1.5)
    step_s: float = 25.0
    port_base: int = 28801
    timeout_s: float = 60.0
    max_drain_s: float = 45.0
    sellers: int = 2000
    seed: int = 7
    # Each pass is one traffic mix with one process count per service, on fresh databases
    # and topics; every mix runs with every count, a mix's counts next to each other.
    mixes: tuple[str, ...] = ("even", "production")
    replicas: tuple[int, ...] = (1, 2)
    # Seconds of no traffic after the last step over which the idle line's CPU is measured.
    idle_s: float = 30.0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            multipliers=multipliers_from_env("BENCH_E2E_MULTIPLIERS"),
            step_s=float(env.get("BENCH_E2E_STEP_S", 25)),
            port_base=int(env.get("BENCH_E2E_PORT_BASE", 28801)),
            timeout_s=float(env.get("BENCH_E2E_TIMEOUT_S", 60)),
            max_drain_s=float(env.get("BENCH_E2E_MAX_DRAIN_S", 45)),
            mixes=names_from_env("BENCH_E2E_MIX", "even,production"),
            replicas=tuple(int(r) for r in names_from_env("BENCH_E2E_REPLICAS", "1,2")),
            idle_s=float(env.get("BENCH_E2E_IDLE_S", 30)),
        )

    def passes(self) -> list[tuple[str, int]]:
        """(mix, replicas) of each pass, in the order they run."""
        return [(mix, n) for mix in self.mixes for n in self.replicas]

    def ports(self) -> dict[str, int]:
        return {name: self.port_base + i for i, name in enumerate(SERVICES)}
