"""An entity's standing (stored risk, watches, open alerts) read once per scoring transaction
and kept current by the transaction's own writes (real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from services.fraud.alerts import repository as alerts_repo
from services.fraud.features import repository as features
from services.fraud.risk import repository as risk_repo
from services.fraud.risk.repository import OpenAlert, StoredRisk, Watch
from services.fraud.scoring import service
from services.fraud.scoring.service import assess_event, prepare_batch
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, intact_journey, statements_of

AT = datetime(2026, 5, 10, 12, tzinfo=UTC)
HUB, SELLER = ("hub", "H-1"), ("seller", "S-1")


def _risk(key: tuple[str, str], score: float, band: str) -> dict[str, Any]:
    return {
        "entity_type": key[0],
        "entity_id": key[1],
        "score": score,
        "band": band,
        "reasons": [],
        "as_of": AT,
    }


async def test_standing_is_read_once_and_follows_the_sessions_own_writes(
    harness: Harness,
) -> None:
    async with fresh_fraud_db(harness, "test_fraud_standing") as sessions:
        async with sessions() as session, session.begin():
            await risk_repo.upsert_risks(session, [_risk(HUB, 0.6, "MEDIUM")])
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                first = await risk_repo.standing(session, [HUB, SELLER])
                reads = len(statements)
                await risk_repo.upsert_risks(
                    session, [_risk(HUB, 0.85, "HIGH"), _risk(SELLER, 0.3, "LOW")]
                )
                alert = OpenAlert(uuid.uuid4(), "PILFERAGE_HUB", *HUB, "spike", {}, AT)
                risk_repo.remember_alert(session, alert)
                risk_repo.remember_watch(session, Watch(*HUB, "automatic", "alert"))
                writes = len(statements)
                later = await risk_repo.standing(session, [HUB, SELLER])
                assert len(statements) == writes  # known entities are not read again
                await risk_repo.standing(session, [HUB, ("agent", "AG-1")])
                assert len(statements) == writes + 1  # a new one is
    assert reads == 1
    assert first.risks == {HUB: StoredRisk(0.6, "MEDIUM")} and not first.alerts
    assert later.risks == {HUB: StoredRisk(0.85, "HIGH"), SELLER: StoredRisk(0.3, "LOW")}
    assert later.alerts == [alert]
    assert later.watches == [Watch(*HUB, "automatic", "alert")]


def _alert(pattern: str, entity: tuple[str, str], status: str = "open") -> dict[str, Any]:
    return {
        "alert_id": uuid.uuid4(),
        "pattern": pattern,
        "entity_type": entity[0],
        "entity_id": entity[1],
        "subject_key": f"{entity[0]}:{entity[1]}",
        "status": status,
        "severity": "HIGH",
        "summary": "test",
        "evidence": {},
        "suggested_action": "look",
        "raised_at": AT,
        "event_time": AT,
    }


async def test_alerted_entities_are_read_once_and_follow_the_sessions_own_alerts(
    harness: Harness,
) -> None:
    claimants = ("CLAIM_ABUSE", "EVIDENCE_REUSE")
    async with fresh_fraud_db(harness, "test_fraud_alerted") as sessions:
        async with sessions() as session, session.begin():
            await alerts_repo.insert_if_none_open(session, _alert("CLAIM_ABUSE", ("seller", "S-A")))
            await alerts_repo.insert_if_none_open(session, _alert("PILFERAGE", ("seller", "S-P")))
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                first = await alerts_repo.alerted(session, "seller", claimants)
                reads = len(statements)
                await alerts_repo.insert_if_none_open(
                    session, _alert("EVIDENCE_REUSE", ("seller", "S-E"))
                )
                await alerts_repo.insert_if_none_open(
                    session, _alert("PILFERAGE", ("seller", "S-Q"))
                )
                await alerts_repo.insert_if_none_open(
                    session, _alert("CLAIM_ABUSE", ("agent", "AG-1"))
                )
                writes = len(statements)
                later = await alerts_repo.alerted(session, "seller", claimants)
                assert len(statements) == writes  # not read again
        async with sessions() as session:
            fresh = await alerts_repo.alerted(session, "seller", claimants)
    assert reads == 1
    assert first == ["S-A"]
    assert later == fresh == ["S-A", "S-E"]


async def test_a_prepared_batch_reads_facts_and_standing_once_for_all_its_events(
    harness: Harness,
) -> None:
    journey = intact_journey(
        "R-PREP",
        "S-PREP",
        "B-PREP",
        AT,
        None,
        "AG-PREP",
        hub="H-PREP",
        category="fashion",
        item_value=150_000,
        description="",
    )
    initiated, picked_up, delivered = journey
    async with fresh_fraud_db(harness, "test_fraud_prepared_batch") as sessions:
        async with sessions() as session, session.begin():
            await assess_event(session, payload=initiated, subject_event_id=uuid.uuid4())
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                await prepare_batch(session, [picked_up, delivered])
                prepared = len(statements)
                for e in (picked_up, delivered):
                    await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
            assessed = statements[prepared:]
    # The facts, the seller's latest counted claim (the batch delivers a return not claimed,
    # and a delivery that reaches fraud after a later claim of its seller reads the seller at
    # that claim, `read_at_latest_claim`: one statement for all the batch's sellers, not one
    # per delivery), then the standing of seller, buyer, partner, hub, agent.
    assert prepared == 3
    assert not [s for s in assessed if "FROM return_facts" in s or "AS kind" in s]


async def test_a_deferred_batch_reads_its_terminal_scans_hub_and_agent_days_up_front(
    harness: Harness,
) -> None:
    """Inside `deferred_counters` (a consumer batch), `prepare_batch` also reads the days of the
    hubs and agents the batch's terminal scans weigh, in one statement: the delivery's pilferage
    step then reads none, although its agent and hub are named only by the pickup scan in the
    same batch. (The delivery's category value bins are read with the same statement, for a
    category: `features.kept_window_totals`.)"""
    journey = intact_journey(
        "R-PREP-D",
        "S-PREP-D",
        "B-PREP-D",
        AT,
        None,
        "AG-PREP-D",
        hub="H-PREP-D",
        category="fashion",
        item_value=150_000,
        description="",
    )
    initiated, picked_up, delivered = journey
    days_reads: list[list[str]] = []  # the entity types each `window_days` statement asks for

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "f.entity_type, f.entity_id, f.day" in statement:
            days_reads.append(sorted(parameters[0]))

    async with fresh_fraud_db(harness, "test_fraud_prepared_days") as sessions:
        async with sessions() as session, session.begin():
            await assess_event(session, payload=initiated, subject_event_id=uuid.uuid4())
        async with sessions() as session, session.begin():
            engine = session.bind.sync_engine  # type: ignore[union-attr]
            event.listen(engine, "before_cursor_execute", note)
            try:
                async with features.deferred_counters(session):
                    await prepare_batch(session, [picked_up, delivered])
                    prepared = list(days_reads)
                    for e in (picked_up, delivered):
                        await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
            finally:
                event.remove(engine, "before_cursor_execute", note)
    assert prepared == [["agent", "hub"]]
    assert days_reads[1:] == [["category"]]  # the delivery's value bins, nothing more


async def test_a_deferred_batchs_claims_read_their_windows_and_pairs_up_front(
    harness: Harness, monkeypatch: Any
) -> None:
    """Inside `deferred_counters`, `prepare_batch` also reads what the batch's claims weigh
    (`prefetch_claims`): their parties' window totals with their sellers' recent weeks, their
    pairs and the sellers that named each buyer, in two statements (three when a claim
    contradicts a QC pass: the pairs it will contradict). A claim then sends none of those
    reads, also one whose return's parties only the same batch names, and it is scored as
    without the reads up front."""
    history = [
        intact_journey(
            f"R-PC-{i}",
            "S-PC",
            f"B-PC-{i % 2}",
            AT.replace(day=1 + i),
            "MISSING_ITEM" if i % 2 else None,
            "AG-PC",
            hub="H-PC",
            category="fashion",
            item_value=150_000,
            description="",
        )
        for i in range(4)
    ]
    later = intact_journey(
        "R-PC-9",
        "S-PC",
        "B-PC-0",
        AT,
        "MISSING_ITEM",
        "AG-PC",
        hub="H-PC",
        category="fashion",
        item_value=150_000,
        description="",
    )
    unclaimed = intact_journey(
        "R-PC-8",
        "S-PC",
        "B-PC-1",
        AT.replace(day=6),
        "WRONG_ITEM",
        "AG-PC",
        hub="H-PC",
        category="fashion",
        item_value=150_000,
        description="",
    )
    # R-PC-8's journey is stored, its claim comes in the batch; R-PC-9's whole story does.
    stored = [e for journey in history for e in journey] + unclaimed[:-1]
    batch = [unclaimed[-1], *later]
    # The reads a claim sends every time, as opposed to those only an outstanding record
    # asks for (its recent weeks, the buyer's record elsewhere).
    reads = {
        "window": "SELECT f.entity_type, f.entity_id, f.metric, sum(f.n)",
        "pairs": "SELECT kind, left_id, right_id, metric, n FROM pair_counts",
        "lefts": "SELECT left_id, n FROM pair_counts",
    }

    async def run(name: str) -> tuple[list[tuple[Any, ...]], list[dict[str, int]], int]:
        scored: list[tuple[Any, ...]] = []
        claims_reads: list[dict[str, int]] = []
        async with fresh_fraud_db(harness, name) as sessions:
            for e in stored:
                async with sessions() as session, session.begin():
                    await assess_event(session, payload=e, subject_event_id=uuid.uuid4())
            async with sessions() as session, session.begin():
                async with features.deferred_counters(session):
                    with statements_of(session) as up_front:
                        await prepare_batch(session, batch)
                    for e in batch:
                        with statements_of(session) as sent:
                            a = await assess_event(
                                session, payload=e, subject_event_id=uuid.uuid4()
                            )
                        if a.escalation_id:
                            scored.append(
                                (a.score, a.band, [(r.code, r.contribution) for r in a.reasons])
                            )
                            claims_reads.append(
                                {k: sum(r in s for s in sent) for k, r in reads.items()}
                            )
        return scored, claims_reads, len(up_front)

    kept, kept_reads, kept_up_front = await run("test_fraud_claims_up_front")
    monkeypatch.setattr(service, "prefetch_claims", _nothing_up_front)
    fresh, fresh_reads, fresh_up_front = await run("test_fraud_claims_each")
    assert kept == fresh and len(kept) == 2
    assert kept_up_front == fresh_up_front + 2
    # Each claim without the reads up front: its long window, pairs and lefts, one each.
    assert [(r["pairs"], r["lefts"]) for r in fresh_reads] == [(1, 1), (1, 1)], fresh_reads
    # With them, none: the long window, and the seller's recent weeks its record leans to
    # abuse enough to read (a span of their own in the same read up front).
    assert [r["window"] for r in fresh_reads] == [2, 2], fresh_reads
    assert kept_reads == [{"window": 0, "pairs": 0, "lefts": 0}] * 2, (kept_reads, fresh_reads)


async def _nothing_up_front(*_: Any) -> None:
    """`prefetch_claims` as the code before it: nothing read up front."""
