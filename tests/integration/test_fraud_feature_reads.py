"""The feature store's window reads on a real PostgreSQL: fixed-shape statements whose entities
travel as arrays must count exactly what the windows hold, once."""

from __future__ import annotations

from datetime import date, timedelta

from services.fraud.features import repository as features
from services.fraud.models import ReturnFacts
from tests.conftest import Harness
from tests.support.fraud import fresh_fraud_db, statements_of

DAY = date(2026, 5, 10)


async def test_window_and_scope_totals_count_each_bucket_once(harness: Harness) -> None:
    counts = {
        # Two days inside the window, one before it.
        ("hub", "H_1", "handled", DAY): 10,
        ("hub", "H_1", "handled", DAY + timedelta(1)): 5,
        ("hub", "H_1", "handled", DAY - timedelta(1)): 100,
        ("hub", "H_1", "incidents", DAY): 2,
        ("hub", "HX1", "handled", DAY): 7,
        # Agents at hub H_1, and one at HX1|: "_" in a prefix is a character, not a wildcard.
        ("hub_agent", "H_1|A-1", "handled", DAY): 4,
        ("hub_agent", "H_1|A-2", "handled", DAY): 6,
        ("hub_agent", "HX1|A-9", "handled", DAY): 50,
        ("hub_agent", "H%1|A-7", "handled", DAY): 70,
        ("agent", "A-1", "handled", DAY): 4,
    }
    async with fresh_fraud_db(harness, "test_fraud_feature_reads") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(session, counts)
            # The same increments twice: the upsert adds.
            await features.add_counts(session, {("agent", "A-1", "handled", DAY): 1})
        async with sessions() as session:
            until = DAY + timedelta(1)
            totals = await features.window_totals(
                session,
                [("hub", "H_1"), ("hub", "H_1"), ("agent", "A-1"), ("agent", "none")],
                ["handled", "incidents"],
                DAY,
                until,
            )
            days = await features.window_days(
                session, [("hub", "H_1")], ["handled"], DAY - timedelta(1), DAY
            )
            hubs = await features.entity_totals(session, "hub", ["handled"], DAY, until)
            at_hub = await features.entity_totals(
                session, "hub_agent", ["handled"], DAY, until, id_prefix="H_1|"
            )
            odd = await features.entity_totals(
                session, "hub_agent", ["handled"], DAY, until, id_prefix="H%1|"
            )

    assert totals == {
        ("hub", "H_1"): {"handled": 15, "incidents": 2},
        ("agent", "A-1"): {"handled": 5},
        ("agent", "none"): {},
    }
    assert days == {("hub", "H_1"): {DAY - timedelta(1): {"handled": 100}, DAY: {"handled": 10}}}
    assert hubs == {"H_1": {"handled": 15}, "HX1": {"handled": 7}}
    # A prefix is matched literally: other hubs' agents stay out.
    assert at_hub == {"H_1|A-1": {"handled": 4}, "H_1|A-2": {"handled": 6}}
    assert odd == {"H%1|A-7": {"handled": 70}}


async def test_a_batchs_facts_are_read_once_and_a_new_return_is_known_absent(
    harness: Harness,
) -> None:
    async with fresh_fraud_db(harness, "test_fraud_facts_prefetch") as sessions:
        async with sessions() as session, session.begin():
            features.add_facts(
                session,
                ReturnFacts(
                    return_id="R-OLD", seller_id="S-1", hubs=[], incident=False, pair_counted=False
                ),
            )
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                await features.prefetch_facts(session, ["R-OLD", "R-NEW", "R-NEW"])
                old = await features.get_facts(session, "R-OLD")
                new = await features.get_facts(session, "R-NEW")
                assert len(statements) == 1  # one read for the batch, none per event
                # The batch's first event creates the return's facts; the next ones find them.
                features.add_facts(
                    session,
                    ReturnFacts(return_id="R-NEW", hubs=[], incident=False, pair_counted=False),
                )
                again = await features.get_facts(session, "R-NEW")
    assert old is not None and old.seller_id == "S-1"
    assert new is None
    assert again is not None and again.return_id == "R-NEW"


async def test_a_sessions_peer_totals_follow_its_own_increments_without_a_new_read(
    harness: Harness,
) -> None:
    until = DAY + timedelta(1)
    async with fresh_fraud_db(harness, "test_fraud_totals_kept") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(
                session,
                {
                    ("hub_agent", "H-1|A-1", "handled", DAY): 4,
                    ("hub_agent", "H-1|A-1", "incidents", DAY): 1,
                },
            )
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                first = await features.entity_totals(
                    session, "hub_agent", ["handled", "incidents"], DAY, until, id_prefix="H-1|"
                )
                await features.add_counts(
                    session,
                    {
                        ("hub_agent", "H-1|A-1", "handled", DAY): 1,  # counted
                        ("hub_agent", "H-1|A-2", "incidents", until): 2,  # a new agent, counted
                        ("hub_agent", "H-1|A-2", "handled", DAY - timedelta(1)): 5,  # before
                        ("hub_agent", "H-2|A-9", "handled", DAY): 7,  # another hub
                        ("hub", "H-1", "handled", DAY): 1,  # another entity type
                    },
                )
                kept = await features.entity_totals(
                    session, "hub_agent", ["handled", "incidents"], DAY, until, id_prefix="H-1|"
                )
                reads = [s for s in statements if "LIKE" in s]
        async with sessions() as session:
            fresh = await features.entity_totals(
                session, "hub_agent", ["handled", "incidents"], DAY, until, id_prefix="H-1|"
            )
    assert len(reads) == 1
    assert kept == fresh == {"H-1|A-1": {"handled": 5, "incidents": 1}, "H-1|A-2": {"incidents": 2}}
    # Handed out as kept, not copied (a copy of a large population per event was a tenth of a
    # terminal scan's CPU): callers only read it.
    assert first is kept
