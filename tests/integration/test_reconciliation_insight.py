"""Insight for the people who run and revise the desk: a draft policy's what-if over real
decided cases, KPI reports, recurring-problem trends and the weekly management pack."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from shared.events import FraudAlertRaised, FraudBand
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
from tests.support.waiting import eventually

AGENT = "DISPUTEDESK_KEY_OPS_AGENT"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"


@pytest.fixture(scope="module")
async def insight(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "insight") as eng:
        yield eng


async def decided_damage_claim(eng: Engine, *, partner: str, amount: int) -> dict[str, Any]:
    """No QC at pickup, no weight drop, a damage claim with a video: SOP v1's L11 (buyer, 50 %)."""
    rid = uid("RET-INS")
    filed = eng.envelope(escalation(rid, claim="DAMAGED", amount=amount))
    await eng.send(
        return_initiated(rid, partner=partner, item_value=amount),
        scan(rid, "PICKED_UP", T0, weight=1000, partner=partner),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner=partner),
        filed,
        assessed(filed, "LOW"),
    )
    return await eng.wait_case(rid, lambda c: c["state"] == "CLOSED", what=f"{rid} decided")


async def test_draft_policy_what_if_over_decided_cases(insight: Engine, harness: Harness) -> None:
    partner = f"p-{uuid.uuid4().hex[:6]}"
    cases = [await decided_damage_claim(insight, partner=partner, amount=100_000) for _ in range(3)]
    assert {c["decision"]["rule_id"] for c in cases} == {"L11"}
    manager, agent = harness.key(MANAGER), harness.key(AGENT)
    version = f"sop-v1.1-{uuid.uuid4().hex[:6]}"

    # Agents may study drafts but not write them.
    r = await insight.client.post(
        "/v1/policies", json={"version": version, "changes": {}}, headers=agent
    )
    assert r.status_code == 403

    r = await insight.client.post(
        "/v1/policies",
        json={"version": version, "changes": {"liability": {"L11": {"payout_pct": 30}}}},
        headers=manager,
    )
    assert r.status_code == 201, r.text
    assert r.json()["changes"] == [{"field": "liability.L11.payout_pct", "from": 50, "to": 30}]
    r = await insight.client.post(
        "/v1/policies", json={"version": version, "changes": {}}, headers=manager
    )
    assert r.status_code == 409

    decided_at = min(c["decided_at"] for c in cases)
    r = await insight.client.post(
        f"/v1/policies/{version}/what-if",
        json={"from": decided_at.isoformat(), "to": (decided_at + timedelta(hours=1)).isoformat()},
        headers=agent,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["cases"] == 3 and report["changed"] == 3
    assert report["current"]["payout"] == 3 * 50_000
    assert report["draft"]["payout"] == 3 * 30_000
    assert report["delta"]["buyer_receivable"] == -3 * 20_000
    assert {s["case_id"] for s in report["samples"]} == {c["case_id"] for c in cases}
    assert report["policy_changes"] == [{"field": "liability.L11.payout_pct", "from": 50, "to": 30}]
    # The engine keeps deciding under the active version.
    r = await insight.client.get("/v1/policies", headers=agent)
    statuses = {p["version"]: p["status"] for p in r.json()["items"]}
    assert statuses["sop-v1"] == "ACTIVE" and statuses[version] == "DRAFT"


async def test_invalid_drafts_are_problems_naming_the_field(
    insight: Engine, harness: Harness
) -> None:
    manager = harness.key(MANAGER)
    r = await insight.client.post(
        "/v1/policies",
        json={"version": "bad-1", "changes": {"windows": {"claim_window_h": "soon"}}},
        headers=manager,
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "changes.windows.claim_window_h"
    r = await insight.client.post(
        "/v1/policies", json={"version": "Bad Name", "changes": {}}, headers=manager
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.version"
    r = await insight.client.post("/v1/policies/no-such-version/what-if", json={}, headers=manager)
    assert r.status_code == 404


async def test_kpis_trends_and_management_pack(insight: Engine, harness: Harness) -> None:
    partner = f"p-{uuid.uuid4().hex[:6]}"
    cases = [await decided_damage_claim(insight, partner=partner, amount=80_000) for _ in range(4)]
    agent, finance = harness.key(AGENT), harness.key("DISPUTEDESK_KEY_FINANCE")
    opened = min(c["opened_at"] for c in cases)
    window = {
        "start": (opened - timedelta(days=1)).isoformat(),
        "end": (opened + timedelta(days=2)).isoformat(),
    }

    r = await insight.client.get(
        "/v1/reports/kpis", params={**window, "by": "partner"}, headers=agent
    )
    assert r.status_code == 200, r.text
    mine = [row for row in r.json()["rows"] if row["partner"] == partner]
    assert sum(row["decided"] for row in mine) == 4
    assert sum(row["escalations"] for row in mine) == 4
    assert sum(row["payout"] for row in mine) == 4 * 40_000
    assert sum(row["buyer_recovery"] for row in mine) == 4 * 40_000
    assert all(row["auto_decision_rate"] == 1.0 for row in mine)

    r = await insight.client.get(
        "/v1/reports/kpis",
        params={"start": window["end"], "end": window["start"]},
        headers=agent,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.end"
    r = await insight.client.get("/v1/reports/kpis", params={"start": "yesterday"}, headers=agent)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"query.start", "query.end"}

    r = await insight.client.get(
        "/v1/reports/recurring-problems",
        params={"as_of": (opened + timedelta(hours=1)).isoformat(), "alpha": 0.01, "min_cases": 4},
        headers=agent,
    )
    assert r.status_code == 200, r.text
    # A desk without weeks of history has no baseline: a few cases of a new partner are not a
    # trend (a planted spike over real history: test_reconciliation_trends.py).
    assert r.json()["problems"] == []

    r = await insight.client.get(
        "/v1/reports/management-pack",
        params={"week_of": opened.date().isoformat()},
        headers=agent,
    )
    assert r.status_code == 403  # managers and finance
    r = await insight.client.get(
        "/v1/reports/management-pack",
        params={"week_of": opened.date().isoformat()},
        headers=finance,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = zipfile.ZipFile(io.BytesIO(r.content))
    assert len([n for n in book.namelist() if n.startswith("xl/charts/chart")]) == 10
    shared = book.read("xl/sharedStrings.xml").decode()
    assert partner in shared


async def test_retention_deletes_only_expired_bookkeeping(insight: Engine) -> None:
    """Published outbox rows, inbox ids and idempotency keys past their retention go; an
    unpublished outbox row stays however old it is."""
    from shared.retention import Retention, purge

    old = datetime.now(UTC) - timedelta(days=40)
    marker = uuid.uuid4().hex[:8]
    async with insight.sessionmaker() as session, session.begin():
        for i, published in enumerate((old, None, datetime.now(UTC))):
            await session.execute(
                text(
                    "INSERT INTO outbox (topic, key, ce_id, ce_type, ce_source, ce_time, payload,"
                    " created_at, published_at) VALUES ('t', :k, :id, 'T', 's', :at, '{}', :at,"
                    " :pub)"
                ),
                {"k": f"{marker}-{i}", "id": uuid.uuid4(), "at": old, "pub": published},
            )
        await session.execute(
            text(
                "INSERT INTO inbox (ce_id, ce_type, topic, outcome, handled_at) VALUES"
                " (:id, 'T', :t, 'handled', :at)"
            ),
            {"id": uuid.uuid4(), "t": marker, "at": old},
        )
    now = datetime.now(UTC)
    sm = insight.sessionmaker
    assert await purge(sm, Retention("outbox", "published_at", timedelta(days=7)), now=now) >= 1
    assert await purge(sm, Retention("inbox", "handled_at", timedelta(days=30)), now=now) >= 1
    left = await insight.sql(
        "SELECT key, published_at IS NULL AS pending FROM outbox WHERE key LIKE :m ORDER BY key",
        m=f"{marker}-%",
    )
    assert [(r["key"], r["pending"]) for r in left] == [
        (f"{marker}-1", True),
        (f"{marker}-2", False),
    ]
    assert await insight.sql("SELECT 1 FROM inbox WHERE topic = :t", t=marker) == []


async def test_fraud_alert_lands_in_the_story_of_open_cases_it_concerns(
    insight: Engine, harness: Harness
) -> None:
    partner = f"p-{uuid.uuid4().hex[:6]}"
    closed = await decided_damage_claim(insight, partner=partner, amount=50_000)
    rid = uid("RET-ALERT")
    filed = insight.envelope(escalation(rid, claim="DAMAGED", amount=50_000))
    await insight.send(
        return_initiated(rid, partner=partner, item_value=50_000),
        scan(rid, "PICKED_UP", T0, weight=1000, partner=partner),
        scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=1000, partner=partner),
        filed,
        assessed(filed, "HIGH"),
    )
    open_case = await insight.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    alert = FraudAlertRaised(
        alert_id=uuid.uuid4(),
        pattern="PILFERAGE_PARTNER",
        entity_type="partner",
        entity_id=partner,
        severity=FraudBand.HIGH,
        summary=f"Weight drops on {partner} lanes are 6x the network rate.",
        suggested_action="Audit the lanes and hold partner payouts.",
        raised_at=datetime.now(UTC),
    )
    sent = await insight.send(alert)
    await insight.send(sent[0])  # redelivered: still one entry

    async def alert_entries(case_id: str) -> list[dict[str, Any]]:
        r = await insight.client.get(f"/v1/cases/{case_id}", headers=harness.key(AGENT))
        assert r.status_code == 200, r.text
        return [t for t in r.json()["timeline"] if t["kind"] == "FRAUD_ALERT"]

    entries = await eventually(
        lambda: alert_entries(open_case["case_id"]), until=bool, what="alert on the open case"
    )
    await asyncio.sleep(0.5)  # time for the redelivery to be handled (and ignored)
    entries = await alert_entries(open_case["case_id"])
    assert len(entries) == 1
    assert entries[0]["actor"] == "fraud" and "Audit the lanes" in entries[0]["reason"]
    assert entries[0]["data"]["pattern"] == "PILFERAGE_PARTNER"
    assert await alert_entries(closed["case_id"]) == []
