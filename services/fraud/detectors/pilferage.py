"""Pilferage at a hub or pickup agent: weight drops and `LOST`/`DAMAGED_IN_TRANSIT` concentrated
at one place compared with its peers and with its own baseline.

Robust to one bad day: when the worst day stands apart from the entity's other days, the excess
must stay significant without it, so a single truck accident or a mis-calibrated scale for a day
does not brand a hub. A worst day like the others (an agent stealing from one parcel in four has
days with two thefts) is no accident, and the whole window counts.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    Thresholds,
    binomial_sf,
    contribution_from_p,
    fmt_p,
    hypergeometric_sf,
    peer_rate,
    peer_spread,
    rate_test,
    sequential_log_bf,
    shrunk_rate,
    tolerance_null,
)
from services.fraud.detectors.stats import (
    parts_standing_out as stats_parts_standing_out,
)
from services.fraud.detectors.stats import (
    stands_out as stats_stands_out,
)

PATTERN_PREFIX = "PILFERAGE_"  # + the entity type: HUB or AGENT
PRIOR_RATE = 0.03
ACTION = {
    "hub": "Audit the hub: CCTV on the sorting floor, weigh-in/weigh-out checks for a week.",
    "agent": "Pull the agent off high-value pickups and re-weigh their parcels at the hub.",
}


@dataclass(frozen=True, slots=True)
class DayCount:
    handled: int
    incidents: int


def pilferage_findings(
    entity_type: str,
    entity_id: str,
    days: Mapping[date, DayCount],
    peers: DayCount,
    baseline: DayCount,
    t: Thresholds,
    *,
    min_baseline: int = 30,
    mates: DayCount | None = None,
    excluded: DayCount | None = None,
) -> list[Finding]:
    """`days`: the entity's recent window by day; `peers`: the same window for all others;
    `baseline`: the entity's own earlier window.

    A hub's parcels are its agents' parcels, so one cause lifts both. `mates` (for an agent: the
    other agents at its hubs, same window) must look clean too: if they run as high, the hub is
    the cause and the agent's excess is explained. `excluded` (for a hub: the parcels of agents
    that stand out against their hub-mates) is left out of the hub's counts, so that one
    pilfering agent does not brand its hub."""
    n = sum(d.handled for d in days.values())
    k = sum(d.incidents for d in days.values())
    if excluded is not None:
        n, k = max(0, n - excluded.handled), max(0, k - excluded.incidents)
    if n == 0 or k == 0:
        return []
    test = rate_test(k, n, peers.incidents, peers.handled, t, prior_rate=PRIOR_RATE)
    worst = max(days.values(), key=lambda d: d.incidents)
    k_rest, n_rest = max(0, k - worst.incidents), max(0, n - worst.handled)
    robust = rate_test(k_rest, n_rest, peers.incidents, peers.handled, t, prior_rate=PRIOR_RATE)
    bad_day = stands_apart(worst, DayCount(n_rest, k_rest), t)
    p = max(test.p, robust.p) if bad_day else test.p
    numbers = test.numbers() | {
        "p_without_worst_day": float(f"{robust.p:.3g}"),
        "worst_day_stands_apart": bad_day,
        "days": len(days),
    }
    detail = f"incident rate {test.detail()}; without worst day p={fmt_p(robust.p)}" + (
        " (the worst day stands apart)" if bad_day else ""
    )
    if excluded is not None and excluded.handled:
        numbers |= {"excluded_handled": excluded.handled}
        detail += f"; {excluded.handled} parcels of agents standing out at the hub left out"
    if mates is not None and mates.handled > 0:
        # Few mates' parcels shrink their rate to the prior: the test then barely bites, and
        # grows stricter as the hub's other agents gather parcels.
        vs_mates = rate_test(k, n, mates.incidents, mates.handled, t, prior_rate=PRIOR_RATE)
        p = max(p, vs_mates.p)
        numbers |= {
            "hub_mates_rate": round(vs_mates.peer, 4),
            "p_vs_hub_mates": float(f"{vs_mates.p:.3g}"),
        }
        detail += f"; vs the hub's other agents {vs_mates.peer:.3f} p={fmt_p(vs_mates.p)}"
    if baseline.handled >= min_baseline:
        # A spike against the entity's own past is the second test; either may find it, so
        # each is charged half the false-alarm rate (Bonferroni).
        own = shrunk_rate(baseline.incidents, baseline.handled, test.peer, t.prior_strength)
        own_null = tolerance_null(own, ratio=t.tolerance_ratio, min_excess=t.min_excess)
        p_own = binomial_sf(k, n, own_null)
        if bad_day:
            p_own = max(p_own, binomial_sf(k_rest, n_rest, own_null))
        p = min(1.0, 2 * min(p, p_own))
        numbers |= {"baseline_rate": round(own, 4), "p_vs_baseline": float(f"{p_own:.3g}")}
        detail += f"; vs own baseline {own:.3f} p={fmt_p(p_own)}"
    contribution = contribution_from_p(p, t)
    if contribution <= 0:
        return []
    return [
        Finding(
            code=f"{entity_type.upper()}_PILFERAGE_RATE_HIGH",
            detail=detail,
            contribution=contribution,
            pattern=f"{PATTERN_PREFIX}{entity_type.upper()}",
            entity_type=entity_type,
            entity_id=entity_id,
            numbers=numbers,
            alert=p <= t.alpha_high,
            suggested_action=ACTION[entity_type],
        )
    ]


def counted(
    days: Mapping[date, DayCount], excluded: DayCount | None, t: Thresholds
) -> tuple[int, int]:
    """The (incidents, handled) a sequential test weighs: the window's, less the parcels of
    agents explaining the hub (`excluded`), less the worst day when it stands apart from the
    entity's other days (one bad day is an accident, not a practice)."""
    n = sum(d.handled for d in days.values())
    k = sum(d.incidents for d in days.values())
    worst = max(days.values(), key=lambda d: d.incidents) if days else None
    return _less_excluded_and_bad_day(n, k, worst, excluded, t)


def _less_excluded_and_bad_day(
    n: int, k: int, worst: DayCount | None, excluded: DayCount | None, t: Thresholds
) -> tuple[int, int]:
    """`counted` of a record whose days total (n, k) and whose worst day is `worst` (None: no
    days)."""
    if excluded is not None:
        n, k = max(0, n - excluded.handled), max(0, k - excluded.incidents)
    if worst is None or k == 0:
        return k, n
    rest = DayCount(max(0, n - worst.handled), max(0, k - worst.incidents))
    if stands_apart(worst, rest, t):
        return rest.incidents, rest.handled
    return k, n


def onsets(since: date, until: date, step_days: int) -> list[date]:
    """The candidate onsets of a practice in the window from `since` to `until`: the days after
    `since` on a calendar grid `step_days` apart (counted from `date.toordinal`'s day 1, 0001-01-01,
    so every entity and every scan shares them; with a step of 7 they fall on Sundays). Fixed
    days, not "the last week": a record from a fixed day on is a martingale under the honest
    population, a sliding one is not (`stats.onset_sequential_test`).
    The window's first day is the whole-window test's."""
    step = max(step_days, 1)
    first = since + timedelta(days=1)
    first += timedelta(days=-first.toordinal() % step)
    return [first + timedelta(days=i) for i in range(0, (until - first).days + 1, step)]


def looks_per_window(window_days: int, step_days: int) -> int:
    """How many candidate onsets a window holds at most: each is charged alpha over this."""
    return max(-(-window_days // max(step_days, 1)), 1)


def counted_from(
    days: Mapping[date, DayCount], onset: date, excluded: DayCount | None, t: Thresholds
) -> tuple[int, int]:
    """`counted` for the record from `onset` on. The parcels of the agents explaining a hub are
    known for the whole window only: their share of the record's parcels leaves with all
    their incidents, which can only weaken the hub's evidence."""
    return counted_from_each(days, [onset], excluded, t)[0]


def counted_from_each(
    days: Mapping[date, DayCount], onsets: list[date], excluded: DayCount | None, t: Thresholds
) -> list[tuple[int, int]]:
    """`counted_from` for each of `onsets`, in one pass over the days from the latest back:
    every scan weighs a hub and an agent from each of the window's onsets, and counting each
    record afresh went over the window's days once per onset. The same numbers: each record's
    totals, and its worst day the first of its days (in `days`' order) with the most
    incidents, as `max` picks it in `counted`."""
    whole = sum(c.handled for c in days.values())
    position = {d: i for i, d in enumerate(days)}
    latest_first = sorted(days, reverse=True)
    out: dict[date, tuple[int, int]] = {}
    n = k = seen = 0
    worst: DayCount | None = None
    worst_key = (-1, 0)
    for onset in sorted(set(onsets), reverse=True):
        while seen < len(latest_first) and latest_first[seen] >= onset:
            day = latest_first[seen]
            c = days[day]
            n, k, seen = n + c.handled, k + c.incidents, seen + 1
            key = (c.incidents, -position[day])
            if key > worst_key:
                worst, worst_key = c, key
        part_excluded = excluded
        if excluded is not None and excluded.handled:
            share = n / whole if whole else 0.0
            part_excluded = DayCount(round(excluded.handled * share), excluded.incidents)
        out[onset] = _less_excluded_and_bad_day(n, k, worst, part_excluded, t)
    return [out[o] for o in onsets]


def histories_before(
    days: Mapping[date, DayCount], onsets: list[date], span_days: int
) -> list[tuple[int, int]]:
    """For each of `onsets`, the entity's own (incidents, handled) over the `span_days` days
    before it: the past its record from that onset on is weighed against
    (`stats.onset_sequential_test`'s `histories`). A fixed span before a fixed day, so it no
    longer changes once the onset has passed.

    Counted raw: the parcels of agents explaining a hub and a bad day stay in. Either can only
    lift the past the record is weighed against, so it can cost a hub evidence, never bring
    an honest one an alert; leaving them out would need their counts by day."""
    ordered = sorted(days)
    out = []
    for onset in onsets:
        first = onset - timedelta(days=max(span_days, 0))
        past = [days[d] for d in ordered if first <= d < onset]
        out.append((sum(c.incidents for c in past), sum(c.handled for c in past)))
    return out


# How much likelier the alternative must make a hub's other agents' own parcels (with one incident
# fewer) before a busy agent's excess is taken for its hub's (`one_agents_excess`): a log Bayes
# factor of 1.25 (3.5 times). Simulated (`bench-results/fpilf4-20261205e/class_d.py` and its
# seeds; hubs of 270-680 parcels against 2 %, a busy agent holding 72 % of them, every parcel
# named, the draws where the hub's own test alerts and its worst agent carries it): an honest
# hub whose busy agent pilfers at 3.5x or 5x kept its alert in 15 of 3,372 such draws (at e
# times, 58), a hub pilfering at 3.5x on every agent's parcels in 181 of 660 (at e, 336; the
# rule before, none).
MATES_LEAN_AT = 1.25


def one_agents_excess(
    worst: tuple[int, int],
    others: list[tuple[int, int]],
    rest_log_bf: float,
    spread: PeerSpread,
    s: Sequential,
    t: Thresholds,
) -> bool:
    """Whether a hub excess that does not survive leaving out its worst agent
    (`sequential.held_by_one_part`) is that agent's (incidents, handled): unless the agent holds
    no more of the hub's incidents than its share of the parcels it and its named mates
    (`others`) handled together (one-sided, exact, alpha_medium), and the mates show the excess
    too. Such an agent is no worse than its mates: the excess is spread over the hub's agents,
    the hub's own, however little is left once its largest share leaves (a hub of two to four
    agents loses a third to a half of its record with one of them).

    The mates show it in either of two ways. (1) They handled at least as many parcels as the
    agent, and the rest of the hub without it still leans to the alternative (`rest_log_bf`,
    above 0). (2) Their own named parcels, with one incident fewer, are 3.5 times likelier
    (`MATES_LEAN_AT`) under the alternative than under the hub's honest peers (`spread`),
    however few they are: on a few parcels one incident leans to anything (1 in 2 parcels
    against 2 %), an excess one incident makes is luck, not a practice seen on other agents'
    parcels. Only (1) until
    2026-12-05: a hub pilfering on a busy agent's parcels (one holding more than its mates
    together) was held whatever its other agents showed, and never alerted, nor did the agent,
    no worse than its mates. Named parcels only in (2): a hub's unnamed parcels are shared
    among its agents by estimate, and a pilfering agent's share left behind would read as its
    mates' excess. Mates that show nothing leave it the agent's."""
    k, n = worst
    others_k = sum(c for c, _ in others)
    others_n = sum(h for _, h in others)
    if others_n <= 0:
        return True
    spread_out = others_n >= n and rest_log_bf > 0
    mates_lean = sequential_log_bf(max(others_k - 1, 0), others_n, spread, s) > MATES_LEAN_AT
    if not (spread_out or mates_lean):
        return True
    return hypergeometric_sf(k, n, k + others_k, n + others_n) <= t.alpha_medium


def carried_by_hub(
    agent: DayCount,
    mates: DayCount,
    ordinary_rate: float,
    t: Thresholds,
    *,
    agents: int = 1,
) -> float | None:
    """The p-value of an agent's excess over its hub-mates (one-sided, exact: of the parcels
    they handled together, the agent's hold this many of their incidents), when that excess is
    its hub's: the mates run above an ordinary hub's agents (`ordinary_rate`, alpha_medium)
    and the agent does not stand out against them (alpha_medium over the `agents` of its hubs,
    itself among them). None otherwise.

    A pilfering hub's incidents fall on every agent feeding it, and an honest agent with a
    lucky share of them runs well above the ordinary rate: what it does not do is run above
    its own mates. A pilfering agent at an honest hub runs above mates that run like any
    hub's, and is not touched.

    The agent asked about is not any agent of the hub: it is the one whose record drew an
    alert, the luckiest of the hub's agents' shares. Of `agents` honest shares of one hub's
    excess, the largest stands out at alpha_medium by chance up to `agents` times as often as
    one share does, so it must stand out at alpha_medium / `agents` (Bonferroni) to be its
    own. Until 2026-12-06 it was held to alpha_medium: at a pilfering hub of four agents an
    honest agent holding 16 of 95 incidents on 82 of 947 parcels (p = 0.005) stood out and
    kept an alert that was its hub's."""
    if mates.handled <= 0 or agent.incidents <= 0:
        return None
    if binomial_sf(mates.incidents, mates.handled, ordinary_rate) > t.alpha_medium:
        return None
    p = hypergeometric_sf(
        agent.incidents,
        agent.handled,
        agent.incidents + mates.incidents,
        agent.handled + mates.handled,
    )
    return p if p > t.alpha_medium / max(agents, 1) else None


def onset_of(
    numbers: Mapping[str, object],
    onsets: list[date],
    records: list[tuple[int, int]],
    histories: list[tuple[int, int]],
) -> date | None:
    """The candidate onset whose record an onset finding reports (`numbers`: its count and
    trials, and the history before it), of `onsets` with their `records` and `histories` as
    the test weighed them; the first, as the test picks the first of equal records. None when
    none matches (the finding is not an onset test's)."""
    record = (numbers.get("count"), numbers.get("trials"))
    history = (numbers.get("history_count", 0), numbers.get("history_trials", 0))
    for onset, rec, past in zip(onsets, records, histories, strict=True):
        if rec == record and past == history:
            return onset
    return None


def stands_apart(
    day: DayCount, other_days: DayCount, t: Thresholds, *, min_other: int = 30
) -> bool:
    """Whether one day's incidents are significant (alpha_medium) against the same entity's
    other days. Until those hold `min_other` parcels nobody can tell, and the day is set aside
    as a possible accident."""
    if day.incidents == 0:
        return False
    if other_days.handled < min_other:
        return True
    return (
        rate_test(
            day.incidents,
            day.handled,
            other_days.incidents,
            other_days.handled,
            t,
            prior_rate=PRIOR_RATE,
        ).p
        <= t.alpha_medium
    )


def stands_out(agent: DayCount, mates: DayCount, t: Thresholds) -> bool:
    """An agent whose incidents are significant (alpha_medium) against its hub-mates'."""
    return stats_stands_out(
        agent.incidents, agent.handled, mates.incidents, mates.handled, t, prior_rate=PRIOR_RATE
    )


def agents_standing_out(agents: Mapping[str, DayCount], t: Thresholds) -> set[str]:
    """The agents of one hub whose incidents stand out against the hub's ordinary agents (grown
    from the lowest rates up, so several bad agents at one hub do not hide each other)."""
    return set(_standing_out(tuple((a, c.incidents, c.handled) for a, c in agents.items()), t))


# Every terminal scan weighs its agent against every hub's agents (`standardised`), and between
# two scans only the hubs they passed have new counts: the others' answer is remembered. Keyed
# by the counts in their order (ties in the growing order are broken by it), so the answer is
# the one computed afresh.
@lru_cache(maxsize=8192)
def _standing_out(counts: tuple[tuple[str, int, int], ...], t: Thresholds) -> frozenset[str]:
    return frozenset(
        stats_parts_standing_out({a: (k, n) for a, k, n in counts}, t, prior_rate=PRIOR_RATE)
    )


def ordinary_hub_rate(hubs: list[tuple[int, int]], default: float) -> float:
    """The rate of an ordinary hub's ordinary agents: the parcel-weighted median over hubs of
    their agents' rate, the agents standing out left out (`default` with no hub). A median, not
    the pooled rate: one or two pilfering hubs must not lift what an ordinary hub is."""
    rates = sorted((k / n, n) for k, n in hubs if n > 0)
    half, seen = sum(n for _, n in rates) / 2, 0
    for rate, n in rates:
        seen += n
        if seen >= half:
            return max(rate, 1e-4)
    return default


def hub_effect(mates_k: int, mates_n: int, ref: float, t: Thresholds, hubs_alike: float) -> float:
    """The rate an agent is expected to run at, given its hub-mates' (k of n) and an ordinary
    hub's (`ref`, `ordinary_hub_rate`): its mates' rate, shrunk to `ref` while they have
    handled few parcels: hardly at all above it, by `hubs_alike` pseudo-parcels below it
    (`careful_hub_strength`: how alike the hubs' agents run).

    Hubs have two to four agents, so an agent's mates are often one other agent with a hundred
    parcels and two or three incidents. Rescaled by that one mate's luck, an agent next to a
    lucky mate looked like a pilferer at two or three times its real rate, the standardised
    agents looked far less alike than they are, and the honest spread a pilferer is weighed
    against widened until one at 3x hardly stood out. A hub running high (a pilfering hub)
    lifts its agents' expectation at once (the rate test's prior), so its excess is not laid
    on them: that can only lower an agent's evidence, a miss, never a false alarm. A careful
    hub lowers it only as far as its mates' record proves the hub careful against how much
    hubs honestly differ: the posterior mean of the hub's own rate, drawn from the hubs'
    Beta (mean `ref`, concentration `hubs_alike`), given its mates' parcels. Until 2026-12-04
    a low mate changed nothing, and an agent pilfering at 3.5x a careful hub (0.85 of an
    ordinary one) read 2.4x and was never found."""
    high = shrunk_rate(mates_k, mates_n, ref, t.prior_strength)
    if high >= ref:
        return high
    return shrunk_rate(mates_k, mates_n, ref, hubs_alike)


def careful_hub_strength(hubs: list[tuple[int, int]], ref: float, t: Thresholds) -> float:
    """How many pseudo-parcels of an ordinary hub (`ref`) a careful hub's mates are weighed
    against (`hub_effect`): the concentration a + b of the Beta the hubs' ordinary agents'
    rates are drawn from (`stats.peer_spread`; hubs running far apart left out of it, and at
    most `max_concentration`, which hubs too few to tell also get: the strongest shrinkage)."""
    return peer_spread(
        [(k, n, 1) for k, n in hubs if n > 0],
        prior_rate=ref,
        max_concentration=t.max_concentration,
    ).concentration


def ordinary_agents(
    at_hubs: Mapping[str, Mapping[str, DayCount]], t: Thresholds
) -> dict[str, tuple[set[str], int, int]]:
    """Per hub: its agents standing out, and the (incidents, handled) of its other agents."""
    out: dict[str, tuple[set[str], int, int]] = {}
    for hub, at_hub in at_hubs.items():
        standing = agents_standing_out(at_hub, t)
        out[hub] = (
            standing,
            sum(c.incidents for a, c in at_hub.items() if a not in standing),
            sum(c.handled for a, c in at_hub.items() if a not in standing),
        )
    return out


def ordinary_agents_rate(
    at_hubs: Mapping[str, Mapping[str, DayCount]], t: Thresholds, default: float
) -> float:
    """The rate of an ordinary hub's ordinary agents (`ordinary_hub_rate`) over these hubs."""
    return ordinary_hub_rate([(k, n) for _, k, n in ordinary_agents(at_hubs, t).values()], default)


def standardised(
    agents: Mapping[str, DayCount],
    at_hubs: Mapping[str, Mapping[str, DayCount]],
    t: Thresholds,
) -> tuple[dict[str, tuple[int, int]], float]:
    """Each agent's (incidents, trials) measured against its own hub-mates, and the reference
    rate those trials are expressed in.

    A hub's parcels are its agents' parcels, so a pilfering hub lifts every agent feeding it:
    judged on raw rates those agents look like pilferers, and they make the agents' honest
    population look unalike (a wide spread, in which a real pilferer at 2.5-3x hardly stands
    out). Indirect standardisation takes the hub out: an agent's expected rate is its
    hub-mates' rate (the ordinary ones, `agents_standing_out` left out; shrunk to the
    reference while they have handled few parcels), averaged over its hubs by its parcels
    there, and its trials are rescaled so that an agent running exactly like its mates runs
    at the reference rate (the pooled rate of all agents). The standardised ratio k / n' is the
    agent's rate relative to its mates times the reference: a population of these is what the
    honest spread is estimated from, and what each agent's sequential test weighs. The mates'
    rate counts at once where it runs above an ordinary hub's, and below it only as far as the
    hubs' own spread allows (`hub_effect`): one lucky mate is no hub effect. An agent seen at
    no hub is expected to run like an ordinary hub's agents (with no hub at all, its raw
    counts: judged against all agents)."""
    total_k = sum(c.incidents for c in agents.values())
    total_n = sum(c.handled for c in agents.values())
    ref = peer_rate(total_k, total_n, PRIOR_RATE, t.prior_strength)
    ordinary = ordinary_agents(at_hubs, t)
    hubs = [(k, n) for _, k, n in ordinary.values()]
    floor = ordinary_hub_rate(hubs, ref)
    hubs_alike = careful_hub_strength(hubs, floor, t)
    weighted: dict[str, float] = {}
    weights: dict[str, int] = {}
    for hub, at_hub in at_hubs.items():
        standing, ord_k, ord_n = ordinary[hub]
        for a, c in at_hub.items():
            if c.handled <= 0:
                continue
            mine = a not in standing
            mates_k = ord_k - (c.incidents if mine else 0)
            mates_n = ord_n - (c.handled if mine else 0)
            expected = hub_effect(mates_k, mates_n, floor, t, hubs_alike)
            weighted[a] = weighted.get(a, 0.0) + c.handled * expected
            weights[a] = weights.get(a, 0) + c.handled
    out: dict[str, tuple[int, int]] = {}
    for a, c in agents.items():
        # An agent seen at no hub is expected to run like an ordinary hub's agents.
        expected = weighted[a] / weights[a] if weights.get(a) else floor
        out[a] = (c.incidents, max(round(c.handled * expected / ref), c.incidents))
    return out, ref


def with_unnamed_share(part: DayCount, hub: DayCount, named: DayCount) -> DayCount:
    """The record at a hub of some of its agents (`part`, counted on the parcels naming them),
    grown by their share of the hub's parcels that name no agent: `hub` is the hub's whole
    record, `named` the part of it whose parcels name an agent.

    A partner may leave the agent off a parcel (rapidroute's published scans name none): the
    parcel is still some agent's, and its incident still that agent's doing or the hub's. Which
    agent's the scans cannot tell, and a partner leaves the agent off whoever the agent, so the
    unnamed parcels are shared out as the named ones are (an agent with a third of the named
    parcels holds a third of the unnamed ones) and the unnamed incidents as the named incidents
    are (an agent with most of the named incidents is the likeliest cause of the unnamed ones),
    never less than as its parcels are.
    Left out of the hub's record, an agent explaining it then takes its whole record along, not
    just the part that names it: a hub whose pilfering agents went unnamed on two parcels in
    three kept two thirds of their pilferage and alerted for it. A hub naming no agent at all
    (desipost) has no part to grow, and one naming every agent keeps its part as counted."""
    if named.handled <= 0 or hub.handled <= named.handled:
        return part
    unnamed_n = hub.handled - named.handled
    unnamed_k = max(hub.incidents - named.incidents, 0)
    parcels = part.handled / named.handled
    # The unnamed incidents go with at least the agents' share of the parcels: an agent that
    # explains the hub by its record elsewhere may run ordinary here, and taking its parcels
    # without their incidents would leave the hub's rest hotter than the hub is (an honest hub
    # whose named parcels were mostly one ordinary agent's alerted in 14-19 % of simulated
    # runs). So what is left of the hub never runs above its unnamed parcels' own rate.
    incidents = max(part.incidents / named.incidents, parcels) if named.incidents else parcels
    return DayCount(
        part.handled + round(unnamed_n * parcels),
        part.incidents + round(unnamed_k * incidents),
    )


# A hub's parcels by the part of the journey it held (`features.service.pilferage_counts`): the
# journey's only hub, the last of several (where a loss or damage on the way is declared and
# the delivery weighed), and an earlier one. Parcels of `handled` in none of them (journeys
# counted before the parts were kept) are weighed as they are.
PARTS = ("only", "last", "earlier")
ROLE_METRICS = tuple(f"{m}_{p}" for p in PARTS for m in ("handled", "incidents"))
# How many incidents the other hubs' parcels in a part must lead one to expect, at the network's
# rate, before the part's own rate is read from them (`exposure_scales`). A rate read from a
# record expecting fewer is a guess within a factor of two or three (a Poisson count of 4 is
# 0-8 at 95 %), and a hub's parcels weighed by it carry that error into its evidence: on a wide
# world, a desipost hub whose one partner hub had no incident in its first 35 parcels was
# weighed at 0.31 of its parcels and alerted on its 8 honest incidents in 83 on day 7.
PART_MIN_EXPECTED = 10.0


@dataclass(frozen=True, slots=True)
class Exposure:
    """What one of a hub's parcels weighs (`scale`, in parcels of the network's average
    exposure) and how uncertain that weight is (`rel_var`: the relative variance of the hub's
    expected incidents that comes from reading its parts' rates off other hubs that disagree
    beyond binomial chance; 0 where they agree, or where a part is the whole network)."""

    scale: float
    rel_var: float = 0.0


def exposure_scales(hubs: Mapping[str, Mapping[str, int]], t: Thresholds) -> dict[str, float]:
    """Per hub, `exposure_of`'s scale."""
    return {hub: e.scale for hub, e in exposure_of(hubs, t).items()}


# A weighted median's sampling variance over a mean's (asymptotically pi / 2; 1.35 for the
# median of three): a part's rate is read as the other hubs' median, which rests on fewer of
# their incidents than their total.
MEDIAN_VARIANCE_FACTOR = math.pi / 2


def exposure_of(hubs: Mapping[str, Mapping[str, int]], t: Thresholds) -> dict[str, Exposure]:
    """Per hub, what one of its parcels weighs in parcels of the network's average exposure:
    its parcels' expected incidents at the network's rate for the part of the journey it held
    (only hub, last of several, earlier), over its parcels at the network's average rate. An
    honest hub's incidents are then a multiple of its weighed parcels whatever its place in
    the journeys, and hubs of differently shaped networks are peers.

    An incident is counted for the hub where it happened (`features.custody`): a loss or transit
    damage where it is declared, the journey's last hub; a weight drop by lot among the hubs
    since the last intact weighing. So a hub that passes parcels on to another hub carries a
    fraction of the incidents a journey's only or last hub does. Counted raw, a partner whose
    journeys name two hubs had hubs running at half the rate of a partner's naming one: the
    hubs looked far less alike than they are, an honest one-hub partner's hubs ran at twice
    the two-hub partner's as if pilfering, and a two-hub partner's hub pilfering at 3x on the
    parcels it received stood no higher than an honest one-hub hub.

    A part's rate for a hub is an ordinary other hub's there (the parcel-weighted median of the
    other hubs' rates in that part, as `ordinary_hub_rate`, shrunk to the pooled rate while
    they hold few parcels; the network's average where no other hub holds any): a pilferer
    holding half a part's parcels set the median itself and was weighed at its own rate. A
    hub's parcels in no part (counted before the parts were kept) weigh as they are, scale 1:
    counted as `earlier`, the cheapest part, an old-counters hub read near 100 %.

    A part whose other hubs' parcels lead one to expect fewer than `PART_MIN_EXPECTED`
    incidents at the pooled rate tells no rate of its own yet: its parcels weigh as the
    network's average (scale 1, as counted raw). Early in a window, or at a partner of two or
    three hubs, the median there was one hub's handful of parcels, and a partner hub with no
    incident yet weighed a hub's parcels at a quarter of their number, so four times its
    honest rate.

    The weight is an estimate, and `rel_var` says how far it is from known where the other
    hubs of a part disagree beyond binomial chance (`_disagreement`), times
    `MEDIAN_VARIANCE_FACTOR` for a median. Only the part's rate *relative to the network's*
    weighs a hub against its peers, and a part that makes up the network's exposure moves both
    alike: each part's variance counts by (1 - its share of the network's expected incidents)
    squared (none where one part is the whole network), and by the square of its share of the
    hub's own expected incidents. The binomial noise of a part's rate read off agreeing hubs
    is left to the peers' spread, as every peer rate's is (the sequential tests read the
    peers' mean as known). On the world written from the specification four honest hubs alone
    held one-hub journeys and drew 1, 2, 8 and 15 incidents in about 175 parcels: a hot hub
    read its part's rate off a cold one's 2, weighed its parcels at 0.55 of their number, and
    was alerted on a point weight that its evidence did not carry."""
    return HubExposures.of(hubs).all(t)


class HubExposures:
    """`exposure_of` kept for a population of hubs that changes a few hubs at a time: each hub's
    cells by part, the network's integer sums (incidents, parcels, parcels per part, each
    part's `_Scatter`) and each part's hubs sorted by rate, patched hub by hub (`update`, as
    `features.entity_totals_view` tells its views); the figures read off them (the pooled
    rate, each part's ordinary rate, the medians' running totals) once per change; a hub's
    exposure on demand (`exposure`), or every hub's (`all`).

    Every scored event naming a hub weighs it, and every hub for its peers, against the window's
    hubs; built afresh, that was a pass over the whole population per event (parsing every
    hub's row, sorting each part's rates twice, and every hub's exposure when one was asked
    for), though between two events only the hubs of one return had new counts. The same
    numbers: integer sums patched exactly, the medians read from the same sorted rates, and
    each hub's exposure computed by the same arithmetic as from a fresh build."""

    __slots__ = ("_cells", "_handled", "_k", "_n", "_part_n", "_rates", "_scatter", "_seen")

    def __init__(self) -> None:
        # Per hub: its (incidents, parcels) in each part (`PARTS` order), and its parcels
        # in no part.
        self._cells: dict[str, tuple[tuple[tuple[int, int], ...], int]] = {}
        # Per hub: its (incidents, parcels) over the window, as summed for the pooled rate.
        self._handled: dict[str, tuple[int, int]] = {}
        self._k = self._n = 0
        self._part_n = [0] * len(PARTS)
        self._scatter = [_Scatter()] * len(PARTS)
        # Per part, its hubs with parcels there as (rate, parcels, hub), sorted.
        self._rates: list[list[tuple[float, int, str]]] = [[] for _ in PARTS]
        # What was read off the sums since they last changed, per thresholds.
        self._seen: dict[Thresholds, _ExposureFigures] = {}

    @classmethod
    def of(cls, hubs: Mapping[str, Mapping[str, int]]) -> HubExposures:
        table = cls()
        for hub, row in hubs.items():
            table.update(hub, row)
        return table

    def update(self, hub: str, row: Mapping[str, int]) -> None:
        """Take the hub's window totals as they now are (a new hub comes after those seen)."""
        cells = tuple(
            (max(row.get(f"incidents_{p}", 0), 0), max(row.get(f"handled_{p}", 0), 0))
            for p in PARTS
        )
        unsplit = max(row.get("handled", 0) - sum(n for _, n in cells), 0)
        totals = (max(row.get("incidents", 0), 0), max(row.get("handled", 0), 0))
        old = self._cells.get(hub)
        if old is not None:
            if old == (cells, unsplit) and self._handled[hub] == totals:
                return
            old_k, old_n = self._handled[hub]
            self._k -= old_k
            self._n -= old_n
            for i, (k, n) in enumerate(old[0]):
                self._part_n[i] -= n
                if n > 0:
                    self._scatter[i] = self._scatter[i].without(k, n)
                    rates = self._rates[i]
                    del rates[bisect_left(rates, (k / n, n, hub))]
        self._cells[hub] = (cells, unsplit)
        self._handled[hub] = totals
        self._k += totals[0]
        self._n += totals[1]
        for i, (k, n) in enumerate(cells):
            self._part_n[i] += n
            if n > 0:
                self._scatter[i] = self._scatter[i].with_cell(k, n)
                insort(self._rates[i], (k / n, n, hub))
        self._seen.clear()

    def exposure(self, hub: str, t: Thresholds) -> Exposure | None:
        """The hub's `exposure_of` (None: a hub not in the population)."""
        cells = self._cells.get(hub)
        if cells is None:
            return None
        figures = self._figures(t)
        if figures is None:
            return Exposure(1.0)
        return figures.exposure(hub, *cells)

    def all(self, t: Thresholds) -> dict[str, Exposure]:
        """Every hub's `exposure_of`, in the order the hubs came."""
        figures = self._figures(t)
        if figures is None:
            return {hub: Exposure(1.0) for hub in self._cells}
        if figures.everyone is None:
            # Once per state: a scan naming two hubs reads their peers twice.
            figures.everyone = {
                hub: figures.exposure(hub, *cells) for hub, cells in self._cells.items()
            }
        return dict(figures.everyone)

    def _figures(self, t: Thresholds) -> _ExposureFigures | None:
        if sum(self._part_n) <= 0:
            return None
        figures = self._seen.get(t)
        if figures is None:
            figures = self._seen[t] = _ExposureFigures(self, t)
        return figures


class _ExposureFigures:
    """What `exposure_of` reads off the whole network, for one state of a `HubExposures`: the
    pooled rate, each part's ordinary rate and share of the network's expected incidents, the
    reference rate, and each part's running parcel totals over its sorted rates (its medians
    without one hub)."""

    __slots__ = ("_cum", "_rates", "_scatter", "_t", "everyone", "part_n", "pooled", "ref", "share")

    def __init__(self, table: HubExposures, t: Thresholds) -> None:
        self._t = t
        self.everyone: dict[str, Exposure] | None = None
        self._rates = table._rates
        self._scatter = table._scatter
        self.pooled = peer_rate(table._k, table._n, PRIOR_RATE, t.prior_strength)
        self.part_n = dict(zip(PARTS, table._part_n, strict=True))
        split_n = sum(self.part_n.values())
        self._cum = [list(accumulate(n for _, n, _ in rates)) for rates in self._rates]
        # The network's average exposure: every hub's parts at an ordinary hub's rate there
        # (`ordinary_hub_rate` over the part's hubs: the first whose running total of parcels
        # reaches half of them).
        network = {}
        for i, (p, n) in enumerate(self.part_n.items()):
            if n > 0:
                cum = self._cum[i]
                median = self._rates[i][bisect_left(cum, cum[-1] / 2)][0]
                network[p] = self.rate_of(max(median, 1e-4), n)
        expected_all = sum(network[p] * n for p, n in self.part_n.items() if n > 0)
        self.ref = expected_all / split_n
        # Each part's share of the network's expected incidents (parcels in no part count too).
        unsplit = sum(u for _, u in table._cells.values())
        whole = expected_all + unsplit * self.ref
        self.share = {p: network[p] * n / whole for p, n in self.part_n.items() if n > 0}

    def rate_of(self, median: float, n: int) -> float:
        return shrunk_rate(round(median * n), n, self.pooled, self._t.prior_strength)

    def median_without(self, i: int, hub: str, k: int, n: int) -> float:
        """`ordinary_hub_rate` over the part's other hubs (the pooled rate where no other hub
        has parcels there), for a hub with (k, n) there, n > 0."""
        rates, cum = self._rates[i], self._cum[i]
        j = bisect_left(rates, (k / n, n, hub))
        total = cum[-1]
        half = (total - n) / 2
        if total - n <= 0:
            return self.pooled
        at = bisect_left(cum, half)
        if at < j:
            return max(rates[at][0], 1e-4)
        # Past the hub itself, the other hubs' running total is `n` short.
        at = bisect_left(cum, half + n, lo=j + 1)
        return max(rates[at][0], 1e-4) if at < len(rates) else self.pooled

    def exposure(self, hub: str, cells: tuple[tuple[int, int], ...], unsplit: int) -> Exposure:
        n = sum(n_ for _, n_ in cells) + unsplit
        if n <= 0:
            return Exposure(1.0)
        ref = self.ref
        expected = unsplit * ref
        guesses: list[tuple[float, float]] = []  # (expected incidents, relative variance)
        for i, (p, (k_, n_)) in enumerate(zip(PARTS, cells, strict=True)):
            if n_ <= 0:
                continue
            others = self.part_n[p] - n_
            told = others > 0 and others * self.pooled >= PART_MIN_EXPECTED
            if not told:
                expected += n_ * ref
                continue
            # Every hub's part is read off all the others: their sums, less its own (a list
            # of the others per hub made each scored event cost the square of the hubs).
            median = self.median_without(i, hub, k_, n_)
            part = n_ * self.rate_of(median, others)
            expected += part
            disagreement = self._scatter[i].without(k_, n_).disagreement(median)
            relative = (1 - self.share.get(p, 0.0)) ** 2 * MEDIAN_VARIANCE_FACTOR * disagreement
            guesses.append((part, relative))
        rel_var = sum(e * e * v for e, v in guesses) / (expected * expected) if expected else 0.0
        return Exposure(expected / (n * ref), rel_var)


def _disagreement(cells: Iterable[tuple[int, int]], rate: float) -> float:
    """How far a part's rate read off other hubs' (incidents, parcels) is from known, beyond
    the binomial noise every rate carries: the variance of their parcel-weighted mean as their
    own scatter about their pooled rate shows it (with the small-sample correction
    m / (m - 1)), less what binomial chance alone would scatter them by, over `rate` squared;
    0 where they agree as chance allows, or with fewer than two hubs (nothing to see it from).
    Hubs at one rate drawn 1, 2 and 8 incidents in about 160 parcels each disagree; three at
    4 in 120 do not."""
    return _Scatter.of(cells).disagreement(rate)


@dataclass(frozen=True, slots=True)
class _Scatter:
    """The sums `_disagreement` reads, over hubs' (incidents, parcels) with parcels: how many,
    their incidents and parcels, and the sums of incidents squared, incidents times parcels and
    parcels squared. Integers, so one hub's own cell comes out of a part's sums exactly
    (`without`), and the scatter is computed exactly until its last division."""

    hubs: int = 0
    k: int = 0
    n: int = 0
    kk: int = 0
    kn: int = 0
    nn: int = 0

    @classmethod
    def of(cls, cells: Iterable[tuple[int, int]]) -> _Scatter:
        held = [(k, n) for k, n in cells if n > 0]
        return cls(
            hubs=len(held),
            k=sum(k for k, _ in held),
            n=sum(n for _, n in held),
            kk=sum(k * k for k, _ in held),
            kn=sum(k * n for k, n in held),
            nn=sum(n * n for _, n in held),
        )

    def with_cell(self, k: int, n: int) -> _Scatter:
        """The sums with one more hub's cell (one with parcels)."""
        return _Scatter(
            self.hubs + 1, self.k + k, self.n + n, self.kk + k * k, self.kn + k * n, self.nn + n * n
        )

    def without(self, k: int, n: int) -> _Scatter:
        """The sums without one hub's cell (one of those summed: a cell with parcels)."""
        if n <= 0:
            return self
        return _Scatter(
            self.hubs - 1, self.k - k, self.n - n, self.kk - k * k, self.kn - k * n, self.nn - n * n
        )

    def disagreement(self, rate: float) -> float:
        if self.hubs < 2 or rate <= 0:
            return 0.0
        m, k, n = self.hubs, self.k, self.n
        # sum of n_i^2 (k_i / n_i - k / n)^2 = sum of (k_i - n_i k / n)^2, times n^2 to stay whole.
        spread = n * n * self.kk - 2 * k * n * self.kn + k * k * self.nn
        scatter = m / (m - 1) * (spread / n**4)
        pooled = k / n
        chance = pooled * (1 - pooled) / n
        return max(scatter - chance, 0.0) / (rate * rate)


def with_exposure_uncertainty(spread: PeerSpread, rel_var: float) -> PeerSpread:
    """The honest population a hub is weighed against when its weighed parcels are known only
    to a relative variance `rel_var` (`exposure_of`): the hub's honest rate per weighed parcel
    is a peer's rate (the Beta of `spread`) times its weight's error (mean 1, relative variance
    `rel_var`), so the Beta is widened to that product's relative variance, its mean kept. The
    sequential test then weighs the hub's record by the beta-binomial predictive of an
    expectation read off a few incidents, not a point: a hub is not alerted on a peer rate
    that a handful of incidents set."""
    if rel_var <= 0:
        return spread
    mean = min(max(spread.rate, 1e-6), 0.5)
    peers = (1 - mean) / (mean * (spread.concentration + 1))
    combined = (1 + peers) * (1 + rel_var) - 1
    return PeerSpread(spread.rate, max((1 - mean) / (mean * combined) - 1, 1.0))


def weighed(handled: int, incidents: int, scale: float) -> int:
    """`handled` parcels in parcels of the network's average exposure (`exposure_scales`), never
    fewer than the incidents they hold (neither below 0)."""
    return max(round(max(handled, 0) * max(scale, 0.0)), incidents, 0)


def hubs_without_explaining(
    hubs: Mapping[str, Mapping[str, int]],
    agents_at: Mapping[str, Mapping[str, DayCount]],
    explaining: Callable[[str], set[str]],
) -> dict[str, dict[str, int]]:
    """Every hub's (handled, incidents) without the parcels of the agents explaining it (those
    `explaining(hub)` names, with their share of the hub's parcels naming no agent:
    `with_unnamed_share`), as the hub being scored is counted: the hubs' peers.

    Counted raw, every hub with a pilfering agent ran high among the peers and made the hubs
    look far less alike than they are (a spread of a + b near 100, where honest hubs differ
    little), so a hub pilfering at 3-4x did not stand out against them. A hub whose agents are
    not named (desipost) keeps its counts."""
    out = {hub: dict(row) for hub, row in hubs.items()}
    for hub, agents in agents_at.items():
        if hub not in out:
            continue
        row = out[hub]
        left_out = with_unnamed_share(
            _total([agents[a] for a in explaining(hub) & agents.keys()]),
            DayCount(row.get("handled", 0), row.get("incidents", 0)),
            _total(list(agents.values())),
        )
        row["handled"] = max(row.get("handled", 0) - left_out.handled, 0)
        row["incidents"] = max(row.get("incidents", 0) - left_out.incidents, 0)
    return out


def _total(counts: list[DayCount]) -> DayCount:
    return DayCount(sum(c.handled for c in counts), sum(c.incidents for c in counts))
