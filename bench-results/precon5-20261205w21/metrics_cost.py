"""A 500-decision batch's domain counters, as main applies them (a closure per update, a
`labels()` lookup and a locked increment each at commit) against this change (summed per
counter and label values, applied once each), in one process, interleaved: CPU per decision.
Run from a checkout's root of this change: python metrics_cost.py"""
import sys
import time
from typing import Any, cast

sys.path.insert(0, ".")
from sqlalchemy.orm import Session  # noqa: E402

from services.reconciliation import metrics  # noqa: E402
from services.reconciliation.metrics import CASES, DECISIONS, PAYOUT, after_commit  # noqa: E402


def old(s: Any) -> None:  # main's case_entered x2, decision_made, paid_out
    after_commit(s, lambda: CASES.labels("DECIDED").inc())
    after_commit(s, lambda: CASES.labels("CLOSED").inc())
    after_commit(s, lambda: DECISIONS.labels("L1", "PARTNER").inc())
    after_commit(s, lambda: PAYOUT.inc(125_000))


def new(s: Any) -> None:
    metrics.case_entered(s, "DECIDED")
    metrics.case_entered(s, "CLOSED")
    metrics.decision_made(s, "L1", "PARTNER")
    metrics.paid_out(s, 125_000)


def batch(fn: Any, n: int = 500) -> float:
    session = Session()
    began = time.process_time()
    with session.begin():
        s = cast(Any, session)
        for _ in range(n):
            fn(s)
    return (time.process_time() - began) / n * 1e6


for _ in range(5):
    o = min(batch(old) for _ in range(5))
    w = min(batch(new) for _ in range(5))
    print(f"main {o:.1f} µs a decision, this change {w:.1f} µs ({w / o:.2f}x)")
