"""A decision's events as far as the rows' parameters, without PostgreSQL: per decided case,
the decision record's document on the case row, `emit` of CaseDecided and CaseSettled (the event
models, the outbox and timeline rows) into a consumer batch's view, then the array inserts'
parameters of those rows (`_array_params`: where a JSON column's document is encoded as text).

Run from a checkout with PYTHONPATH=<checkout>: prints the process CPU per decision (median of
ROUNDS rounds of 3,000 decisions, 500 to a view) and, with `--documents N`, the first N cases'
outbox payloads and timeline data as parsed JSON (to compare two checkouts' rows)."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases.timeline import SYSTEM, decision_document, emit
from services.reconciliation.cases.transitions import Move
from services.reconciliation.facts import batch
from services.reconciliation.facts.batch import BatchView
from services.reconciliation.models import Case
from shared.db import _array_params
from shared.events import CaseDecided, CaseSettled, DecisionRecord, LiableParty, Outcome
from shared.unit_of_work import unit_of

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
T0 = NOW - timedelta(days=5)
PER_VIEW, ROUND, ROUNDS = 500, 3000, 7


def _case(i: int) -> Case:
    return Case(
        case_id=f"CASE-{i:012d}", return_id=f"RET-{i:06d}", seller_id="S-1", claim_type="DAMAGED",
        claimed_amount=150_000, origin="SELLER", state="OPEN", version=2, partner_id="swiftship",
        primary_escalation_id=f"ESC-{i:06d}", seller_contact="sc1.test-key.c2VhbGVk",
        opened_at=T0, updated_at=T0, sla_used_s=0, payout=0,
    )


def _record(i: int) -> DecisionRecord:
    return DecisionRecord(
        policy_version="sop-v1", rule_id="L6", outcome=Outcome.GRANTED,
        liable_party=LiableParty.PARTNER, payout_pct=100, payout=150_000, partner_debit=150_000,
        facts={"return_known": True, "claim_type": "DAMAGED", "filed_at": T0.isoformat(),
               "item_value": 150_000, "fraud_band": "LOW", "scans": 2, "case": i},
        explanation="The partner damaged the item in transit: the weight at delivery fell.",
        decided_by=SYSTEM, decided_at=NOW,
    )


def _decide(session: AsyncSession, case: Case, record: DecisionRecord) -> None:
    case.decision = decision_document(session, record)
    emit(session, case, CaseDecided, move=Move.DECIDE, actor=SYSTEM, reason="Decided.",
         now=NOW, decision=record, appeal_by=NOW + timedelta(days=7), paid_before=0)
    emit(session, case, CaseSettled, move=Move.SETTLE, actor=SYSTEM,
         reason="Settled: 150000 paise to the seller.", now=NOW, decision=record,
         paid_before=0, data={"reversals": []})


def _params(view: BatchView) -> tuple[dict, dict]:
    outbox = _array_params(batch._INSERT_OUTBOX.columns, batch._INSERT_OUTBOX._json, view.outbox)
    timeline = _array_params(
        batch._INSERT_TIMELINE.columns, batch._INSERT_TIMELINE._json, view.timeline
    )
    return outbox, timeline


def _round(first: int) -> float:
    work = [
        [(_case(i), _record(i)) for i in range(start, start + PER_VIEW)]
        for start in range(first, first + ROUND, PER_VIEW)
    ]
    gc.collect()
    began = time.process_time()
    for cases in work:
        session = AsyncSession()  # never touches a database: the view buffers every row
        view = BatchView(return_ids=set())
        unit_of(session).put(view)
        for case, record in cases:
            _decide(session, case, record)
        _params(view)
    return 1000 * (time.process_time() - began) / ROUND


def _documents(n: int) -> list[object]:
    session = AsyncSession()
    view = BatchView(return_ids=set())
    unit_of(session).put(view)
    for i in range(n):
        _decide(session, _case(i), _record(i))
    outbox, timeline = _params(view)
    return [
        {"payload": json.loads(p), "ce_type": t, "key": k}
        for p, t, k in zip(outbox["payload"], outbox["ce_type"], outbox["key"], strict=True)
    ] + [json.loads(d) for d in timeline["data"]]


async def main() -> None:
    if sys.argv[1:2] == ["--documents"]:
        print(json.dumps(_documents(int(sys.argv[2])), sort_keys=True))
        return
    runs = [_round(r * ROUND) for r in range(ROUNDS)]
    print(json.dumps({"cpu_ms_per_decision": round(statistics.median(runs), 4), "rounds": runs}))


asyncio.run(main())
