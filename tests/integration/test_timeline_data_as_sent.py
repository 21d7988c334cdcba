"""Migration d8f4b2a6e1c9 on the real PostgreSQL: a case's timeline keeps each entry's document as
the process wrote it (`json`). A case decided by the consumer batch (its entries cut from the
case events' text) and a desk note (the ORM's unit of work) read back through the case API with
the same values as the stored documents; a decision's entry holds its case event in the order the
outbox row holds it. The migration goes down (rows kept, re-printed by `jsonb`) and up, and the
API's timeline is the same at every step."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

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

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
BEFORE = "a4c8e2f6b9d3"


@pytest.fixture
async def recon(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "timeline_as_sent") as eng:
        yield eng


async def _column_type(eng: Engine) -> str:
    rows = await eng.sql(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'case_timeline' AND column_name = 'data'"
    )
    return str(rows[0]["data_type"])


async def _api_timeline(eng: Engine, harness: Harness, case_id: str) -> list[dict[str, Any]]:
    r = await eng.client.get(f"/v1/cases/{case_id}", headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    return r.json()["timeline"]  # type: ignore[no-any-return]


async def test_a_decided_cases_timeline_is_kept_as_written_down_and_up(
    recon: Engine, harness: Harness
) -> None:
    assert await _column_type(recon) == "json"
    rid = uid("RET-TLJ")
    filed = recon.envelope(escalation(rid, claim="DAMAGED", amount=249_900))
    await recon.send(
        filed,
        return_initiated(rid, item_value=249_900),
        scan(rid, "PICKED_UP", T0, weight=1000),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, otp=False),
        assessed(filed, "LOW"),
    )
    case = await recon.wait_case(rid, lambda c: c["state"] == "CLOSED", what="decided case")
    cid = case["case_id"]
    r = await recon.client.post(
        f"/v1/cases/{cid}/notes",
        json={"note": "Seller called — ₹ refund confirmed"},
        headers=harness.key(AGENT),
    )
    assert r.status_code in (200, 201), r.text

    stored = await recon.sql(
        "SELECT kind, data::text AS data FROM case_timeline WHERE case_id = :c ORDER BY id", c=cid
    )
    kinds = [row["kind"] for row in stored]
    assert "CaseDecided" in kinds and "NOTE" in kinds, kinds
    timeline = await _api_timeline(recon, harness, cid)
    assert [t["kind"] for t in timeline] == kinds
    # Through the API, each entry is its stored document.
    assert [t["data"] for t in timeline] == [
        json.loads(row["data"]) if row["data"] else None for row in stored
    ]
    # The decision's entry holds the case event as the outbox row holds it (as sent), less the
    # sealed address: the process's key order, not jsonb's re-printing.
    [outbox] = await recon.sql(
        "SELECT payload::text AS payload FROM outbox WHERE ce_subject = :c "
        "AND ce_type LIKE '%case_decided%'",
        c=cid,
    )
    sent = json.loads(outbox["payload"])
    decided = json.loads(next(row["data"] for row in stored if row["kind"] == "CaseDecided"))
    assert list(decided["event"]) == [k for k in sent if k != "seller_contact"]
    assert decided["event"] == {k: v for k, v in sent.items() if k != "seller_contact"}

    await recon.migrate(BEFORE)
    assert await _column_type(recon) == "jsonb"
    # Read in SQL: the code needs the later migrations' columns (cases.closure_reopened), so
    # its API answers 503 on a schema this old; the rows are what this migration kept.
    down = await recon.sql(
        "SELECT data::text AS data FROM case_timeline WHERE case_id = :c ORDER BY id", c=cid
    )
    assert [json.loads(row["data"]) if row["data"] else None for row in down] == [
        t["data"] for t in timeline
    ]

    await recon.migrate()
    assert await _column_type(recon) == "json"
    assert await _api_timeline(recon, harness, cid) == timeline
