"""Fraud's hot path writes an assessment and its outbox row as plain rows, one multi-row
statement each per consumer batch, not as ORM objects through the session's unit of work; what
a revision reads in the same batch is written before it reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text

from services.fraud.models import Assessment, Outbox
from services.fraud.scoring.handlers import handlers
from shared.envelope import Envelope
from shared.kafka.consumer import HandlerContext
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.fraud import fresh_fraud_db, intact_journey, statements_of

AT = datetime(2026, 7, 1, 9, tzinfo=UTC)


async def test_a_batchs_assessments_are_rows_written_once_at_its_end(harness: Harness) -> None:
    events = intact_journey(
        uid("R"),
        "S-CORE",
        "B-CORE",
        AT,
        "DAMAGED",
        "AG-CORE",
        hub="H-CORE",
        category="home",
        item_value=90_000,
        description="arrived broken",
    )
    envelopes = [Envelope(e, source="tests", id=uuid.uuid4()) for e in events]
    async with fresh_fraud_db(harness, "test_fraud_core_writes") as sessions:
        flushed: list[object] = []
        async with sessions() as session:
            event.listen(
                session.sync_session,
                "before_flush",
                lambda s, _context, _instances: flushed.extend(s.new),
            )
            assert handlers.batch_handler is not None
            with statements_of(session) as sent:  # the commit included
                async with session.begin():
                    await handlers.batch_handler(
                        [HandlerContext(session, e, "returns", "fraud") for e in envelopes]
                    )
                    assert not [o for o in session.new if isinstance(o, Assessment | Outbox)]
        # The batch's assessments never went through the unit of work.
        assert not [o for o in flushed if isinstance(o, Assessment | Outbox)]
        async with sessions() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT a.subject_event_id, a.subject_type, a.band, o.ce_type, "
                        "o.payload->>'assessment_id' = a.assessment_id::text, o.key "
                        "FROM assessments a JOIN outbox o "
                        "ON o.payload->>'subject_event_id' = a.subject_event_id::text "
                        "ORDER BY o.id"
                    )
                )
            ).all()
    inserts = [s for s in sent if s.lstrip().upper().startswith("INSERT INTO ASSESSMENTS")]
    assert len(inserts) == 1
    assert [r.subject_event_id for r in rows] == [e.id for e in envelopes]
    assert {r.ce_type for r in rows} == {"disputedesk.fraud.assessed.v1"}
    assert all(r[4] for r in rows)
    assert {r.key for r in rows} == {events[0].return_id}  # type: ignore[attr-defined]


async def test_a_batchs_changed_facts_are_one_array_update_per_set_of_columns(
    harness: Harness,
) -> None:
    """The facts a batch changes are written at its end as one array UPDATE per set of changed
    columns (`shared.db.write_changes`), not by the commit's flush row by row; the rows hold
    what the events said."""
    rids = [uid("R"), uid("R")]
    journeys = [
        intact_journey(
            rid,
            "S-FACTS",
            f"B-FACTS-{i}",
            AT,
            "DAMAGED",
            "AG-FACTS",
            hub="H-FACTS",
            category="home",
            item_value=90_000,
            description="arrived broken",
        )
        for i, rid in enumerate(rids)
    ]
    # The returns' facts created in one batch, then changed by their scans and claims in the next.
    batches = [[j[0] for j in journeys], [e for j in journeys for e in j[1:]]]
    async with fresh_fraud_db(harness, "test_fraud_facts_array_update") as sessions:
        assert handlers.batch_handler is not None
        for events in batches:
            envelopes = [Envelope(e, source="tests", id=uuid.uuid4()) for e in events]
            async with sessions() as session:
                with statements_of(session) as sent:  # the commit included
                    async with session.begin():
                        await handlers.batch_handler(
                            [HandlerContext(session, e, "returns", "fraud") for e in envelopes]
                        )
        async with sessions() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT return_id, terminal, hubs, pickup_agent_id, claim_type, "
                        "escalation_id, claimed_at FROM return_facts ORDER BY return_id"
                    )
                )
            ).all()
    claimed = AT + timedelta(hours=1)
    updates = [s for s in sent if s.lstrip().upper().startswith("UPDATE RETURN_FACTS")]
    assert updates and all("unnest" in s for s in updates)
    # Both returns changed the same columns: one statement for the two rows.
    assert len(updates) == 1
    assert [tuple(r) for r in rows] == [
        (rid, "DELIVERED_TO_SELLER", ["H-FACTS"], "AG-FACTS", "DAMAGED", f"ESC-{rid}", claimed)
        for rid in sorted(rids)
    ]
