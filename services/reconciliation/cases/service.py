"""The case service's public face: what routers, Kafka handlers and tools call. The case
lifecycle lives in rooms of its own, one responsibility each:

- `transitions.py`: the state machine as a table; `docs/case-states.md` is drawn from it;
- `timeline.py`: `emit`, the one function that moves a case, and `note`;
- `decisions.py`: the SOP applied to a case, decisions and settlement;
- `reactions.py`: facts arriving from Kafka;
- `delivered_after_payout.py`: a parcel paid as undelivered that then reaches the seller;
- `desk.py`: the review desk's actions;
- `deadlines.py` and `timer_loop.py`: the timer each state needs, and what a due timer does.
"""

from __future__ import annotations

from services.reconciliation.cases.deadlines import TimerKind
from services.reconciliation.cases.decisions import decision_of, outcome_of, reevaluate
from services.reconciliation.cases.delivered_after_payout import on_delivery_after_payout
from services.reconciliation.cases.desk import (
    DESK_DECIDABLE,
    add_note,
    approve,
    assign,
    decide,
    decide_appeal,
    escalate,
    request_evidence,
)
from services.reconciliation.cases.reactions import (
    answer_seller_message,
    on_appeal,
    on_assessment,
    on_escalation,
    on_evidence,
    on_refund,
    on_return_fact,
    record_delivery,
    refuse_foreign_scan,
    seller_replied,
    seller_replies_read,
)
from services.reconciliation.cases.timeline import SOURCE, SYSTEM
from services.reconciliation.cases.timer_loop import on_timer

__all__ = [
    "DESK_DECIDABLE",
    "SOURCE",
    "SYSTEM",
    "TimerKind",
    "add_note",
    "answer_seller_message",
    "approve",
    "assign",
    "decide",
    "decide_appeal",
    "decision_of",
    "escalate",
    "on_appeal",
    "on_assessment",
    "on_delivery_after_payout",
    "on_escalation",
    "on_evidence",
    "on_refund",
    "on_return_fact",
    "on_timer",
    "outcome_of",
    "reevaluate",
    "record_delivery",
    "refuse_foreign_scan",
    "seller_replied",
    "seller_replies_read",
    "request_evidence",
]
