"""Peer baselines of large populations, kept between events.

Every rate test weighs an entity against the robust rate of its peers: all other buyers, all
other agents, the category's other sellers. Reading every peer's window totals for every event
costs time linear in the population: at 600,000 buyers, 0.7 s per claim. One event moves the
baseline of such a population by a negligible share, so a population of at least `min_peers`
has its robust baseline computed once and reused until the event time has moved `max_drift`
from it. Event time alone, not the wall clock: with an expiry in wall time, the events at which
a baseline was read again depended on how fast the consumer went (a backlog, a loaded machine),
and the same world scored twice gave different answers. The entity being scored is taken out
of a reused baseline when it was among the kept peers (`RobustBaseline.without`).

Smaller populations are read for every event, exactly, so a young network and every crafted
test sequence see the same numbers as before. The cache belongs to the database engine, not to
the process: two databases scored in one process (tests, the evaluation) never share one.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud import metrics
from services.fraud.detectors.stats import (
    PeerSpread,
    RobustBaseline,
    Thresholds,
    robust_baseline,
)

Counts = Mapping[str, int]
# (numerator, denominator, prior rate) of one rate.
Rate = tuple[str, str, float]


@dataclass(frozen=True, slots=True)
class BaselinePolicy:
    min_peers: int
    max_drift: timedelta


@dataclass(frozen=True, slots=True)
class _Kept:
    by_rate: dict[str, RobustBaseline]
    population: int
    event_time: datetime


# One cache per engine (weakly held: a disposed engine's cache goes with it).
_CACHES: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], _Kept]] = weakref.WeakKeyDictionary()


def _cache_of(session: AsyncSession) -> dict[tuple[str, ...], _Kept] | None:
    bind = session.bind
    engine = getattr(bind, "sync_engine", bind)
    if engine is None:
        return None
    return _CACHES.setdefault(engine, {})


async def peer_baselines(
    session: AsyncSession,
    *,
    population: tuple[str, ...],
    rates: list[Rate],
    own_id: str,
    own: Counts,
    at: datetime,
    t: Thresholds,
    policy: BaselinePolicy,
    load: Callable[[], Awaitable[Mapping[str, Counts]]],
    spreads: dict[str, PeerSpread] | None = None,
    leave_out: bool = False,
    by_information: bool = False,
    spread_of: Collection[str] | None = None,
    alike_level: float | None = None,
) -> dict[str, tuple[int, int]]:
    """The robust baseline (count, trials) of each rate among the population's other members.

    `population` names the peers (an entity type, a prefix, the window, any adjustment of the
    counts); `load` reads every member's counts. `own` are the scored entity's counts, used to
    take it out of a reused baseline. `spreads`, when given, receives how much the kept peers
    differ from each other, per rate (what a sequential test takes as the honest population);
    one entity more or less barely moves it, so a reused baseline's serves as it is.
    `leave_out`: the spread's peers are weighed each without itself (`stats.sequential_peers`;
    hubs and agents, whose bad peers are few enough to hide each other). `by_information`: the
    spread's rate weighs each peer by what it tells of the honest mean, not by its trials
    (`stats.information_rate`; hubs and agents, where a few busy peers carry most trials).
    `spread_of`: the rates whose spread the caller reads (None: every rate, when `spreads` is
    given). A population read for this event alone estimates no other spread: the estimate is
    most of a baseline's cost. A kept one has every rate's, for whichever event reuses it.
    `alike_level`: the bound on how alike the peers are read is lifted to what their own
    scatter shows at this confidence (`stats.proven_alike`; QC agents). A population read
    with it names it in `population`, so a kept baseline is never shared with one without."""
    cache = _cache_of(session)
    key = (*population, *(num for num, _, _ in rates))
    kept = cache.get(key) if cache is not None else None
    if (
        kept is not None
        and kept.population >= policy.min_peers
        and abs(at - kept.event_time) <= policy.max_drift
    ):
        metrics.PEER_BASELINES.labels(population[0], "reused").inc()
        _spreads(spreads, kept.by_rate)
        return {
            num: kept.by_rate[num].without(own.get(num, 0), own.get(den, 0), t)
            for num, den, _ in rates
        }
    everyone = await load()
    out: dict[str, tuple[int, int]] = {}
    if len(everyone) >= policy.min_peers and cache is not None:
        # Large: the baseline of everyone, reused by the next events; this entity comes out.
        by_rate = {
            num: robust_baseline(
                [(v.get(num, 0), v.get(den, 0)) for v in everyone.values()],
                t,
                prior_rate=prior,
                leave_out=leave_out,
                by_information=by_information,
                alike_level=alike_level,
            )
            for num, den, prior in rates
        }
        cache[key] = _Kept(by_rate, len(everyone), at)
        _spreads(spreads, by_rate)
        out = {
            num: by_rate[num].without(own.get(num, 0), own.get(den, 0), t) for num, den, _ in rates
        }
    else:
        for num, den, prior in rates:
            b = robust_baseline(
                [
                    (v.get(num, 0), v.get(den, 0))
                    for other, v in everyone.items()
                    if other != own_id
                ],
                t,
                prior_rate=prior,
                leave_out=leave_out,
                by_information=by_information,
                spread=spreads is not None and (spread_of is None or num in spread_of),
                alike_level=alike_level,
            )
            _spreads(spreads, {num: b})
            out[num] = (b.k, b.n)
    metrics.PEER_BASELINES.labels(population[0], "read").inc()
    return out


def _spreads(into: dict[str, PeerSpread] | None, by_rate: Mapping[str, RobustBaseline]) -> None:
    if into is not None:
        into.update({num: b.spread for num, b in by_rate.items() if b.spread is not None})
