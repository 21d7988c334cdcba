"""The feature store's window reads on a real PostgreSQL: fixed-shape statements whose entities
travel as arrays must count exactly what the windows hold, once."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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


async def test_a_kept_view_of_the_hubs_agents_is_patched_as_a_rebuild_would_make_it(
    harness: Harness,
) -> None:
    """The pilferage step's hub → agents map and agents' counts (`entity_totals_view`) are
    built once from the window's read and patched with each later increment: after every
    batch of increments, in deferred batches and out of them, they equal a map rebuilt from the
    read (values and order: a hub new to the window after the others, an agent new to its hub
    after its mates), and they send no statement of their own."""
    from services.fraud.scoring.pilferage import AgentsCounts, HubsAgents

    metrics = ("handled", "incidents")
    until = DAY + timedelta(1)
    steps: list[dict[features.CountKey, int]] = [
        {
            ("hub_agent", "H-2|A-1", "handled", DAY): 3,  # counted
            ("agent", "A-1", "handled", DAY): 3,
        },
        {
            ("hub_agent", "H-1|A-3", "incidents", until): 1,  # a new agent at a known hub
            ("hub_agent", "H-9|A-4", "handled", DAY): 2,  # a new hub
            ("agent", "A-4", "handled", DAY): 2,  # a new agent
            ("hub_agent", "H-1|A-1", "handled", DAY - timedelta(1)): 50,  # before the window
            ("hub", "H-1", "handled", DAY): 1,  # another entity type
        },
        {("hub_agent", "H-1|A-1", "incidents", DAY): 2, ("agent", "A-1", "incidents", DAY): 2},
    ]

    def rebuilt(rows: Any) -> list[Any]:
        hubs: dict[str, dict[str, Any]] = {}
        for key, v in rows.items():
            hub, _, agent = key.partition("|")
            hubs.setdefault(hub, {})[agent] = (v.get("handled", 0), v.get("incidents", 0))
        return [(h, list(agents.items())) for h, agents in hubs.items()]

    def kept_form(view: HubsAgents) -> list[Any]:
        return [
            (h, [(a, (c.handled, c.incidents)) for a, c in agents.items()])
            for h, agents in view.hubs.items()
        ]

    async with fresh_fraud_db(harness, "test_fraud_totals_view") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(
                session,
                {
                    ("hub_agent", "H-1|A-1", "handled", DAY): 4,
                    ("hub_agent", "H-2|A-2", "incidents", DAY): 1,
                    ("hub_agent", "H-1|A-2", "handled", DAY): 6,
                    ("agent", "A-1", "handled", DAY): 4,
                    ("agent", "A-2", "handled", DAY): 6,
                },
            )
        for deferred in (False, True):
            async with sessions() as session:
                await session.begin()
                async with features.deferred_counters(session) if deferred else nullcontext():
                    with statements_of(session) as sent:
                        hubs = await features.entity_totals_view(
                            session, HubsAgents, "hub_agent", metrics, DAY, until
                        )
                        agents = await features.entity_totals_view(
                            session, AgentsCounts, "agent", metrics, DAY, until
                        )
                    assert len(sent) == 2  # the two reads, nothing more
                    for step in steps:
                        await features.add_counts(session, step)
                        with statements_of(session) as sent:
                            again = await features.entity_totals_view(
                                session, HubsAgents, "hub_agent", metrics, DAY, until
                            )
                            rows = await features.entity_totals(
                                session, "hub_agent", list(metrics), DAY, until
                            )
                            agent_rows = await features.entity_totals(
                                session, "agent", list(metrics), DAY, until
                            )
                        assert sent == []
                        assert again is hubs
                        assert kept_form(hubs) == rebuilt(rows)
                        assert [
                            (a, (c.handled, c.incidents)) for a, c in agents.counts.items()
                        ] == [
                            (a, (v.get("handled", 0), v.get("incidents", 0)))
                            for a, v in agent_rows.items()
                        ]
                await session.rollback()
    assert [h for h, _ in kept_form(hubs)] == ["H-1", "H-2", "H-9"]
    assert dict(kept_form(hubs))["H-1"] == [("A-1", (4, 2)), ("A-2", (6, 0)), ("A-3", (0, 1))]


async def test_a_batchs_kept_hub_exposures_weigh_each_scan_on_the_counts_before_it(
    harness: Harness,
) -> None:
    """The pilferage step's hub weights (`pilferage.HubExposures`, an `entity_totals_view` of
    the hubs' window totals) are patched with each increment of the batch: after each scan's
    increments, every hub's exposure is `exposure_of` of the hubs' totals as a read would give
    them then, the scans before it included, with no statement of their own."""
    from services.fraud.detectors import pilferage
    from services.fraud.detectors.stats import Thresholds
    from services.fraud.scoring.pilferage import HUB_METRICS

    t = Thresholds()
    until = DAY + timedelta(1)
    stored: dict[features.CountKey, int] = {}
    for h, (n, k) in enumerate([(120, 4), (150, 6), (90, 2), (200, 11)]):
        part = "only" if h % 2 else "last"
        stored |= {
            ("hub", f"H-{h}", "handled", DAY): n,
            ("hub", f"H-{h}", "incidents", DAY): k,
            ("hub", f"H-{h}", f"handled_{part}", DAY): n,
            ("hub", f"H-{h}", f"incidents_{part}", DAY): k,
            ("hub", f"H-{h}", "handled_earlier", DAY): n // 2,
            ("hub", f"H-{h}", "handled", DAY - timedelta(1)): 5,  # before the window
        }
    scans: list[dict[features.CountKey, int]] = [
        {("hub", "H-1", "handled", DAY): 1, ("hub", "H-1", "handled_only", DAY): 1},
        {
            ("hub", "H-3", "handled", until): 1,
            ("hub", "H-3", "handled_last", until): 1,
            ("hub", "H-3", "incidents", until): 1,
            ("hub", "H-3", "incidents_last", until): 1,
        },
        # A hub new to the window.
        {("hub", "H-9", "handled", DAY): 30, ("hub", "H-9", "handled_only", DAY): 30},
    ]

    def figures(exposures: dict[str, pilferage.Exposure]) -> dict[str, tuple[float, float]]:
        return {h: (e.scale, e.rel_var) for h, e in exposures.items()}

    async with fresh_fraud_db(harness, "test_fraud_kept_exposures") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(session, stored)
        async with sessions() as session:
            await session.begin()
            async with features.deferred_counters(session):
                kept = await features.entity_totals_view(
                    session, pilferage.HubExposures, "hub", HUB_METRICS, DAY, until
                )
                weights = [figures(kept.all(t))]
                for scan in scans:
                    await features.add_counts(session, scan)
                    with statements_of(session) as sent:
                        again = await features.entity_totals_view(
                            session, pilferage.HubExposures, "hub", HUB_METRICS, DAY, until
                        )
                        rows = await features.entity_totals(
                            session, "hub", list(HUB_METRICS), DAY, until
                        )
                    assert sent == []
                    assert again is kept
                    weights.append(figures(kept.all(t)))
                    assert weights[-1] == figures(pilferage.exposure_of(rows, t))
                    assert weights[-1] != weights[-2]  # the scan moved the weights
            await session.rollback()
        # What a fresh read of the same counts in a new transaction gives.
        async with sessions() as session, session.begin():
            for scan in scans:
                await features.add_counts(session, scan)
        async with sessions() as session, session.begin():
            rows = await features.entity_totals(session, "hub", list(HUB_METRICS), DAY, until)
            assert figures(pilferage.exposure_of(rows, t)) == weights[-1]
    assert list(weights[-1]) == ["H-0", "H-1", "H-2", "H-3", "H-9"]


async def test_window_reads_skip_cross_pairs_and_plan_an_index_scan_whatever_the_statistics(
    harness: Harness,
) -> None:
    """The window reads' types and ids are two lists: a type with another entity's id is not
    read. The plan PostgreSQL keeps for the prepared statement (its generic plan) is an index
    scan on a young table never analysed, and on the grown table once analysed. With the
    (type, id) pairs joined with the table, a young table's plan was a sequential scan, and
    a service's prepared statement kept it as the table grew."""
    counts = {
        ("hub", "H-1", "handled", DAY): 3,
        ("agent", "A-1", "handled", DAY): 4,
        # Cross pairs of the two lists: the hub's id as an agent's, the agent's as a hub's.
        ("agent", "H-1", "handled", DAY): 50,
        ("hub", "A-1", "handled", DAY): 60,
    }

    def buyers(first: int, last: int) -> dict[features.CountKey, int]:
        return {
            ("buyer", f"B-{b}", metric, DAY - timedelta(d)): 1
            for b in range(first, last)
            for d in range(5)
            for metric in ("delivered", "named_claims")
        }

    wanted = [("hub", "H-1"), ("agent", "A-1")]
    async with fresh_fraud_db(harness, "test_fraud_window_plans") as sessions:
        async with sessions() as session, session.begin():
            # Never analysed until the test says so, whatever autovacuum's timing.
            await session.execute(
                text("ALTER TABLE feature_counts SET (autovacuum_enabled = false)")
            )
            await features.add_counts(session, counts | buyers(0, 20))
        async with sessions() as session:
            totals = await features.window_totals(session, wanted, ["handled"], DAY, DAY)
            days = await features.window_days(session, wanted, ["handled"], DAY, DAY)
            plans = {"young, never analysed": await _generic_plans(session)}
        async with sessions() as session, session.begin():
            await features.add_counts(session, buyers(20, 400))
        async with sessions() as session:
            await session.execute(text("ANALYZE feature_counts"))
            plans["grown, analysed"] = await _generic_plans(session)
    assert totals == {("hub", "H-1"): {"handled": 3}, ("agent", "A-1"): {"handled": 4}}
    assert days == {("hub", "H-1"): {DAY: {"handled": 3}}, ("agent", "A-1"): {DAY: {"handled": 4}}}
    for statistics, by_read in plans.items():
        for read, plan in by_read.items():
            assert "Index" in plan and "Seq Scan" not in plan, (statistics, read, plan)


async def _generic_plans(session: AsyncSession) -> dict[str, str]:
    """The generic plan (the one a prepared statement may keep) of each window read."""
    out: dict[str, str] = {}
    await session.execute(text("SET plan_cache_mode = force_generic_plan"))
    for name, statement in (
        ("window_totals", features._WINDOW_TOTALS),
        ("window_days", features._WINDOW_DAYS),
    ):
        sql = str(statement.compile(dialect=session.bind.dialect))  # type: ignore[union-attr]
        await session.execute(text(f"PREPARE {name} AS {sql}"))
        rows = await session.execute(
            text(
                f"EXPLAIN EXECUTE {name}(ARRAY['hub', 'agent'], ARRAY['H-1', 'A-1'],"
                f" ARRAY['handled'], DATE '{DAY}', DATE '{DAY}')"
            )
        )
        out[name] = "\n".join(r[0] for r in rows)
        await session.execute(text(f"DEALLOCATE {name}"))
    await session.execute(text("RESET plan_cache_mode"))
    return out


async def test_pair_reads_count_only_the_pairs_asked_with_a_batchs_pending_counts(
    harness: Harness,
) -> None:
    """`pair_counts`, `repeats_by_left` and `distinct_lefts` send their keys as arrays: the
    cross pairs the arrays also match (another left's buyer, another kind's left) stay out, and
    counts still pending in a deferred batch are added as if written."""
    stored = {
        ("seller_buyer", "S-1", "B-1", "named"): 2,
        ("seller_buyer", "S-1", "B-1", "delivered"): 5,
        ("seller_buyer", "S-2", "B-2", "named"): 1,
        # Cross pairs of the arrays below: S-1 with B-2, S-2 with B-1.
        ("seller_buyer", "S-1", "B-2", "named"): 9,
        ("seller_buyer", "S-2", "B-1", "named"): 9,
        ("seller_buyer", "S-3", "B-1", "named"): 0,
        ("qc_agent_buyer", "A-1", "B-1", "contradicted"): 3,
        ("qc_agent_buyer", "A-1", "B-2", "contradicted"): 1,
        ("qc_agent_buyer", "H-1", "B-1", "contradicted"): 4,  # an agent's id, another kind's
        ("qc_hub_buyer", "H-1", "B-1", "contradicted"): 2,
        ("qc_hub_buyer", "A-1", "B-1", "contradicted"): 7,  # a hub's kind with an agent's id
    }
    async with fresh_fraud_db(harness, "test_fraud_pair_reads") as sessions:
        async with sessions() as session, session.begin():
            await features.add_pairs(session, stored)
        async with sessions() as session, session.begin():
            before = (
                await features.pair_counts(
                    session, [("seller_buyer", "S-1", "B-1"), ("seller_buyer", "S-2", "B-2")]
                ),
                await features.repeats_by_left(
                    session,
                    lefts=[("qc_agent_buyer", "A-1"), ("qc_hub_buyer", "H-1")],
                    metric="contradicted",
                ),
                await features.distinct_lefts(
                    session, kind="seller_buyer", right_id="B-1", metric="named"
                ),
                await features.distinct_lefts(
                    session,
                    kind="seller_buyer",
                    right_id="B-1",
                    metric="named",
                    except_lefts=["S-1"],
                ),
            )
            async with features.deferred_counters(session):
                await features.add_pairs(
                    session,
                    {
                        ("seller_buyer", "S-2", "B-2", "named"): 1,
                        ("seller_buyer", "S-3", "B-1", "named"): 1,
                        ("qc_agent_buyer", "A-1", "B-2", "contradicted"): 1,
                        ("qc_hub_buyer", "H-1", "B-3", "contradicted"): 1,
                    },
                )
                pending = (
                    await features.pair_counts(session, [("seller_buyer", "S-2", "B-2")]),
                    await features.repeats_by_left(
                        session,
                        lefts=[("qc_agent_buyer", "A-1"), ("qc_hub_buyer", "H-1")],
                        metric="contradicted",
                    ),
                    await features.distinct_lefts(
                        session, kind="seller_buyer", right_id="B-1", metric="named"
                    ),
                )

    assert before == (
        {
            ("seller_buyer", "S-1", "B-1"): {"named": 2, "delivered": 5},
            ("seller_buyer", "S-2", "B-2"): {"named": 1},
        },
        {("qc_agent_buyer", "A-1"): 2, ("qc_hub_buyer", "H-1"): 1},
        # S-1 and S-2 named B-1; S-3's count is 0.
        2,
        1,
    )
    assert pending == (
        {("seller_buyer", "S-2", "B-2"): {"named": 2}},
        # A-1's B-2 now repeats once; H-1's new buyer B-3 does not repeat.
        {("qc_agent_buyer", "A-1"): 3, ("qc_hub_buyer", "H-1"): 1},
        # S-3's pending claim makes it count.
        3,
    )


async def test_a_batchs_contradicting_buyers_are_read_once_and_follow_its_own_pairs(
    harness: Harness,
) -> None:
    kinds = ("qc_agent_buyer", "qc_hub_buyer")
    stored = {
        # B-1 contradicted agent A-1 at hub H-1, and was named with two sellers, once on A-1's
        # pass; B-2 contradicted A-2 and was named only there.
        ("qc_agent_buyer", "A-1", "B-1", "contradicted"): 1,
        ("qc_hub_buyer", "H-1", "B-1", "contradicted"): 1,
        ("qc_agent_buyer", "A-1", "B-1", "named"): 1,
        ("qc_hub_buyer", "H-1", "B-1", "named"): 1,
        ("seller_buyer", "S-1", "B-1", "named"): 1,
        ("seller_buyer", "S-2", "B-1", "named"): 1,
        ("qc_agent_buyer", "A-2", "B-2", "contradicted"): 1,
        ("qc_agent_buyer", "A-2", "B-2", "named"): 1,
        ("seller_buyer", "S-1", "B-2", "named"): 1,
        # B-3 was named once before, away from any pass; it contradicts A-2 in the batch below.
        ("seller_buyer", "S-3", "B-3", "named"): 1,
    }
    # The batch: B-3's claim on A-2's pass at H-1, then B-2 named again with another seller.
    first_claim = {
        ("qc_agent_buyer", "A-2", "B-3", "contradicted"): 1,
        ("qc_hub_buyer", "H-1", "B-3", "contradicted"): 1,
        ("qc_agent_buyer", "A-2", "B-3", "named"): 1,
        ("qc_hub_buyer", "H-1", "B-3", "named"): 1,
        ("seller_buyer", "S-1", "B-3", "named"): 1,
    }
    second_claim = {("seller_buyer", "S-4", "B-2", "named"): 1}
    async with fresh_fraud_db(harness, "test_fraud_contradicting_kept") as sessions:
        async with sessions() as session, session.begin():
            await features.add_pairs(session, stored)
        async with sessions() as session, session.begin():
            with statements_of(session) as statements:
                async with features.deferred_counters(session):
                    await features.add_pairs(session, first_claim)
                    after_first = await features.contradicting_buyers(
                        session, kinds=kinds, named_by="seller_buyer"
                    )
                    reads_first = len(statements)
                    await features.add_pairs(session, second_claim)
                    after_second = await features.contradicting_buyers(
                        session, kinds=kinds, named_by="seller_buyer"
                    )
                    reads_second = len(statements) - reads_first
        # Read afresh once everything is written: what the batch must have seen.
        async with sessions() as session:
            fresh = await features.contradicting_buyers(
                session, kinds=kinds, named_by="seller_buyer"
            )

    def by_pair(read: dict[str, list[tuple[str, str, int, int]]]) -> dict[tuple[str, ...], Any]:
        return {
            (k, left, right): (here, all_) for k, v in read.items() for left, right, here, all_ in v
        }

    assert (
        by_pair(after_second)
        == by_pair(fresh)
        == {
            ("qc_agent_buyer", "A-1", "B-1"): (1, 2),
            ("qc_hub_buyer", "H-1", "B-1"): (1, 2),
            ("qc_agent_buyer", "A-2", "B-2"): (1, 2),
            ("qc_agent_buyer", "A-2", "B-3"): (1, 2),
            ("qc_hub_buyer", "H-1", "B-3"): (1, 2),
        }
    )
    # Before B-2's second naming, the batch saw it named only on A-2's pass.
    assert by_pair(after_first)[("qc_agent_buyer", "A-2", "B-2")] == (1, 1)
    # One statement for the batch's first claim (the stored pairs and the new ones together),
    # none for a claim that contradicts no new pair.
    assert (reads_first, reads_second) == (1, 0)


async def test_a_batchs_contradicting_pairs_read_ahead_join_only_once_contradicted(
    harness: Harness,
) -> None:
    """`prefetch_contradicting` reads the stored contradicting pairs with the pairs a batch's
    claims will contradict, in one statement: each claim's `contradicting_buyers` then sends
    none, and answers what a batch reading them as it goes answers. A pair read ahead is not
    listed before the batch contradicts it, one read ahead but never contradicted is never
    listed, and a pair not read ahead is read when first contradicted."""
    kinds = ("qc_agent_buyer", "qc_hub_buyer")
    stored = {
        ("qc_agent_buyer", "A-1", "B-1", "contradicted"): 1,
        ("qc_agent_buyer", "A-1", "B-1", "named"): 1,
        ("seller_buyer", "S-1", "B-1", "named"): 1,
        ("seller_buyer", "S-3", "B-3", "named"): 2,  # B-3 named twice away from any pass
        ("qc_hub_buyer", "H-1", "B-3", "named"): 1,  # and once on H-1's pass, not contradicted
    }
    claims = [
        # B-3 contradicts A-2 and H-1 (read ahead).
        {
            ("qc_agent_buyer", "A-2", "B-3", "contradicted"): 1,
            ("qc_hub_buyer", "H-1", "B-3", "contradicted"): 1,
            ("seller_buyer", "S-1", "B-3", "named"): 1,
        },
        # B-1 named again with another seller; nothing new contradicted.
        {("seller_buyer", "S-4", "B-1", "named"): 1},
        # B-5 contradicts A-5, which nobody read ahead.
        {("qc_agent_buyer", "A-5", "B-5", "contradicted"): 1},
    ]
    ahead = [
        ("qc_agent_buyer", "A-2", "B-3"),
        ("qc_hub_buyer", "H-1", "B-3"),
        ("qc_agent_buyer", "A-9", "B-9"),  # read ahead, never contradicted
        ("qc_agent_buyer", "A-1", "B-1"),  # read ahead, already stored as contradicting
    ]

    async def batch(session: AsyncSession, up_front: bool) -> tuple[list[Any], list[int]]:
        answers: list[Any] = []
        sent_per_claim: list[int] = []
        async with features.deferred_counters(session):
            if up_front:
                with statements_of(session) as sent:
                    await features.prefetch_contradicting(
                        session, kinds=kinds, named_by="seller_buyer", pairs=ahead
                    )
                assert len(sent) == 1
            for claim in claims:
                await features.add_pairs(session, claim)
                with statements_of(session) as sent:
                    read = await features.contradicting_buyers(
                        session, kinds=kinds, named_by="seller_buyer"
                    )
                answers.append({k: sorted(v) for k, v in read.items()})
                sent_per_claim.append(len(sent))
        return answers, sent_per_claim

    async with fresh_fraud_db(harness, "test_fraud_contradicting_ahead") as sessions:
        async with sessions() as session, session.begin():
            await features.add_pairs(session, stored)
        async with sessions() as session:
            await session.begin()
            as_it_goes, as_it_goes_sent = await batch(session, up_front=False)
            await session.rollback()
        async with sessions() as session:
            await session.begin()
            kept, kept_sent = await batch(session, up_front=True)
            await session.rollback()
    assert kept == as_it_goes
    assert as_it_goes[0] == {
        "qc_agent_buyer": [("A-1", "B-1", 1, 1), ("A-2", "B-3", 0, 3)],
        "qc_hub_buyer": [("H-1", "B-3", 1, 3)],
    }
    assert ("A-9", "B-9", 0, 0) not in kept[2]["qc_agent_buyer"]
    assert ("A-5", "B-5", 0, 0) in kept[2]["qc_agent_buyer"]
    assert as_it_goes_sent == [1, 0, 1]
    # The first claim finds its pairs read ahead; B-5's pair was not.
    assert kept_sent == [0, 0, 1]


async def test_a_batchs_category_days_are_read_once_and_include_its_own_deliveries(
    harness: Harness,
) -> None:
    """`kept_window_totals` (a delivery's category value bins) reads a category's stored days
    once per deferred batch, again only for a window reaching past them, and adds the batch's
    pending increments at each call: every window equals `window_totals`' in the same batch."""
    bins = ["delivered_value_bin_120", "delivered_value_bin_130"]
    category = ("category", "home")
    stored = {
        (*category, bins[0], DAY - timedelta(3)): 4,
        (*category, bins[1], DAY - timedelta(1)): 2,
        (*category, bins[0], DAY + timedelta(1)): 1,  # past the first window
        ("category", "fashion", bins[0], DAY): 50,  # another category
    }
    windows = [
        (DAY - timedelta(3), DAY),
        (DAY - timedelta(2), DAY),  # inside the days read
        (DAY - timedelta(2), DAY + timedelta(1)),  # reaching past them: read again
        (DAY - timedelta(3), DAY + timedelta(1)),
    ]
    async with fresh_fraud_db(harness, "test_fraud_category_days_kept") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(session, stored)
        async with sessions() as session, session.begin():
            kept: list[dict[str, int]] = []
            direct: list[dict[str, int]] = []
            reads = 0
            async with features.deferred_counters(session):
                for i, (since, until) in enumerate(windows):
                    # The batch's own deliveries, before each read.
                    await features.add_counts(
                        session,
                        {
                            (*category, bins[i % 2], DAY): 1,
                            (*category, bins[0], DAY + timedelta(1)): 1,
                            (*category, bins[1], DAY - timedelta(9)): 1,  # before any window
                        },
                    )
                    with statements_of(session) as sent:
                        kept.append(
                            await features.kept_window_totals(session, category, bins, since, until)
                        )
                    reads += len(sent)
                    direct.append(
                        (await features.window_totals(session, [category], bins, since, until))[
                            category
                        ]
                    )
    assert kept == direct
    assert kept == [
        {bins[0]: 5, bins[1]: 2},
        {bins[0]: 1, bins[1]: 3},
        {bins[0]: 2 + 1 + 3, bins[1]: 2 + 1},
        {bins[0]: 4 + 2 + 1 + 4, bins[1]: 2 + 2},
    ]
    assert reads == 2  # the first window's days, then the days reaching past them


async def test_a_batchs_hub_and_agent_days_are_read_once_in_a_fresh_reads_order(
    harness: Harness,
) -> None:
    """`window_days` (the pilferage step's hubs and agents) keeps each entity's stored days for
    a deferred batch: the batch's terminal scans, read together up front, then find theirs
    without a statement, and a window reaching past the days kept reads again. Every answer is
    a fresh read's with the batch's pending increments added, in the same order (by metric, then
    day: the detector takes the first of equally bad days), so detection cannot change."""
    metrics = ["handled", "incidents"]
    hub, agent, other = ("hub", "H-1"), ("agent", "A-1"), ("hub", "H-2")
    stored = {
        (*hub, "handled", DAY - timedelta(5)): 9,
        (*hub, "handled", DAY - timedelta(2)): 4,
        (*hub, "incidents", DAY - timedelta(3)): 1,  # a day with incidents alone
        (*hub, "incidents", DAY - timedelta(2)): 2,
        (*agent, "handled", DAY - timedelta(1)): 3,
        (*agent, "incidents", DAY + timedelta(2)): 1,  # past the batch's first read
        (*other, "handled", DAY): 6,
    }

    async def fresh(
        session: AsyncSession, entities: list[features.Entity], since: date, until: date
    ) -> list[tuple[features.Entity, list[tuple[date, list[tuple[str, int]]]]]]:
        """The read without kept days: stored rows, then the pending increments."""
        out = await features._stored_days(session, entities, metrics, since, until)
        pending = features._pending(session)
        assert pending is not None
        for e, days in out.items():
            for (m, day), n in pending.of(e):
                if since <= day <= until and n:
                    days[day][m] = days[day].get(m, 0) + n
        return [(e, [(d, list(c.items())) for d, c in out[e].items()]) for e in entities]

    scans = [
        ([hub, agent], DAY - timedelta(4), DAY),
        ([agent, hub], DAY - timedelta(2), DAY),  # inside the days kept
        ([hub, other], DAY - timedelta(6), DAY),  # H-2 not read up front, H-1 earlier
        ([agent], DAY - timedelta(4), DAY + timedelta(2)),  # reaching past the days kept
    ]
    async with fresh_fraud_db(harness, "test_fraud_pilferage_days_kept") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(session, stored)
        async with sessions() as session, session.begin():
            async with features.deferred_counters(session):
                with statements_of(session) as up_front:
                    await features.window_days(
                        session, [hub, agent], metrics, DAY - timedelta(4), DAY
                    )
                reads: list[int] = []
                for i, (entities, since, until) in enumerate(scans):
                    # The batch's own scans before each read, one on a day nothing stored has.
                    await features.add_counts(
                        session,
                        {
                            (*hub, "incidents", DAY - timedelta(i)): 1,
                            (*agent, "handled", DAY - timedelta(i + 1)): 2,
                        },
                    )
                    with statements_of(session) as sent:
                        kept = await features.window_days(session, entities, metrics, since, until)
                    reads.append(len(sent))
                    assert [
                        (e, [(d, list(c.items())) for d, c in kept[e].items()]) for e in entities
                    ] == await fresh(session, entities, since, until)
    assert len(up_front) == 1
    assert reads == [0, 0, 1, 1]


async def test_a_batchs_claims_window_totals_and_pairs_are_read_up_front_as_fresh_reads_give_them(
    harness: Harness,
) -> None:
    """A deferred batch's claims' window totals (`prefetch_window_totals`: the days every
    claim's window holds summed, the edge days one by one) and their pairs with the lefts that
    named each buyer (`prefetch_pairs_and_lefts`) are read in one statement each; every later
    `window_totals`, `pair_counts` and `distinct_lefts` they serve sends none and answers what
    the same batch without the reads up front answers, the batch's pending increments
    included. A window they do not serve (a shorter one, a metric not read, an entity not
    read) reads as before."""
    metrics = ["claims", "delivered"]
    seller, buyer, other = ("seller", "S-1"), ("buyer", "B-1"), ("seller", "S-9")
    stored: dict[features.CountKey, int] = {
        (*seller, "claims", DAY - timedelta(30)): 1,  # before every window
        (*seller, "claims", DAY - timedelta(28)): 2,  # an edge: in the earliest window only
        (*seller, "delivered", DAY - timedelta(20)): 7,  # in every window
        (*seller, "delivered", DAY - timedelta(1)): 3,
        (*seller, "delivered", DAY - timedelta(7)): 2,  # in both recent windows
        (*seller, "delivered", DAY - timedelta(12)): 1,  # in the earlier recent window only
        (*seller, "claims", DAY + timedelta(2)): 4,  # an edge: in the latest window only
        (*buyer, "delivered", DAY - timedelta(10)): 5,
        (*buyer, "named_claims", DAY - timedelta(10)): 1,  # a metric not read up front
        # Cross pairs of the two lists: the seller's id as a buyer's, the buyer's as a seller's.
        ("buyer", "S-1", "claims", DAY): 50,
        ("seller", "B-1", "claims", DAY): 60,
        (*other, "claims", DAY): 8,
    }
    pairs = {
        ("seller_buyer", "S-1", "B-1", "named"): 2,
        ("seller_buyer", "S-1", "B-1", "delivered"): 5,
        ("seller_buyer", "S-2", "B-1", "named"): 1,
        ("seller_buyer", "S-3", "B-1", "named"): 0,
        ("seller_buyer", "S-1", "B-2", "named"): 9,  # a cross pair of the arrays
        ("agent_buyer", "A-1", "B-1", "disputed"): 1,
    }
    windows = [(DAY - timedelta(28), DAY), (DAY - timedelta(26), DAY + timedelta(2))]
    asks: list[tuple[list[features.Entity], list[str], date, date]] = [
        ([seller, buyer], metrics, *windows[0]),
        ([buyer, seller], metrics, *windows[1]),
        ([seller], ["claims"], DAY - timedelta(27), DAY + timedelta(1)),  # between the two
        ([seller], metrics, DAY - timedelta(10), DAY),  # a recent window, read as a span of its own
        ([seller], metrics, DAY - timedelta(5), DAY + timedelta(1)),  # short of the days held
        ([buyer], ["named_claims"], *windows[0]),  # a metric not read up front
        ([seller, other], metrics, *windows[0]),  # an entity not read up front
    ]
    pair_keys = [("seller_buyer", "S-1", "B-1"), ("agent_buyer", "A-1", "B-1")]

    async def batch(session: AsyncSession, up_front: bool) -> tuple[list[Any], list[int], int]:
        answers: list[Any] = []
        sent_per_ask: list[int] = []
        async with features.deferred_counters(session):
            with statements_of(session) as read_up_front:
                if up_front:
                    await features.prefetch_window_totals(
                        session,
                        [(e, *w) for w in windows for e in (seller, buyer)],
                        metrics,
                        # Two claims' recent weeks: the days both hold summed, the edges apart.
                        shorter=(
                            [
                                (seller, DAY - timedelta(10), DAY),
                                (seller, DAY - timedelta(14), DAY - timedelta(4)),
                            ],
                            metrics,
                        ),
                    )
                    await features.prefetch_pairs_and_lefts(
                        session, pair_keys, kind="seller_buyer", right_ids=["B-1"], metric="named"
                    )
            for i, (entities, wanted, since, until) in enumerate(asks):
                # The batch's own events before each read, one on a day nothing stored has.
                await features.add_counts(
                    session,
                    {
                        (*seller, "claims", DAY - timedelta(i)): 1,
                        (*buyer, "delivered", DAY - timedelta(27)): 1,
                    },
                )
                await features.add_pairs(
                    session,
                    {
                        ("seller_buyer", "S-1", "B-1", "named"): 1,
                        ("seller_buyer", f"S-{3 + i}", "B-1", "named"): 1,
                    },
                )
                with statements_of(session) as sent:
                    answers.append(
                        await features.window_totals(session, entities, wanted, since, until)
                    )
                    answers.append(await features.pair_counts(session, pair_keys))
                    answers.append(
                        await features.distinct_lefts(
                            session,
                            kind="seller_buyer",
                            right_id="B-1",
                            metric="named",
                            except_lefts=["S-2"],
                        )
                    )
                sent_per_ask.append(len(sent))
        return answers, sent_per_ask, len(read_up_front)

    async with fresh_fraud_db(harness, "test_fraud_claims_read_up_front") as sessions:
        async with sessions() as session, session.begin():
            await features.add_counts(session, stored)
            await features.add_pairs(session, pairs)
        # Both batches rolled back: each starts from the stored counts alone.
        async with sessions() as session:
            await session.begin()
            fresh, fresh_sent, _ = await batch(session, up_front=False)
            await session.rollback()
        async with sessions() as session:
            await session.begin()
            kept, kept_sent, read_up_front = await batch(session, up_front=True)
            await session.rollback()
    assert kept == fresh
    assert fresh[0] == {seller: {"claims": 2 + 1, "delivered": 13}, buyer: {"delivered": 6}}
    # The recent window: four of the batch's own claims, two stored deliveries.
    assert fresh[9] == {seller: {"claims": 4, "delivered": 5}}
    assert fresh_sent == [3] * len(asks)  # a window, the pairs, the lefts: one each
    assert read_up_front == 2
    # Served: no statement, the recent window too; a window neither span serves, the metric
    # not read, the entity not read: one.
    assert kept_sent == [0, 0, 0, 0, 1, 1, 1]


async def test_a_batchs_repeats_by_left_read_each_left_once_as_fresh_reads_give_them(
    harness: Harness,
) -> None:
    """`repeats_by_left` keeps each left's stored pairs for a deferred batch: a later call reads
    only the lefts not read yet (none: no statement), and answers what a batch reading every
    time answers, the pending increments included."""
    stored = {
        ("qc_agent_buyer", "A-1", "B-1", "contradicted"): 3,
        ("qc_agent_buyer", "A-1", "B-2", "contradicted"): 1,
        ("qc_agent_buyer", "A-2", "B-1", "contradicted"): 2,
        ("qc_hub_buyer", "H-1", "B-1", "contradicted"): 2,
        ("qc_hub_buyer", "A-1", "B-1", "contradicted"): 7,  # a hub's kind with an agent's id
    }
    asks = [
        [("qc_agent_buyer", "A-1"), ("qc_hub_buyer", "H-1")],
        [("qc_agent_buyer", "A-1"), ("qc_agent_buyer", "A-2"), ("qc_agent_buyer", "A-3")],
        [("qc_hub_buyer", "H-1"), ("qc_agent_buyer", "A-2")],
    ]

    async def batch(session: AsyncSession) -> tuple[list[Any], list[int]]:
        answers: list[Any] = []
        sent_per_ask: list[int] = []
        async with features.deferred_counters(session):
            for i, lefts in enumerate(asks):
                await features.add_pairs(
                    session,
                    {
                        ("qc_agent_buyer", "A-1", "B-2", "contradicted"): 1,
                        ("qc_agent_buyer", f"A-{i + 1}", "B-9", "contradicted"): 2,
                    },
                )
                with statements_of(session) as sent:
                    answers.append(
                        await features.repeats_by_left(session, lefts=lefts, metric="contradicted")
                    )
                sent_per_ask.append(len(sent))
        return answers, sent_per_ask

    async with fresh_fraud_db(harness, "test_fraud_repeats_kept") as sessions:
        async with sessions() as session, session.begin():
            await features.add_pairs(session, stored)
        async with sessions() as session:
            await session.begin()
            kept, kept_sent = await batch(session)
            await session.rollback()  # the batch's increments, written at its end
        async with sessions() as session:
            await session.begin()
            fresh = []
            for i, lefts in enumerate(asks):  # each read afresh, with the same pending counts
                increments: dict[features.PairKey, int] = {}
                for j in range(i + 1):
                    increments[("qc_agent_buyer", "A-1", "B-2", "contradicted")] = j + 1
                    increments[("qc_agent_buyer", f"A-{j + 1}", "B-9", "contradicted")] = 2
                async with features.deferred_counters(session):
                    await features.add_pairs(session, increments)
                    fresh.append(
                        await features.repeats_by_left(session, lefts=lefts, metric="contradicted")
                    )
                    features._pending(session).pairs.clear()  # type: ignore[union-attr]
            await session.rollback()
    assert kept == fresh
    # A-1: B-1's 3 stored (2 repeats), B-2's 1 + 1 pending (1), B-9's 2 pending (1).
    assert kept[0] == {("qc_agent_buyer", "A-1"): 4, ("qc_hub_buyer", "H-1"): 1}
    assert kept_sent == [1, 1, 0]  # not read before; then everything kept
