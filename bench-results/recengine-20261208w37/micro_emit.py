"""The decision's own serialisation work, alone: a decision record's document for the case row,
the decided and settled events on a consumer batch (`emit`: the event, its text, the outbox and
timeline rows, each outbox row's traceparent inside a span) and the case row's `decision` column
text (`json_text`), as `decide_and_settle` and the batch's write do them; no database.
Process CPU per decision over ITER decisions, in a subprocess per code checkout.
Usage: python micro_emit.py DIR [ITER]   (prints µs per decision)
(Copied from bench-results/lean5-20261207w31/ with the case row's column sent through the
array statement's parameters, `_array_params`, as the batch's UPDATE does.)"""
from __future__ import annotations

import os
import sys
import time

code = sys.argv[1]
iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
sys.path[0] = code
from datetime import UTC, datetime, timedelta  # noqa: E402

from opentelemetry import trace  # noqa: E402
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from services.reconciliation.cases.timeline import SYSTEM, decision_document, emit  # noqa: E402
from services.reconciliation.cases.transitions import Move  # noqa: E402
from services.reconciliation.facts.batch import BatchView  # noqa: E402
from services.reconciliation.models import Case  # noqa: E402
from shared.db import _array_params  # noqa: E402
from shared.events import CaseDecided, CaseSettled, DecisionRecord, LiableParty, Outcome  # noqa: E402
from shared.unit_of_work import unit_of  # noqa: E402

PlainCase = None
COLUMNS = tuple(attr.key for attr in Case.__mapper__.column_attrs)

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
FACTS = {"return_known": True, "seller_id": "S-SOP", "buyer_id": "B-SOP", "partner_id": "desipost",
         "category": "electronics", "item_value": 249900, "qc_required": False, "claim_type": "DAMAGED",
         "claimed_amount": 249900, "filed_at": NOW.isoformat(), "evidence_counts": {"UNBOXING_VIDEO": 1},
         "received_weight_g": None, "pickup_at": NOW.isoformat(), "pickup_weight_g": 1000, "qc_result": None,
         "picked_up_after_qc": False, "delivered_at": NOW.isoformat(), "delivered_weight_g": 1000,
         "pod_otp_verified": None, "declared_lost": False, "declared_damaged_in_transit": False, "fraud_band": "LOW"}
EXPLANATION = ("About your return RET-1: we are paying you ₹1,249.50 (50 % of ₹2,499.00, the lower of your "
               "claimed amount and the item value) because there was no quality check at pickup, so "
               "responsibility for the damage is shared between you and the buyer. You can appeal within 7 days.")


def one(i: int) -> None:
    session = AsyncSession()
    view = BatchView(return_ids={f"RET-{i}"})
    unit_of(session).put(view)
    case = Case(case_id=f"CASE-{i:012d}", return_id=f"RET-{i}", seller_id="S-SOP", claim_type="DAMAGED",
                claimed_amount=249900, origin="SELLER", state="OPEN", version=2,
                seller_contact="sc1.dev1.c2VhbGVkY29udGFjdA", opened_at=NOW, updated_at=NOW, sla_used_s=0,
                payout=0, partner_id="desipost")
    for name in COLUMNS:  # every column present, as on a loaded case (None where unset)
        case.__dict__.setdefault(name, None)
    if PlainCase is not None:
        case = PlainCase(case)
    record = DecisionRecord(policy_version="sop-v1", rule_id="L11", outcome=Outcome.PARTIAL,
                            liable_party=LiableParty.BUYER, payout_pct=50, payout=124950, buyer_receivable=124950,
                            facts=FACTS, explanation=EXPLANATION, decided_by=SYSTEM, decided_at=NOW)
    began = time.process_time()
    case.decision = decision_document(session, record)
    emit(session, case, CaseDecided, move=Move.DECIDE, actor=SYSTEM, reason=EXPLANATION, now=NOW,
         decision=record, appeal_by=NOW + timedelta(days=7), paid_before=0, settlement_waits=[])
    emit(session, case, CaseSettled, move=Move.SETTLE, actor=SYSTEM, reason="Settled.", now=NOW,
         decision=record, paid_before=0, data={"reversals": []})
    _array_params(("decision",), {"decision"}, [{"decision": case.decision}])  # the batch's UPDATE
    spent[0] += time.process_time() - began


spent = [0.0]
span = NonRecordingSpan(SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True, TraceFlags(1)))
with trace.use_span(span):
    for i in range(200):
        one(i)
    spent[0] = 0.0
    for i in range(iterations):
        one(i)
print(round(1e6 * spent[0] / iterations, 2))
