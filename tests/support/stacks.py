"""Ports and state for the tests that run a stack of their own (the drills stop Kafka and
PostgreSQL, so they cannot share the test stack).

Each is placed a fixed step above the test stack's own ports rather than on fixed numbers: two
checkouts whose test stacks differ (`DISPUTEDESK_KAFKA_PORT` and friends, as `scripts/test.sh`
exports them) then never reach for the same drill ports either.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_TEST_STACK_PORTS = {
    "DISPUTEDESK_KAFKA_PORT": 29092,
    "DISPUTEDESK_PG_PORT": 29432,
    "DISPUTEDESK_SMTP_PORT": 29025,
}


def own_stack(prefix: str, state: str, *, step: int) -> dict[str, str]:
    """The environment of a stack `step` ports above the test stack's, under `.state/<state>`.

    `DISPUTEDESK_<prefix>_STATE_DIR` and `DISPUTEDESK_<prefix>_{KAFKA,PG,SMTP}_PORT` still set
    any of them by hand. A three-broker Kafka takes six ports upward from its own, so steps
    of 100 keep two such stacks apart.
    """
    env = {
        "DISPUTEDESK_STATE_DIR": os.environ.get(
            f"DISPUTEDESK_{prefix}_STATE_DIR", str(ROOT / ".state" / state)
        )
    }
    for variable, default in _TEST_STACK_PORTS.items():
        base = int(os.environ.get(variable, default))
        own = variable.replace("DISPUTEDESK_", f"DISPUTEDESK_{prefix}_")
        env[variable] = os.environ.get(own, str(base + step))
    return env
