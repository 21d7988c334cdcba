"""Migration b3e7a1c5d9f2 on the real PostgreSQL: a case keeps the closure a partner's record
undid (`cases.closure_reopened`) until its next answer to the seller carries it.

A claim closed by E3c is reopened by the partner's declared loss before fraud has assessed it:
the case waits for the assessment in another transaction, holding the closure; the decision that
follows carries it (`CaseDecided.closure_reopened`: the closure's rule and time) and the case
holds nothing after. The migration goes down (the column gone, the case kept) and up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    Engine,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)

BEFORE = "d8f4b2a6e1c9"


@pytest.fixture
async def recon(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "closure_reopened") as eng:
        yield eng


async def _has_column(eng: Engine) -> bool:
    rows = await eng.sql(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'cases' AND column_name = 'closure_reopened'"
    )
    return bool(rows)


async def test_the_answer_after_a_reopened_closure_carries_it_once_down_and_up(
    recon: Engine,
) -> None:
    assert await _has_column(recon)
    rid = uid("RET-CLR")
    filed = recon.envelope(
        escalation(rid, claim="NOT_RECEIVED", amount=150_000, filed_at=T0 + timedelta(days=50))
    )
    await recon.send(
        return_initiated(rid, item_value=150_000),
        scan(rid, "PICKED_UP", T0, weight=1000),
        filed,
    )
    closed = await recon.wait_case(rid, lambda c: c["state"] == "REJECTED", what="E3c closure")
    assert closed["decision"]["rule_id"] == "E3c"
    closed_at = datetime.fromisoformat(closed["decision"]["decided_at"])

    # The loss reaches the desk before fraud's assessment of the claim: the case reopens and
    # waits for it, holding the closure the seller was told of.
    await recon.send(scan(rid, "LOST", T0 + timedelta(days=3)))
    waiting = await recon.wait_case(
        rid, lambda c: c["state"] == "OPEN", what="reopened, waiting for fraud"
    )
    assert waiting["waiting_for"] == "FRAUD_ASSESSMENT"
    assert waiting["closure_reopened"]["rule_id"] == "E3c"

    await recon.send(assessed(filed, "LOW"))
    decided = await recon.wait_case(rid, lambda c: c["state"] == "CLOSED", what="L1 decision")
    assert decided["decision"]["rule_id"] == "L1"
    assert decided["closure_reopened"] is None
    events = await recon.events(decided["case_id"])
    carried = [
        (e["ce_type"], p["closure_reopened"])
        for e in events
        if (p := e["payload"] if isinstance(e["payload"], dict) else json.loads(e["payload"]))
        and p.get("closure_reopened")
    ]
    assert len(carried) == 1, carried
    ce_type, closure = carried[0]
    assert ce_type.endswith("case_decided.v1")
    assert closure["rule_id"] == "E3c"
    assert closure["reason_code"] == "CLAIM_WINDOW_EXPIRED"
    assert datetime.fromisoformat(closure["closed_at"]) == closed_at

    await recon.migrate(BEFORE)
    assert not await _has_column(recon)
    rows = await recon.sql("SELECT state FROM cases WHERE return_id = :r", r=rid)
    assert [r["state"] for r in rows] == ["CLOSED"]
    await recon.migrate()
    assert await _has_column(recon)
    assert (await recon.case(rid) or {})["closure_reopened"] is None
