"""Every SQL statement of the feature store. Counters are upserts (`n = n + excluded.n`), so each
event's increments cost one statement whatever their number.

Inside `deferred_counters` (a consumer batch) the increments are kept in the session and written
once, in key order, when the batch ends, and every read adds them meanwhile: the batch sees what
it would have seen with each write made at once, and the counter rows every replica touches
(a partner's, a hub's, a category's) are locked only from that last write to the commit, not
for the whole batch, so replicas on other partitions do not queue behind each other."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    String,
    TextClause,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.fraud.models import (
    EvidenceFingerprintRow,
    FeatureCount,
    IdentityLink,
    PairCount,
    ReturnFacts,
)
from shared.db import table_of, write_changes
from shared.events import ShipmentEventType
from shared.unit_of_work import unit_of

Entity = tuple[str, str]
CountKey = tuple[str, str, str, date]  # entity_type, entity_id, metric, day
PairKey = tuple[str, str, str, str]  # kind, left, right, metric


_FACTS_OF = select(ReturnFacts).where(
    ReturnFacts.return_id == any_(bindparam("return_ids", type_=ARRAY(String)))
)


@dataclass(slots=True)
class _KnownFacts:
    """The facts a session has read or added, and the returns it found to have none yet."""

    facts: dict[str, ReturnFacts] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)


async def prefetch_facts(
    session: AsyncSession, return_ids: Iterable[str]
) -> Mapping[str, ReturnFacts]:
    """Read the facts of a consumer batch's returns in one statement, so that the batch's events
    find them (or that there are none yet) in the session's cache instead of one read each.
    Returns the session's facts by return id."""
    known = unit_of(session).get(_KnownFacts)
    cached = known.facts
    wanted = {r for r in return_ids if r and r not in cached}
    if wanted:
        for facts in await session.scalars(_FACTS_OF, {"return_ids": sorted(wanted)}):
            cached[facts.return_id] = facts
        known.absent.update(wanted - cached.keys())
    return cached


async def get_facts(session: AsyncSession, return_id: str) -> ReturnFacts | None:
    """The return's facts; a row created earlier in this transaction but not flushed yet is
    found in the session's own cache (scoring runs without autoflush), as is what
    `prefetch_facts` read."""
    known = unit_of(session).get(_KnownFacts)
    cached = known.facts
    if return_id in cached:
        return cached[return_id]
    if return_id in known.absent:
        return None
    facts = await session.get(ReturnFacts, return_id)
    if facts is not None:
        cached[return_id] = facts
    return facts


async def latest_claim_naming(session: AsyncSession, buyer_id: str) -> datetime | None:
    """When the latest claim on a return of the buyer's was filed, this transaction's claims
    (kept in the session's facts, not flushed) among them; None when it has none."""
    stored = await session.scalar(
        select(func.max(ReturnFacts.claimed_at)).where(ReturnFacts.buyer_id == buyer_id)
    )
    pending = [
        f.claimed_at
        for f in unit_of(session).get(_KnownFacts).facts.values()
        if f.buyer_id == buyer_id and f.claimed_at is not None
    ]
    return max([*pending, *([stored] if stored is not None else [])], default=None)


async def prefetch_deliveries(session: AsyncSession, sellers: Mapping[str, datetime]) -> None:
    """Read, in one statement, the returns delivered to each of a deferred batch's claims'
    sellers since the time given for it (a claim window back from its earliest claim), kept
    for `deliveries_since`. Outside a deferred batch nothing is kept."""
    pending = _pending(session)
    if pending is None or not sellers:
        return
    wanted = {
        s: at
        for s, at in sellers.items()
        if s not in pending.kept_deliveries or pending.kept_deliveries[s][0] > at
    }
    if not wanted:
        return
    kept: dict[str, list[ReturnFacts]] = {s: [] for s in wanted}
    for f in await session.scalars(
        select(ReturnFacts).where(
            ReturnFacts.seller_id == any_(bindparam("sellers", type_=ARRAY(String))),
            ReturnFacts.terminal == ShipmentEventType.DELIVERED_TO_SELLER.value,
            ReturnFacts.terminal_at >= min(wanted.values()),
        ),
        {"sellers": sorted(wanted)},
    ):
        if f.seller_id in kept:
            kept[f.seller_id].append(f)
    for s, at in wanted.items():
        pending.kept_deliveries[s] = (at, kept[s])


async def deliveries_since(
    session: AsyncSession, seller_id: str, since: datetime
) -> list[ReturnFacts]:
    """The seller's returns delivered to it since `since` (a claim window's length back: a
    few days of one seller's deliveries), this transaction's facts (kept in the session, not
    flushed) among them, as `returns_touched` reads them. In a deferred batch whose claims'
    sellers were read up front (`prefetch_deliveries`), from that read: the stored rows are
    the session's own objects, so what the batch changed in them is seen."""
    delivered = ShipmentEventType.DELIVERED_TO_SELLER.value
    pending = _pending(session)
    kept = pending.kept_deliveries.get(seller_id) if pending is not None else None
    if kept is not None and kept[0] <= since:
        stored = kept[1]
    else:
        stored = list(
            await session.scalars(
                select(ReturnFacts).where(
                    ReturnFacts.seller_id == seller_id,
                    ReturnFacts.terminal == delivered,
                    ReturnFacts.terminal_at >= since,
                )
            )
        )
    found = {
        f.return_id: f
        for f in stored
        if f.terminal == delivered and f.terminal_at is not None and f.terminal_at >= since
    }
    for f in unit_of(session).get(_KnownFacts).facts.values():
        if (
            f.seller_id == seller_id
            and f.terminal == delivered
            and f.terminal_at is not None
            and f.terminal_at >= since
        ):
            found.setdefault(f.return_id, f)
    return list(found.values())


async def pair_orders(session: AsyncSession, seller_id: str, buyer_id: str) -> list[ReturnFacts]:
    """The returns of one buyer to one seller whose order holds another of them (a multi-item
    order returned together), over their whole history as the pair's counts are kept, this
    transaction's facts (kept in the session, not flushed) among them. Read by the buyer's
    index; a buyer's returns to one seller are few."""
    return await _shared_orders_of(session, buyer_id, ReturnFacts.seller_id, seller_id)


async def agent_pair_orders(
    session: AsyncSession, agent_id: str, buyer_id: str
) -> list[ReturnFacts]:
    """`pair_orders` for a pickup agent and a buyer: the buyer's returns the agent picked up
    whose order holds another of them."""
    return await _shared_orders_of(session, buyer_id, ReturnFacts.pickup_agent_id, agent_id)


async def _shared_orders_of(
    session: AsyncSession, buyer_id: str, column: InstrumentedAttribute[str | None], value: str
) -> list[ReturnFacts]:
    stored = await session.scalars(
        select(ReturnFacts).where(
            ReturnFacts.buyer_id == buyer_id,
            column == value,
            ReturnFacts.order_id.is_not(None),
        )
    )
    found = {f.return_id: f for f in stored}
    for f in unit_of(session).get(_KnownFacts).facts.values():
        if f.buyer_id == buyer_id and getattr(f, column.key) == value and f.order_id is not None:
            found[f.return_id] = f
    per_order = Counter(f.order_id for f in found.values())
    return [f for f in found.values() if per_order[f.order_id] > 1]


async def identity_orders(
    session: AsyncSession, hash_kind: str, hash_value: str, since: datetime
) -> list[ReturnFacts]:
    """The returns behind one contact or address hash (`hash_kind` "contact" or "address"),
    delivered or claimed at `since` or later, whose order holds another of them (a multi-item
    order returned together), this transaction's facts (kept in the session, not flushed) among
    them. Read by the hash's own index: an address may stand behind many accounts."""
    column = ReturnFacts.contact_hash if hash_kind == "contact" else ReturnFacts.address_hash
    stored = await session.scalars(
        select(ReturnFacts).where(
            column == hash_value,
            ReturnFacts.order_id.is_not(None),
            or_(ReturnFacts.terminal_at >= since, ReturnFacts.claimed_at >= since),
        )
    )
    found = {f.return_id: f for f in stored}
    for f in unit_of(session).get(_KnownFacts).facts.values():
        if getattr(f, column.key) == hash_value and f.order_id is not None:
            found[f.return_id] = f
    per_order = Counter(f.order_id for f in found.values())
    return [f for f in found.values() if per_order[f.order_id] > 1]


async def shared_orders(
    session: AsyncSession, seller_id: str, since: datetime
) -> list[ReturnFacts]:
    """The seller's returns delivered to it since `since` whose order holds another of its
    returns delivered since then (a multi-item order returned together), this transaction's
    facts (kept in the session, not flushed) among them. One statement over the seller's
    orders in the window; a seller's multi-item orders are few of its returns."""
    delivered = ShipmentEventType.DELIVERED_TO_SELLER.value
    pending = [
        f
        for f in unit_of(session).get(_KnownFacts).facts.values()
        if f.seller_id == seller_id
        and f.order_id is not None
        and f.terminal == delivered
        and f.terminal_at is not None
        and f.terminal_at >= since
    ]
    mine = [
        ReturnFacts.seller_id == seller_id,
        ReturnFacts.terminal == delivered,
        ReturnFacts.terminal_at >= since,
        ReturnFacts.order_id.is_not(None),
    ]
    shared = (
        select(ReturnFacts.order_id)
        .where(*mine)
        .group_by(ReturnFacts.order_id)
        .having(func.count() > 1)
    )
    # An order one of whose items this transaction delivered may have one stored item only.
    wanted = or_(
        ReturnFacts.order_id.in_(shared),
        ReturnFacts.order_id == any_(bindparam("pending_orders", type_=ARRAY(String))),
    )
    stored = await session.scalars(
        select(ReturnFacts).where(*mine, wanted),
        {"pending_orders": sorted({f.order_id for f in pending if f.order_id})},
    )
    found = {
        f.return_id: f
        for f in stored
        if f.terminal == delivered and f.terminal_at is not None and f.terminal_at >= since
    }
    for f in pending:
        found[f.return_id] = f
    return list(found.values())


async def claim_delays(
    session: AsyncSession, since: datetime, until: datetime, *, leave_out: Sequence[str]
) -> list[float]:
    """The hours after delivery of every claim filed from `since` to `until` on a return
    delivered to its seller, but those of the sellers in `leave_out`: when the market's
    claims come. One statement over the window's claims; rows not written yet are left out
    (a batch's few among thousands)."""
    delivered = ShipmentEventType.DELIVERED_TO_SELLER.value
    where = [
        ReturnFacts.terminal == delivered,
        ReturnFacts.claimed_at >= since,
        ReturnFacts.claimed_at <= until,
        ReturnFacts.claimed_at >= ReturnFacts.terminal_at,
    ]
    if leave_out:
        where.append(
            or_(
                ReturnFacts.seller_id.is_(None),
                ~(ReturnFacts.seller_id == any_(bindparam("leave_out", type_=ARRAY(String)))),
            )
        )
    rows = await session.execute(
        select(ReturnFacts.terminal_at, ReturnFacts.claimed_at).where(*where),
        {"leave_out": list(leave_out)} if leave_out else {},
    )
    return [(c - d).total_seconds() / 3600 for d, c in rows if d is not None and c is not None]


async def counted_claim_after(session: AsyncSession, seller_id: str, at: datetime) -> bool:
    """Whether a claim of the seller's filed after `at` counts in its rates (its return
    delivered to it, `service.count_claim_scans`), this transaction's facts (kept in the
    session, not flushed) among them. The seller's claims after `at` are few: the rows are
    read whole and judged as the session holds them (a delivery counted in this batch)."""
    rows = await session.scalars(
        select(ReturnFacts).where(ReturnFacts.seller_id == seller_id, ReturnFacts.claimed_at > at)
    )
    candidates = {f.return_id: f for f in rows}
    for f in unit_of(session).get(_KnownFacts).facts.values():
        candidates.setdefault(f.return_id, f)
    return any(
        f.seller_id == seller_id
        and f.claimed_at is not None
        and f.claimed_at > at
        and f.terminal == ShipmentEventType.DELIVERED_TO_SELLER.value
        for f in candidates.values()
    )


@dataclass(slots=True)
class _LatestCountedClaims:
    """Each seller's latest counted claim as stored when the transaction read it up front
    (`prefetch_latest_counted_claims`), None for a seller with none."""

    stored: dict[str, ReturnFacts | None] = field(default_factory=dict)


# Per seller, the index on (seller_id, claimed_at) walked back to its first delivered claim.
_LATEST_COUNTED_OF = select(ReturnFacts).from_statement(
    text("""
SELECT c.* FROM unnest(:sellers) AS s(seller_id)
CROSS JOIN LATERAL (
    SELECT * FROM return_facts r
    WHERE r.seller_id = s.seller_id AND r.claimed_at IS NOT NULL AND r.terminal = :delivered
    ORDER BY r.claimed_at DESC
    LIMIT 1
) AS c""").bindparams(
        bindparam("sellers", type_=ARRAY(String)),
        bindparam("delivered", value=ShipmentEventType.DELIVERED_TO_SELLER.value),
    )
)


async def prefetch_latest_counted_claims(session: AsyncSession, sellers: Iterable[str]) -> None:
    """Read, in one statement, the latest counted claim of each of `sellers` as stored, kept for
    the transaction's `latest_counted_claim`: a consumer batch's deliveries then find their
    sellers' there instead of one read each. The rows are the session's own objects, and the
    session's facts are judged with them, so what the batch counts after this read is seen."""
    kept = unit_of(session).get(_LatestCountedClaims).stored
    wanted = sorted({s for s in sellers if s and s not in kept})
    if not wanted:
        return
    found = {f.seller_id: f for f in await session.scalars(_LATEST_COUNTED_OF, {"sellers": wanted})}
    for s in wanted:
        kept[s] = found.get(s)


async def latest_counted_claim(session: AsyncSession, seller_id: str) -> ReturnFacts | None:
    """The seller's latest claim by filing time that counts in its rates (its return delivered
    to it, `service.count_claim_scans`), this transaction's facts among them; None when none
    counts yet. A claim whose delivery is still unknown counts for nothing, so the seller's
    record as its rates hold it ends at this one. A seller read up front
    (`prefetch_latest_counted_claims`) is not read again."""
    delivered = ShipmentEventType.DELIVERED_TO_SELLER.value
    kept = unit_of(session).get(_LatestCountedClaims).stored
    if seller_id in kept:
        stored = kept[seller_id]
    else:
        stored = await session.scalar(
            select(ReturnFacts)
            .where(
                ReturnFacts.seller_id == seller_id,
                ReturnFacts.claimed_at.is_not(None),
                ReturnFacts.terminal == delivered,
            )
            .order_by(ReturnFacts.claimed_at.desc())
            .limit(1)
        )
    # The session's own facts may be newer than the row read (a delivery counted in this
    # batch, not flushed): they are judged as the session holds them.
    candidates = [
        f
        for f in [*unit_of(session).get(_KnownFacts).facts.values(), stored]
        if f is not None
        and f.seller_id == seller_id
        and f.claimed_at is not None
        and f.terminal == delivered
    ]
    return max(candidates, key=lambda f: f.claimed_at or datetime.min, default=None)


async def returns_touched(
    session: AsyncSession,
    *,
    seller_id: str | None = None,
    category: str | None = None,
    delivered_since: datetime,
    buyers: Sequence[str],
    agents: Sequence[str],
    hubs: Sequence[str],
    light: bool = False,
) -> list[ReturnFacts]:
    """The returns of a seller (`seller_id`) or of a category's sellers (`category`) delivered
    since `delivered_since` that one of `buyers` returned, one of `agents` picked up or passed
    at QC, or that passed one of `hubs`, and with `light` every one delivered light (an
    incident): the returns other parties' fraud or the parcel's own weights may explain
    (`detectors.claim_abuse.explained_by` decides). One statement; the batch's rows not written
    yet come from the session's cache, as `get_facts` finds them."""
    touched: list[ColumnElement[bool]] = []
    if light:
        touched.append(ReturnFacts.incident.is_(True))
    if buyers:
        touched.append(ReturnFacts.buyer_id == any_(bindparam("buyers", type_=ARRAY(String))))
    if agents:
        array = bindparam("agents", type_=ARRAY(String))
        touched += [
            ReturnFacts.pickup_agent_id == any_(array),
            ReturnFacts.qc_agent_id == any_(array),
        ]
    if hubs:
        touched += [
            ReturnFacts.qc_hub_id == any_(bindparam("hubs", type_=ARRAY(String))),
            ReturnFacts.hubs.op("?|")(bindparam("hub_keys", type_=ARRAY(String))),
        ]
    if not touched or (seller_id is None and category is None):
        return []
    whose = (
        ReturnFacts.seller_id == seller_id
        if seller_id is not None
        else ReturnFacts.category == category
    )
    found = {
        f.return_id: f
        for f in await session.scalars(
            select(ReturnFacts).where(
                whose, ReturnFacts.terminal_at >= delivered_since, or_(*touched)
            ),
            {
                "buyers": list(buyers),
                "agents": list(agents),
                "hubs": list(hubs),
                "hub_keys": list(hubs),
            },
        )
    }
    for facts in unit_of(session).get(_KnownFacts).facts.values():
        mine = facts.seller_id == seller_id if seller_id is not None else facts.category == category
        if mine and facts.return_id not in found:
            found[facts.return_id] = facts
    return list(found.values())


def add_facts(session: AsyncSession, facts: ReturnFacts) -> None:
    session.add(facts)
    unit_of(session).get(_KnownFacts).facts[facts.return_id] = facts


# Each event's counters cost one statement of a fixed shape for any number of rows (arrays
# unnested): compiled once and prepared once, where a multi-row VALUES of a varying length is
# compiled again for every event.
_COUNT_COLUMNS = (
    ("entity_type", "varchar"),
    ("entity_id", "varchar"),
    ("metric", "varchar"),
    ("day", "date"),
    ("n", "integer"),
)
_PAIR_COLUMNS = (
    ("kind", "varchar"),
    ("left_id", "varchar"),
    ("right_id", "varchar"),
    ("metric", "varchar"),
    ("n", "integer"),
)


def _counter_upsert(table: str, columns: Sequence[tuple[str, str]]) -> TextClause:
    """Add each row's `n` to its counter (the other columns are the key), creating it at 0."""
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"CAST(:{name} AS {sql_type}[])" for name, sql_type in columns)
    key = ", ".join(name for name, _ in columns[:-1])
    return text(
        f"INSERT INTO {table} AS c ({names}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({key}) DO UPDATE SET n = c.n + excluded.n"
    )


_ADD_COUNTS = _counter_upsert(FeatureCount.__tablename__, _COUNT_COLUMNS)
_ADD_PAIRS = _counter_upsert(PairCount.__tablename__, _PAIR_COLUMNS)


async def _add(
    session: AsyncSession,
    statement: TextClause,
    columns: Sequence[tuple[str, str]],
    increments: Mapping[Any, int],
) -> None:
    rows = [(*key, n) for key, n in increments.items() if n]
    if rows:
        arrays = zip(*rows, strict=True)  # one array per column
        await session.execute(
            statement,
            {name: list(values) for (name, _), values in zip(columns, arrays, strict=True)},
        )


class _Pending:
    """Increments of a deferred batch, not yet written (a part of the transaction's unit of
    work, shared/unit_of_work.py)."""

    def __init__(self) -> None:
        self.counts: dict[CountKey, int] = defaultdict(int)
        # The same increments by entity, in the order they were first made: a window read adds
        # its own entities' increments without going through the whole batch's (a delivery's
        # category read went through every pending counter of the batch, each against 256
        # metric names).
        self.by_entity: dict[Entity, dict[tuple[str, date], int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.pairs: dict[PairKey, int] = defaultdict(int)
        # The batch's read of the stored contradicting pairs (`contradicting_buyers`).
        self.contradicting: _ContradictingRead | None = None
        # The batch's reads of stored days (`kept_window_totals`), by entity and metrics.
        self.kept_days: dict[tuple[Entity, tuple[str, ...]], _KeptDays] = {}
        # The batch's claims' window totals read up front (`prefetch_window_totals`), a span
        # per set of windows read (the long window's, the seller's recent weeks').
        self.kept_totals: dict[Entity, list[_KeptTotals]] = {}
        # Stored pair counts read up front (`prefetch_pairs_and_lefts`), every metric;
        # a pair without rows is kept empty.
        self.kept_pairs: dict[tuple[str, str, str], dict[str, int]] = {}
        # Each left's rights with a metric (`repeats_by_left`), by (kind, left, metric).
        self.kept_repeats: dict[tuple[str, str, str], dict[str, int]] = {}
        # Each right's lefts with a metric (`distinct_lefts`), by (kind, right, metric).
        self.kept_lefts: dict[tuple[str, str, str], dict[str, int]] = {}
        # The batch's claims' sellers' deliveries read up front (`prefetch_deliveries`): each
        # seller's returns delivered since the time kept with them.
        self.kept_deliveries: dict[str, tuple[datetime, list[ReturnFacts]]] = {}

    def add(self, increments: Mapping[CountKey, int]) -> None:
        for key, n in increments.items():
            self.counts[key] += n
            t, i, m, day = key
            self.by_entity[(t, i)][(m, day)] += n

    def of(self, entity: Entity) -> Iterable[tuple[tuple[str, date], int]]:
        """The entity's pending increments as ((metric, day), n), without creating an entry."""
        found = self.by_entity.get(entity)
        return found.items() if found is not None else ()


@dataclass(slots=True)
class _KeptDays:
    """An entity's stored counts per day from `since` to `until`, as a deferred batch read them:
    the table does not change under the batch (its increments wait in `_Pending`)."""

    since: date
    until: date
    days: dict[date, dict[str, int]]


@dataclass(slots=True)
class _KeptTotals:
    """An entity's stored counts as a deferred batch read them for its claims' windows: summed
    over `core` (the days every claim's window holds) and day by day over the rest of the
    span from `since` to `until` (the edges, where the windows differ). A window from `since`
    or later to `until` or earlier that holds the core is the core's sums and its edge days;
    the table does not change under the batch (its increments wait in `_Pending`)."""

    metrics: frozenset[str]
    since: date
    until: date
    # None when the windows share no day: then every day is an edge.
    core: tuple[date, date] | None
    core_totals: dict[str, int]
    edges: dict[date, dict[str, int]]

    def serves(self, metrics: Iterable[str], since: date, until: date) -> bool:
        return (
            self.since <= since
            and until <= self.until
            and (self.core is None or (since <= self.core[0] and self.core[1] <= until))
            and self.metrics.issuperset(metrics)
        )

    def totals(self, metrics: Iterable[str], since: date, until: date) -> dict[str, int]:
        """The window's stored totals, with a metric wherever a fresh read would have it (a
        stored row in the window)."""
        wanted = set(metrics)
        out = {m: n for m, n in self.core_totals.items() if m in wanted}
        for day, counts in self.edges.items():
            if since <= day <= until:
                for m, n in counts.items():
                    if m in wanted:
                        out[m] = out.get(m, 0) + n
        return out


def _pending(session: AsyncSession) -> _Pending | None:
    return unit_of(session).find(_Pending)


def in_deferred_batch(session: AsyncSession) -> bool:
    """Whether the session is inside `deferred_counters`: only there are reads kept."""
    return _pending(session) is not None


@asynccontextmanager
async def deferred_counters(session: AsyncSession) -> AsyncIterator[None]:
    """Keep the counter increments made inside in the session; write them when the block ends
    (not when it raises: the transaction is rolled back then anyway), with the returns' facts
    the block changed: one array UPDATE per set of changed columns (`shared.db.write_changes`)
    where the flush at commit sent an UPDATE per row, executed by PostgreSQL row by row."""
    if _pending(session) is not None:  # nested: the outer block writes
        yield
        return
    pending = _Pending()
    unit_of(session).put(pending)
    try:
        yield
        unit_of(session).pop(_Pending)
        # Before the counters: their statement would flush the facts first, row by row.
        await write_changes(session, unit_of(session).get(_KnownFacts).facts.values())
        # Sorted: every replica locks shared rows in one order, so two batches never deadlock.
        await _add(session, _ADD_COUNTS, _COUNT_COLUMNS, dict(sorted(pending.counts.items())))
        await _add(session, _ADD_PAIRS, _PAIR_COLUMNS, dict(sorted(pending.pairs.items())))
    finally:
        unit_of(session).pop(_Pending)


async def add_counts(session: AsyncSession, increments: Mapping[CountKey, int]) -> None:
    pending = _pending(session)
    if pending is None:
        await _add(session, _ADD_COUNTS, _COUNT_COLUMNS, increments)
    else:
        pending.add(increments)
    _count_into_reads(session, increments)


async def add_pairs(session: AsyncSession, increments: Mapping[PairKey, int]) -> None:
    pending = _pending(session)
    if pending is None:
        await _add(session, _ADD_PAIRS, _PAIR_COLUMNS, increments)
        return
    for key, n in increments.items():
        pending.pairs[key] += n


# Reads of a fixed shape as well: the entities travel as arrays, so each statement is prepared
# once per connection however many entities an event touches. The types and the ids are two
# independent `= ANY` conditions on the primary key's leading columns, not a join with the
# (type, id) pairs: a condition only the index serves, so the plan is an index scan whatever
# the table's statistics. The join was planned as a sequential scan while the table was young
# and never analysed, and the prepared statement kept that plan as the table grew (11.5 ms at
# 1,900 rows, 88 ms at 38,000, against 0.1 ms; bench-results/pfraud-20261204c/plans.py). The
# cross pairs the two lists also match (a type with another entity's id) are dropped on
# reading. The days come in the index's order, whatever the plan: the pilferage detector takes
# the first of equally bad days in that order (`pilferage.counted_from_each`).
_WINDOW_TOTALS = text(f"""
    SELECT f.entity_type, f.entity_id, f.metric, sum(f.n)
    FROM {FeatureCount.__tablename__} AS f
    WHERE f.entity_type = ANY(CAST(:entity_types AS varchar[]))
      AND f.entity_id = ANY(CAST(:entity_ids AS varchar[]))
      AND f.metric = ANY(CAST(:metrics AS varchar[])) AND f.day BETWEEN :since AND :until
    GROUP BY f.entity_type, f.entity_id, f.metric
""")
_WINDOW_DAYS = text(f"""
    SELECT f.entity_type, f.entity_id, f.day, f.metric, f.n
    FROM {FeatureCount.__tablename__} AS f
    WHERE f.entity_type = ANY(CAST(:entity_types AS varchar[]))
      AND f.entity_id = ANY(CAST(:entity_ids AS varchar[]))
      AND f.metric = ANY(CAST(:metrics AS varchar[])) AND f.day BETWEEN :since AND :until
    ORDER BY f.entity_type, f.entity_id, f.metric, f.day
""")
# Every entity of one type whose id starts with a prefix ("%" alone for all): the peers of a
# baseline. One type per statement keeps the plan an index range scan on the type.
_ENTITY_TOTALS = text(f"""
    SELECT entity_id, metric, sum(n) FROM {FeatureCount.__tablename__}
    WHERE entity_type = :entity_type AND entity_id LIKE :pattern
      AND metric = ANY(CAST(:metrics AS varchar[])) AND day BETWEEN :since AND :until
    GROUP BY entity_id, metric
""")


def _entity_arrays(keys: Sequence[Entity]) -> dict[str, list[str]]:
    return {
        "entity_types": sorted({t for t, _ in keys}),
        "entity_ids": sorted({i for _, i in keys}),
    }


# A deferred batch's claims' windows in one read (`prefetch_window_totals`): for each of two
# sets of windows (`a_`, `b_`; the second empty when there is none), the days inside every
# window of the set (`core_since` to `core_until`) summed, the days of its span outside them one
# by one (their `day`; NULL for the core's sums), told apart by the first column. The same
# conditions as `_WINDOW_TOTALS`.
_SPAN_TOTALS = text(f"""
    SELECT 0, f.entity_type, f.entity_id, f.metric,
           CASE WHEN f.day BETWEEN :a_core_since AND :a_core_until THEN NULL ELSE f.day END,
           sum(f.n)
    FROM {FeatureCount.__tablename__} AS f
    WHERE f.entity_type = ANY(CAST(:a_entity_types AS varchar[]))
      AND f.entity_id = ANY(CAST(:a_entity_ids AS varchar[]))
      AND f.metric = ANY(CAST(:a_metrics AS varchar[])) AND f.day BETWEEN :a_since AND :a_until
    GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT 1, f.entity_type, f.entity_id, f.metric,
           CASE WHEN f.day BETWEEN :b_core_since AND :b_core_until THEN NULL ELSE f.day END,
           sum(f.n)
    FROM {FeatureCount.__tablename__} AS f
    WHERE f.entity_type = ANY(CAST(:b_entity_types AS varchar[]))
      AND f.entity_id = ANY(CAST(:b_entity_ids AS varchar[]))
      AND f.metric = ANY(CAST(:b_metrics AS varchar[])) AND f.day BETWEEN :b_since AND :b_until
    GROUP BY 1, 2, 3, 4, 5
""")

Window = tuple[Entity, date, date]
# The days of a set of windows with no entity to read: any day, nothing matches.
_NO_DAY = date(1970, 1, 1)


def _span_to_read(
    pending: _Pending, windows: Iterable[Window], metrics: Iterable[str]
) -> tuple[dict[Entity, _KeptTotals], dict[str, Any]]:
    """The entities of `windows` not served yet by a span the batch keeps, each with the span
    that will serve its windows, and the statement's parameters reading it (no entity: a read
    of nothing)."""
    wanted = frozenset(metrics)
    asked = [
        (e, s, u)
        for e, s, u in windows
        if not any(k.serves(wanted, s, u) for k in pending.kept_totals.get(e, ()))
    ]
    if not asked:
        nothing: dict[str, Any] = {"entity_types": [], "entity_ids": [], "metrics": []}
        return {}, nothing | dict.fromkeys(("since", "until", "core_since", "core_until"), _NO_DAY)
    since = min(s for _, s, _ in asked)
    until = max(u for _, _, u in asked)
    core_since = max(s for _, s, _ in asked)
    core_until = min(u for _, _, u in asked)
    core = (core_since, core_until) if core_since <= core_until else None
    keys = sorted({e for e, _, _ in asked})
    kept = {e: _KeptTotals(wanted, since, until, core, {}, defaultdict(dict)) for e in keys}
    return kept, {
        **_entity_arrays(keys),
        "metrics": sorted(wanted),
        "since": since,
        "until": until,
        # An empty core (windows sharing no day) matches no day: every row is an edge.
        "core_since": core[0] if core else until,
        "core_until": core[1] if core else since,
    }


async def prefetch_window_totals(
    session: AsyncSession,
    windows: Iterable[Window],
    metrics: Iterable[str],
    *,
    shorter: tuple[Iterable[Window], Iterable[str]] = ((), ()),
) -> None:
    """Read the stored counts of a deferred batch's claims' entities (each with the window a
    claim will ask of it) in one statement: each claim's `window_totals` then finds them kept
    instead of reading its own. The windows of a batch's claims differ by the days between
    the claims, so the days they all hold are read as sums and only the edge days one by one.
    `shorter` is a second set of windows with its metrics (a seller's recent weeks, inside its
    long window), read in the same statement as a span of its own. An entity missed here, or
    a window the reads do not serve, is read when asked for. Outside a deferred batch nothing
    is kept, so nothing is read ahead."""
    pending = _pending(session)
    if pending is None:
        return
    spans = [_span_to_read(pending, windows, metrics), _span_to_read(pending, *shorter)]
    if not any(kept for kept, _ in spans):
        return
    rows = await session.execute(
        _SPAN_TOTALS,
        {
            f"{prefix}_{name}": value
            for prefix, (_, params) in zip("ab", spans, strict=True)
            for name, value in params.items()
        },
    )
    for span, t, i, m, day, n in rows:
        k = spans[span][0].get((t, i))
        if k is None:  # a cross pair of the two lists
            continue
        if day is None:
            k.core_totals[m] = int(n)
        else:
            k.edges[day][m] = int(n)
    for kept, _ in spans:
        for e, k in kept.items():
            k.edges = dict(k.edges)
            pending.kept_totals.setdefault(e, []).append(k)


async def window_totals(
    session: AsyncSession,
    entities: Iterable[Entity],
    metrics: Sequence[str],
    since: date,
    until: date,
) -> dict[Entity, dict[str, int]]:
    """Each entity's totals of `metrics` over the days from `since` to `until`, the batch's
    pending increments included. In a deferred batch an entity whose claims' window was read
    up front (`prefetch_window_totals`) is served from that read."""
    keys = list(set(entities))
    out: dict[Entity, dict[str, int]] = {k: {} for k in keys}
    if not keys:
        return out
    pending = _pending(session)
    unread = set(keys)
    if pending is not None and pending.kept_totals:
        for k in keys:
            for kept in pending.kept_totals.get(k, ()):
                if kept.serves(metrics, since, until):
                    out[k] = kept.totals(metrics, since, until)
                    unread.discard(k)
                    break
    if unread:
        rows = await session.execute(
            _WINDOW_TOTALS,
            {
                **_entity_arrays(list(unread)),
                "metrics": list(metrics),
                "since": since,
                "until": until,
            },
        )
        for t, i, m, n in rows:
            if (t, i) in unread:  # not a cross pair of the two lists
                out[(t, i)][m] = int(n)
    if pending is not None:
        wanted = set(metrics)
        for entity, totals in out.items():
            for (m, day), n in pending.of(entity):
                if m in wanted and since <= day <= until and n:
                    totals[m] = totals.get(m, 0) + n
    return out


async def kept_window_totals(
    session: AsyncSession, entity: Entity, metrics: Sequence[str], since: date, until: date
) -> dict[str, int]:
    """`window_totals` of one entity, its stored days read once per deferred batch: each of a
    batch's deliveries reads its category's value bins (`scoring.service.dear_from`), and the
    category's stored rows do not change under the batch, so the days read serve every later
    window they cover; a window reaching past them reads the days of both, once. The batch's
    pending increments are added at each call, so a window includes every earlier delivery,
    inside the batch too. (Another replica's deliveries committed meanwhile show from the next
    batch on, as `entity_totals`' do.)"""
    pending = _pending(session)
    if pending is None:
        return (await window_totals(session, [entity], metrics, since, until))[entity]
    key = (entity, tuple(metrics))
    kept = pending.kept_days.get(key)
    if kept is None or since < kept.since or until > kept.until:
        if kept is not None:
            since_read, until_read = min(since, kept.since), max(until, kept.until)
        else:
            since_read, until_read = since, until
        days = await _stored_days(session, [entity], metrics, since_read, until_read)
        kept = _KeptDays(since_read, until_read, dict(days[entity]))
        pending.kept_days[key] = kept
    totals: dict[str, int] = {}
    for day, counts in kept.days.items():
        if since <= day <= until:
            for m, n in counts.items():
                totals[m] = totals.get(m, 0) + n
    wanted = set(metrics)
    for (m, day), n in pending.of(entity):
        if m in wanted and since <= day <= until and n:
            totals[m] = totals.get(m, 0) + n
    return totals


async def window_days(
    session: AsyncSession,
    entities: Iterable[Entity],
    metrics: Sequence[str],
    since: date,
    until: date,
) -> dict[Entity, dict[date, dict[str, int]]]:
    """The entities' counts per day and metric from `since` to `until`, the batch's pending
    increments included.

    In a deferred batch each entity's stored days are read once (`_KeptDays`, as
    `kept_window_totals` keeps a category's): the pilferage step of every terminal scan reads
    its agent's and hubs' days, and a batch's scans share hubs, so the days read serve every
    later window they cover, and `prepare_batch` reads the batch's terminal scans' entities in
    one statement up front. The days come in the order a fresh read gives them (by metric, then
    day; the pilferage detector takes the first of equally bad days in that order), those of a
    wider kept read filtered, then the days only pending increments have."""
    pending = _pending(session)
    if pending is None:
        return await _stored_days(session, entities, metrics, since, until)
    keys = list(dict.fromkeys(entities))
    metrics_key = tuple(metrics)
    kept: dict[Entity, _KeptDays] = {}
    narrower: list[_KeptDays] = []  # kept reads the window reaches past
    for e in keys:
        k = pending.kept_days.get((e, metrics_key))
        if k is not None and k.since <= since and until <= k.until:
            kept[e] = k
        elif k is not None:
            narrower.append(k)
    missing = [e for e in keys if e not in kept]
    if missing:
        # One read for every entity not covered, over a window covering what each kept already.
        since_read = min([since, *(k.since for k in narrower)])
        until_read = max([until, *(k.until for k in narrower)])
        read = await _stored_days(session, missing, metrics, since_read, until_read)
        for e in missing:
            kept[e] = pending.kept_days[(e, metrics_key)] = _KeptDays(
                since_read, until_read, dict(read[e])
            )
    out: dict[Entity, dict[date, dict[str, int]]] = {}
    wanted = set(metrics)
    for e in keys:
        stored = kept[e]
        days: dict[date, dict[str, int]] = defaultdict(dict)
        for day, counts in stored.days.items():
            if since <= day <= until:
                days[day] = dict(counts)  # a copy: the pending increments are added to it
        for (m, day), n in pending.of(e):
            if m in wanted and since <= day <= until and n:
                days[day][m] = days[day].get(m, 0) + n
        out[e] = days
    return out


async def _stored_days(
    session: AsyncSession,
    entities: Iterable[Entity],
    metrics: Sequence[str],
    since: date,
    until: date,
) -> dict[Entity, dict[date, dict[str, int]]]:
    """The entities' stored counts per day and metric, without a batch's pending increments."""
    keys = list(set(entities))
    out: dict[Entity, dict[date, dict[str, int]]] = {k: defaultdict(dict) for k in keys}
    if not keys:
        return out
    rows = await session.execute(
        _WINDOW_DAYS,
        {**_entity_arrays(keys), "metrics": list(metrics), "since": since, "until": until},
    )
    for t, i, d, m, n in rows:
        if (t, i) in out:  # not a cross pair of the two lists
            out[(t, i)][d][m] = int(n)
    return out


# Pairs by the three key columns, each an array: a statement of one shape whatever the number
# of pairs (a tuple IN list is built and compiled again for each number, and rendered as a
# statement text of its own). The cross triples the arrays also match are dropped on reading.
_PAIRS_OF = text(f"""
    SELECT kind, left_id, right_id, metric, n FROM {PairCount.__tablename__}
    WHERE kind = ANY(CAST(:kinds AS varchar[])) AND left_id = ANY(CAST(:lefts AS varchar[]))
      AND right_id = ANY(CAST(:rights AS varchar[]))
""")


async def _stored_pairs(
    session: AsyncSession, keys: Iterable[tuple[str, str, str]]
) -> list[tuple[str, str, str, str, int]]:
    """The stored (kind, left, right, metric, n) rows of these pairs, every metric."""
    wanted = set(keys)
    if not wanted:
        return []
    rows = await session.execute(
        _PAIRS_OF,
        {
            "kinds": sorted({k for k, _, _ in wanted}),
            "lefts": sorted({a for _, a, _ in wanted}),
            "rights": sorted({b for _, _, b in wanted}),
        },
    )
    return [(k, a, b, m, int(n)) for k, a, b, m, n in rows if (k, a, b) in wanted]


async def pair_counts(
    session: AsyncSession, pairs: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], dict[str, int]]:
    """The pairs' lifetime counts, every metric, the batch's pending increments included. In
    a deferred batch, pairs read up front (`prefetch_pairs_and_lefts`) are served from that
    read: the table does not change under the batch."""
    keys = list(set(pairs))
    out: dict[tuple[str, str, str], dict[str, int]] = {k: {} for k in keys}
    if not keys:
        return out
    pending = _pending(session)
    if pending is not None and all(k in pending.kept_pairs for k in keys):
        for key in keys:
            out[key] = dict(pending.kept_pairs[key])  # a copy: pending increments are added
    else:
        for k, a, b, m, n in await _stored_pairs(session, keys):
            out[(k, a, b)][m] = n
    if pending is not None:
        for (k, a, b, m), n in pending.pairs.items():
            if (k, a, b) in out and n:
                out[(k, a, b)][m] = out[(k, a, b)].get(m, 0) + n
    return out


# A deferred batch's claims' pairs (`_PAIRS_OF`'s conditions) and, for each of their buyers,
# the lefts it has a metric with (`_LEFTS_OF_RIGHT`'s, every left), told apart by the last
# column: one statement for both (`prefetch_pairs_and_lefts`).
_PAIRS_AND_LEFTS = text(f"""
    SELECT kind, left_id, right_id, metric, n, false FROM {PairCount.__tablename__}
    WHERE kind = ANY(CAST(:kinds AS varchar[])) AND left_id = ANY(CAST(:lefts AS varchar[]))
      AND right_id = ANY(CAST(:rights AS varchar[]))
    UNION ALL
    SELECT kind, left_id, right_id, metric, n, true FROM {PairCount.__tablename__}
    WHERE kind = :lefts_kind AND metric = :lefts_metric
      AND right_id = ANY(CAST(:lefts_rights AS varchar[]))
""")


async def prefetch_pairs_and_lefts(
    session: AsyncSession,
    pairs: Iterable[tuple[str, str, str]],
    *,
    kind: str,
    right_ids: Iterable[str],
    metric: str,
) -> None:
    """Read, in one statement, the stored counts of the pairs a deferred batch has not read
    yet (kept for `pair_counts`) and, for each right it has not read yet, the lefts it has a
    `metric` count with under `kind` (kept for `distinct_lefts`). Outside a deferred batch
    nothing is kept."""
    pending = _pending(session)
    if pending is None:
        return
    unread = {k for k in pairs if k not in pending.kept_pairs}
    rights = sorted({r for r in right_ids if (kind, r, metric) not in pending.kept_lefts})
    if not unread and not rights:
        return
    rows = await session.execute(
        _PAIRS_AND_LEFTS,
        {
            "kinds": sorted({k for k, _, _ in unread}),
            "lefts": sorted({a for _, a, _ in unread}),
            "rights": sorted({b for _, _, b in unread}),
            "lefts_kind": kind,
            "lefts_metric": metric,
            "lefts_rights": rights,
        },
    )
    for key in unread:
        pending.kept_pairs[key] = {}
    lefts = {r: pending.kept_lefts.setdefault((kind, r, metric), {}) for r in rights}
    for k, a, b, m, n, of_right in rows:
        if of_right:
            lefts[b][a] = int(n)
        elif (k, a, b) in unread:  # not a cross triple of the three arrays
            pending.kept_pairs[(k, a, b)][m] = int(n)


# Each left's count with one right (every left but `except_lefts`): the lefts counted and, for
# a batch's pending counts, their stored counts, in one statement.
_LEFTS_OF_RIGHT = text(f"""
    SELECT left_id, n FROM {PairCount.__tablename__}
    WHERE kind = :kind AND right_id = :right_id AND metric = :metric
      AND left_id <> ALL(CAST(:except_lefts AS varchar[]))
""")


async def distinct_lefts(
    session: AsyncSession,
    *,
    kind: str,
    right_id: str,
    metric: str,
    except_lefts: Sequence[str] = (),
) -> int:
    """How many distinct left entities (other than `except_lefts`) have this pair metric with
    `right_id` (e.g. how many sellers named this buyer in a claim). In a deferred batch a
    right's lefts read up front (`prefetch_pairs_and_lefts`) serve every call."""
    return len(
        await lefts_of_right(
            session, kind=kind, right_id=right_id, metric=metric, except_lefts=except_lefts
        )
    )


async def lefts_of_right(
    session: AsyncSession,
    *,
    kind: str,
    right_id: str,
    metric: str,
    except_lefts: Sequence[str] = (),
) -> set[str]:
    """The left entities (other than `except_lefts`) with a count of this pair metric above 0
    with `right_id`, the batch's pending counts included (`distinct_lefts` counts them)."""
    pending = _pending(session)
    kept = pending.kept_lefts.get((kind, right_id, metric)) if pending is not None else None
    if kept is not None:
        stored = {left: n for left, n in kept.items() if left not in except_lefts}
    else:
        stored = {
            left: int(n)
            for left, n in await session.execute(
                _LEFTS_OF_RIGHT,
                {
                    "kind": kind,
                    "right_id": right_id,
                    "metric": metric,
                    "except_lefts": list(except_lefts),
                },
            )
        }
    if pending is None:
        return {left for left, n in stored.items() if n > 0}
    # A left counts when its stored count plus the pending one is above 0.
    totals = dict(stored)
    for (k, left, right, m), n in pending.pairs.items():
        if k == kind and right == right_id and m == metric and left not in except_lefts and n:
            totals[left] = totals.get(left, 0) + n
    return {left for left, n in totals.items() if n > 0}


# The lefts' pairs with every right, for one metric: their repeats and, for a batch's pending
# counts, the stored counts of the pairs, in one statement.
_PAIRS_OF_LEFTS = text(f"""
    SELECT kind, left_id, right_id, n FROM {PairCount.__tablename__}
    WHERE kind = ANY(CAST(:kinds AS varchar[])) AND left_id = ANY(CAST(:lefts AS varchar[]))
      AND metric = :metric
""")


async def repeats_by_left(
    session: AsyncSession, *, lefts: Sequence[tuple[str, str]], metric: str
) -> dict[tuple[str, str], int]:
    """For each (kind, left) pair, how many of its `metric` counts repeat a right entity already
    counted once: the sum over rights of n - 1 (e.g. a QC agent's contradictions beyond the
    first of each buyer).

    In a deferred batch each left's stored pairs are kept once read (the table does not change
    under the batch): a QC-contradicting claim asks for its own QC entities and, for their
    peers, for every QC agent and hub, and the next claim of the batch reads only the lefts
    not read yet."""
    if not lefts:
        return {}
    wanted = set(lefts)
    pending = _pending(session)
    kept = pending.kept_repeats if pending is not None else {}
    unread = {key for key in wanted if (*key, metric) not in kept}
    stored: dict[tuple[str, str, str], int] = {}
    if unread:
        rows = await session.execute(
            _PAIRS_OF_LEFTS,
            {
                "kinds": sorted({kind for kind, _ in unread}),
                "lefts": sorted({left for _, left in unread}),
                "metric": metric,
            },
        )
        # Cross pairs of the two arrays (a kind with another kind's left) are not asked for.
        stored = {(k, left, right): int(n) for k, left, right, n in rows if (k, left) in unread}
        if pending is not None:
            for k, left in unread:
                kept[(k, left, metric)] = {}
            for (k, left, right), n in stored.items():
                kept[(k, left, metric)][right] = n
    for k, left in wanted - unread:
        stored.update({(k, left, right): n for right, n in kept[(k, left, metric)].items()})
    out: dict[tuple[str, str], int] = {}
    for (k, left, _), n in stored.items():
        if n > 1:
            out[(k, left)] = out.get((k, left), 0) + n - 1
    if pending is None:
        return out
    # A pending count changes a right's repeats from max(stored - 1, 0) to max(stored + n - 1, 0).
    for (k, left, right, m), n in pending.pairs.items():
        if (k, left) in wanted and m == metric and n:
            before = stored.get((k, left, right), 0)
            delta = max(before + n - 1, 0) - max(before - 1, 0)
            if delta:
                out[(k, left)] = out.get((k, left), 0) + delta
    return out


async def rights_by_left(
    session: AsyncSession, *, kind: str, rights: Sequence[str], metric: str
) -> dict[str, int]:
    """For each left entity, how many of `rights` it has a `metric` count with (e.g. how many
    of the buyers under a wrong/used alert each QC agent's passes were contradicted by)."""
    if not rights:
        return {}
    rows = await session.execute(
        select(PairCount.left_id, PairCount.right_id).where(
            PairCount.kind == kind,
            PairCount.right_id.in_(list(rights)),
            PairCount.metric == metric,
            PairCount.n > 0,
        )
    )
    pairs = {(left, right) for left, right in rows}
    pending = _pending(session)
    if pending is not None:
        wanted = set(rights)
        pairs |= {
            (left, right)
            for (k, left, right, m), n in pending.pairs.items()
            if k == kind and m == metric and right in wanted and n > 0
        }
    return dict(Counter(left for left, _ in pairs))


# The QC entities' contradicting buyers with their named claims, for every kind at once: the
# pairs of `kinds` with a `contradicted` count (all of them, with `:whole`) and the pairs given
# (those first contradicted in a batch, or those a batch's claims will contradict), each with
# the buyer's named claims on that left's passes and with every seller (`named_by`'s `named`,
# summed), and whether the pair is among the stored contradicting ones (the last column).
_CONTRADICTING = text(f"""
    WITH c AS (
        SELECT kind, left_id, right_id, bool_or(stored) AS stored FROM (
            SELECT kind, left_id, right_id, true AS stored FROM {PairCount.__tablename__}
            WHERE :whole AND kind = ANY(CAST(:kinds AS varchar[])) AND metric = 'contradicted'
              AND n > 0
            UNION ALL
            SELECT given.*, false FROM unnest(
                CAST(:pair_kinds AS varchar[]), CAST(:pair_lefts AS varchar[]),
                CAST(:pair_rights AS varchar[])
            ) AS given
        ) AS asked
        GROUP BY kind, left_id, right_id
    ), everywhere AS (
        SELECT right_id, sum(n) AS n FROM {PairCount.__tablename__}
        WHERE kind = :named_by AND metric = 'named'
          AND right_id IN (SELECT right_id FROM c)
        GROUP BY right_id
    )
    SELECT c.kind, c.left_id, c.right_id, coalesce(here.n, 0), coalesce(everywhere.n, 0),
           c.stored
    FROM c
    LEFT JOIN {PairCount.__tablename__} AS here
      ON here.kind = c.kind AND here.left_id = c.left_id AND here.right_id = c.right_id
     AND here.metric = 'named'
    LEFT JOIN everywhere ON everywhere.right_id = c.right_id
""")


@dataclass(slots=True)
class _ContradictingRead:
    """What a deferred batch has read of the stored contradicting pairs: the table does not
    change under the batch (its increments wait in `_Pending`), so one read serves every
    QC-contradicting claim of the batch, each adding the increments pending at its turn."""

    here: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (kind, left, buyer)
    everywhere: dict[str, int] = field(default_factory=dict)  # buyer
    # Pairs read ahead for the batch's claims (`prefetch_contradicting`), not contradicted
    # yet: each joins `here` when the batch first contradicts it, as a read would add it.
    ahead: dict[tuple[str, str, str], int] = field(default_factory=dict)


async def _read_contradicting(
    session: AsyncSession,
    read: _ContradictingRead,
    *,
    whole: bool,
    kinds: Sequence[str],
    named_by: str,
    pairs: Sequence[tuple[str, str, str]],
    ahead: bool = False,
) -> None:
    """Read the stored contradicting pairs (`whole`) and the given ones into `read`: the given
    pairs not stored as contradicting into `read.ahead` when they are read `ahead`."""
    rows = await session.execute(
        _CONTRADICTING,
        {
            "whole": whole,
            "kinds": sorted(kinds),
            "named_by": named_by,
            "pair_kinds": [k for k, _, _ in pairs],
            "pair_lefts": [left for _, left, _ in pairs],
            "pair_rights": [right for _, _, right in pairs],
        },
    )
    for k, left, right, n_here, n_all, stored in rows:
        if ahead and not stored:
            read.ahead[(k, left, right)] = int(n_here)
        else:
            read.here[(k, left, right)] = int(n_here)
        read.everywhere[right] = int(n_all)


async def prefetch_contradicting(
    session: AsyncSession,
    *,
    kinds: Sequence[str],
    named_by: str,
    pairs: Iterable[tuple[str, str, str]],
) -> None:
    """Read a deferred batch's stored contradicting pairs up front, with the pairs its claims
    will contradict (`pairs`, kept apart until they are), in one statement: each claim's
    `contradicting_buyers` then finds a pair its batch first contradicts already read, instead
    of reading it. Outside a deferred batch, or once the batch has read, nothing is read."""
    pending = _pending(session)
    if pending is None or pending.contradicting is not None:
        return
    read = _ContradictingRead()
    await _read_contradicting(
        session,
        read,
        whole=True,
        kinds=kinds,
        named_by=named_by,
        pairs=sorted(set(pairs)),
        ahead=True,
    )
    pending.contradicting = read


async def contradicting_buyers(
    session: AsyncSession, *, kinds: Sequence[str], named_by: str
) -> dict[str, list[tuple[str, str, int, int]]]:
    """For each of `kinds`, every (left, buyer) pair with a `contradicted` count (a QC entity and
    a buyer who claimed one of its passes as a wrong or used item), with the buyer's named
    claims on that left's passes (the kind's `named`) and with every seller (`named_by`'s
    `named`, summed). Counts still pending in the session are included.

    Inside a deferred batch the stored pairs are read once, up front (`prefetch_contradicting`)
    or at the batch's first QC-contradicting claim, and only the pairs first contradicted later
    in the batch and not read ahead are read after that (the whole read grows with the world,
    so it is not repeated per claim). Another replica's pairs committed meanwhile show from the
    next batch on, as `entity_totals`' do."""
    pending = _pending(session)
    read = pending.contradicting if pending is not None else None
    whole = read is None
    if read is None:
        read = _ContradictingRead()
    added = [
        (k, left, right, m, n)
        for (k, left, right, m), n in (pending.pairs.items() if pending is not None else ())
        if n
    ]
    wanted = set(kinds)
    new = sorted(
        {(k, left, right) for k, left, right, m, _ in added if k in wanted and m == "contradicted"}
        - read.here.keys()
    )
    # Those read ahead join the pairs listed as a read of them would add them.
    for pair in [p for p in new if p in read.ahead]:
        read.here[pair] = read.ahead.pop(pair)
    new = [p for p in new if p not in read.here]
    if whole or new:
        await _read_contradicting(
            session, read, whole=whole, kinds=sorted(wanted), named_by=named_by, pairs=new
        )
    if pending is not None:
        pending.contradicting = read
    # The stored counts stay as read; the pending increments are added to a copy at each call.
    here = dict(read.here)
    everywhere = dict(read.everywhere)
    for k, left, right, m, n in added:
        if m == "named" and k == named_by and right in everywhere:
            everywhere[right] += n
        elif m == "named" and (k, left, right) in here:
            here[(k, left, right)] += n
    out: dict[str, list[tuple[str, str, int, int]]] = {k: [] for k in kinds}
    for (k, left, right), n in here.items():
        out[k].append((left, right, n, everywhere[right]))
    return out


async def right_totals(
    session: AsyncSession, *, kind: str, right_id: str, metrics: Sequence[str]
) -> dict[str, int]:
    """One right entity's pair counts summed over every left (e.g. a buyer's claims and
    deliveries with all sellers)."""
    rows = await session.execute(
        select(PairCount.metric, func.sum(PairCount.n))
        .where(
            PairCount.kind == kind,
            PairCount.right_id == right_id,
            PairCount.metric.in_(list(metrics)),
        )
        .group_by(PairCount.metric)
    )
    out = {metric: int(n) for metric, n in rows}
    pending = _pending(session)
    if pending is not None:
        for (k, _left, right, m), n in pending.pairs.items():
            if k == kind and right == right_id and m in metrics and n:
                out[m] = out.get(m, 0) + n
    return out


async def pair_totals_by_right(
    session: AsyncSession, *, kind: str, lefts: Sequence[str], metrics: Sequence[str]
) -> dict[str, dict[str, int]]:
    """For each right entity, its pair counts summed over `lefts` (e.g. what the given sellers'
    claims said of each buyer)."""
    if not lefts:
        return {}
    rows = await session.execute(
        select(PairCount.right_id, PairCount.metric, func.sum(PairCount.n))
        .where(
            PairCount.kind == kind,
            PairCount.left_id.in_(list(lefts)),
            PairCount.metric.in_(list(metrics)),
        )
        .group_by(PairCount.right_id, PairCount.metric)
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for right, metric, n in rows:
        out[right][metric] = int(n)
    pending = _pending(session)
    if pending is not None:
        for (k, left, right, m), n in pending.pairs.items():
            if k == kind and left in lefts and m in metrics and n:
                out[right][m] = out[right].get(m, 0) + n
    return dict(out)


async def link_identity(session: AsyncSession, links: Sequence[tuple[str, str, str]]) -> None:
    if not links:
        return
    await session.execute(
        pg_insert(IdentityLink)
        .values([{"hash_kind": k, "hash_value": v, "buyer_id": b} for k, v, b in links])
        .on_conflict_do_nothing()
    )


async def accounts_sharing(
    session: AsyncSession, hashes: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """The buyer accounts seen with each contact or address hash: how many share it, and who."""
    if not hashes:
        return {}
    rows = await session.execute(
        select(IdentityLink.hash_kind, IdentityLink.hash_value, IdentityLink.buyer_id)
        .where(tuple_(IdentityLink.hash_kind, IdentityLink.hash_value).in_(list(hashes)))
        .order_by(IdentityLink.buyer_id)
    )
    out: dict[tuple[str, str], list[str]] = {}
    for k, v, b in rows:
        out.setdefault((k, v), []).append(str(b))
    return out


async def evidence_candidates(
    session: AsyncSession, *, shas: Sequence[str], phashes: Sequence[int]
) -> list[EvidenceFingerprintRow]:
    """Earlier evidence with the same sha256, or sharing a byte position with a perceptual hash."""
    cols = [
        EvidenceFingerprintRow.b0,
        EvidenceFingerprintRow.b1,
        EvidenceFingerprintRow.b2,
        EvidenceFingerprintRow.b3,
        EvidenceFingerprintRow.b4,
        EvidenceFingerprintRow.b5,
        EvidenceFingerprintRow.b6,
        EvidenceFingerprintRow.b7,
    ]
    conditions: list[Any] = []
    if shas:
        conditions.append(EvidenceFingerprintRow.sha256.in_(list(shas)))
    for i, col in enumerate(cols):
        values = sorted({(h >> (8 * i)) & 0xFF for h in phashes})
        if values:
            conditions.append(col.in_(values))
    if not conditions:
        return []
    return list(
        (
            await session.scalars(
                select(EvidenceFingerprintRow).where(or_(*conditions)).limit(5000)
            )
        ).all()
    )


async def add_evidence(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    # A statement, not a pending object: the next claim in the same batch must see it. Rows
    # as parameters, not VALUES literals: one cached statement whatever their number.
    if rows:
        await session.execute(insert(table_of(EvidenceFingerprintRow)), list(rows))


async def order_evidence(session: AsyncSession, return_id: str, order_id: str) -> None:
    """Give a return's evidence recorded before the feed named its order (a claim intake emits
    ahead of the feed entry) that order: evidence reuse tells the order's own items from
    another order's by it (`detectors.evidence_reuse.EvidenceFingerprint.same_order`)."""
    await session.execute(
        update(EvidenceFingerprintRow)
        .where(
            EvidenceFingerprintRow.return_id == return_id,
            EvidenceFingerprintRow.order_id.is_(None),
        )
        .values(order_id=order_id)
    )


def to_signed64(value: int) -> int:
    """PostgreSQL BIGINT is signed; store the 64-bit hash's bit pattern."""
    return value - (1 << 64) if value >= (1 << 63) else value


def from_signed64(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def day_of(moment: datetime) -> date:
    return moment.date()


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# (entity_type, id_prefix, metrics, since, until) of an `entity_totals` read in this session.
_TotalsKey = tuple[str, str, tuple[str, ...], date, date]


class TotalsView(Protocol):
    """A form of an `entity_totals` read its caller weighs (the pilferage step's hubs with
    their agents), kept with the read and told of every entity whose totals change, so that it
    is patched where it was rebuilt from the whole population for every event
    (`entity_totals_view`)."""

    def update(self, entity_id: str, totals: Mapping[str, int]) -> None:
        """Take the entity's totals as they now are (a new entity comes after those seen)."""


_View = TypeVar("_View", bound=TotalsView)


@dataclass(slots=True)
class _TotalsRead:
    """The `entity_totals` reads of a session, by what was asked, and their kept views."""

    read: dict[_TotalsKey, dict[str, dict[str, int]]] = field(default_factory=dict)
    views: dict[_TotalsKey, dict[type[Any], TotalsView]] = field(default_factory=dict)


def _read_totals(session: AsyncSession) -> dict[_TotalsKey, dict[str, dict[str, int]]]:
    return unit_of(session).get(_TotalsRead).read


async def entity_totals(
    session: AsyncSession,
    entity_type: str,
    metrics: Sequence[str],
    since: date,
    until: date,
    *,
    id_prefix: str = "",
) -> Mapping[str, Mapping[str, int]]:
    """Every entity of one type (whose id starts with `id_prefix`) with its window totals: the
    peers of a robust baseline.

    A consumer batch's terminal scans each weigh their hub and agent against all the others; a
    read is kept for the session and `add_counts` adds the session's own increments to it, so
    the next event of the batch gets the same totals without reading them again. (Another
    replica's increments committed meanwhile show from the next batch on, as they would at the
    next read.)"""
    key = (entity_type, id_prefix, tuple(metrics), since, until)
    read = _read_totals(session)
    if key not in read:
        rows = await session.execute(
            _ENTITY_TOTALS,
            {
                "entity_type": entity_type,
                "pattern": _like_prefix(id_prefix),
                "metrics": list(metrics),
                "since": since,
                "until": until,
            },
        )
        totals: dict[str, dict[str, int]] = defaultdict(dict)
        for i, m, n in rows:
            totals[i][m] = int(n)
        # A deferred batch's increments are not in the table yet; later ones reach this read
        # through `_count_into_reads`.
        pending = _pending(session)
        for (t, i, m, day), n in pending.counts.items() if pending is not None else ():
            if t == entity_type and i.startswith(id_prefix) and m in metrics and n:
                if since <= day <= until:
                    totals[i][m] = totals[i].get(m, 0) + n
        read[key] = dict(totals)
    # The kept read itself, not a copy: copying a population of thousands for every event was
    # a tenth of a terminal scan's CPU. Callers only read it, and use it before their next
    # increments (which `_count_into_reads` adds to it in place).
    return read[key]


async def entity_totals_view(
    session: AsyncSession,
    view: type[_View],
    entity_type: str,
    metrics: Sequence[str],
    since: date,
    until: date,
) -> _View:
    """`entity_totals` of every entity of the type, in the form `view` makes of it: built
    from the read once, then patched entity by entity as increments reach the read
    (`_count_into_reads`), in the read's order. The same view a fresh build from the read
    would give, at the cost of the entities that changed. Callers only read it."""
    rows = await entity_totals(session, entity_type, metrics, since, until)
    views = (
        unit_of(session)
        .get(_TotalsRead)
        .views.setdefault((entity_type, "", tuple(metrics), since, until), {})
    )
    kept = views.get(view)
    if kept is None:
        kept = views[view] = view()
        for entity_id, totals in rows.items():
            kept.update(entity_id, totals)
    return cast(_View, kept)


def _count_into_reads(session: AsyncSession, increments: Mapping[CountKey, int]) -> None:
    """Add the increments just written to every `entity_totals` read they fall in, and tell
    the read's views."""
    kept = unit_of(session).get(_TotalsRead)
    if not kept.read:
        return
    for (etype, eid, metric, day), n in increments.items():
        if not n:
            continue
        for key, totals in kept.read.items():
            t, prefix, metrics, since, until = key
            if (
                t == etype
                and eid.startswith(prefix)
                and metric in metrics
                and (since <= day <= until)
            ):
                row = totals.setdefault(eid, {})
                row[metric] = row.get(metric, 0) + n
                for view in kept.views.get(key, {}).values():
                    view.update(eid, row)
