"""Where a drawn world's QC evidence is lost: every planted QC agent's passes and contradicting
buyers over time, what an oracle SPRT reaches and when, and what the sequential test reaches
with and without the contradictions of buyers named away from the agent.

Replayed offline from the world's own actions (no database): every QC pass by an agent and every
`WRONG_ITEM`/`USED_ITEM` claim on a passed return, in time order, counted once per buyer as
fraud counts them (a buyer's repeats leave with a pass each). The sequential test is fraud's own
(`stats.robust_baseline` over every other agent with `leave_out`, `stats.sequential_test` at the
configured alert), evaluated at each of the agent's contradictions and at the world's end. The
oracle knows the agent's realized ratio and tests it against a binomial at the pooled per-buyer
rate of the agents not planted for QC: no test holding the stated false-alarm rate can do
better, so an agent the oracle never names within the world is lost to the evidence itself.

    python -m bench.qc_replay 101 102 ...      # development seeds (`ranges.DEV_SEEDS`)
    python -m bench.qc_replay alarms 101 ...   # every agent and hub, planted or not
    python -m bench.qc_replay --ranges wide 5005 ...   # worlds drawn from another range set
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from disputedesk.simulate.generator import World, generate
from disputedesk.simulate.ranges import RANGE_SETS, WorldRanges, draw_market
from services.fraud.detectors.stats import robust_baseline, sequential_test
from services.fraud.scoring.base import default_config

NAMING = frozenset({"WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"})
CONTRADICTING = frozenset({"WRONG_ITEM", "USED_ITEM"})
PRIOR_RATE = 0.03
# The range set the seeds' worlds are drawn from (`--ranges`; the development ranges by default).
RANGES = WorldRanges()
# Whether a buyer's contradiction of an agent leaves its counts, as of a moment.
Excluded = Callable[[str, str, datetime], bool]


def qc_records(
    world: World, entity: str = "agent"
) -> tuple[dict[str, list[tuple[datetime, str, str]]], dict[str, list]]:
    """Per QC entity (`entity`: "agent", or "hub" with desipost's passes too), its passes and
    contradictions in time order ((at, "pass" or "contra", buyer)); per buyer, their named
    claims on delivered, unharmed returns ((at, the entity that passed the return at QC or
    None, for agents the agent the scans name as picking it up or None))."""
    buyer: dict[str, str] = {}
    passed_by: dict[str, str] = {}
    picked_by: dict[str, str] = {}
    per_agent: dict[str, list[tuple[datetime, str, str]]] = defaultdict(list)
    named: dict[str, list[tuple[datetime, str | None, str | None]]] = defaultdict(list)
    for a in world.actions:
        if a.kind == "scan" and entity == "agent" and a.body["agent"]:
            picked_by.setdefault(a.return_id, a.body["agent"])
        if a.kind == "return":
            buyer[a.return_id] = a.body["buyer_id"]
        elif (
            a.kind == "scan"
            and a.body["type"] == "QC_PASSED"
            and a.body[entity] is not None  # a pass naming no agent is its hub's alone
        ):
            passed_by[a.return_id] = a.body[entity]
            per_agent[a.body[entity]].append((a.at, "pass", buyer[a.return_id]))
        elif a.kind == "escalation":
            claim, who = a.body["claim_type"], buyer[a.return_id]
            if (
                claim in NAMING
                and a.facts.get("terminal") == "DELIVERED"
                and not a.facts["incident"]
            ):
                named[who].append((a.at, passed_by.get(a.return_id), picked_by.get(a.return_id)))
            if a.return_id in passed_by and claim in CONTRADICTING:
                per_agent[passed_by[a.return_id]].append((a.at, "contra", who))
    for records in per_agent.values():
        records.sort(key=lambda r: r[0])
    return per_agent, named


def counts(
    agent: str, records: Sequence[tuple[datetime, str, str]], until: datetime, out: Excluded
) -> tuple[int, int]:
    """The agent's (contradicting buyers, passes) by `until`, each buyer once, as fraud counts
    them; a buyer `out` leaves with the pass they contradicted."""
    seen: set[str] = set()
    k = n = 0
    for at, kind, who in records:
        if at > until:
            break
        if kind == "pass":
            n += 1
        elif who in seen or out(agent, who, until):
            n -= 1
            seen.add(who)
        else:
            seen.add(who)
            k += 1
    return k, max(n, 0)


def replay(seed: int) -> list[dict[str, Any]]:
    config = default_config()
    t, s = config.thresholds, config.sequential
    alert = math.log(1 / s.alpha)
    world = generate(draw_market(seed, RANGES), seed)
    truth = world.truth
    planted = {e for _, e in truth.entities.get("qc_contradiction", set())}
    per_agent, named = qc_records(world)
    end = max(a.at for a in world.actions)

    def nobody(agent: str, who: str, until: datetime) -> bool:
        return False

    named_elsewhere = _named_elsewhere(named)

    honest = [a for a in per_agent if a not in planted]
    hk, hn = map(sum, zip(*(counts(a, per_agent[a], end, nobody) for a in honest), strict=True))
    p0 = hk / hn if hn else PRIOR_RATE
    rows = []
    for agent in sorted(planted):
        records = per_agent.get(agent, [])
        first = truth.first_event.get(("qc_contradiction", "agent", agent))
        realized = truth.realized.get(("qc_contradiction", "agent", agent), 0.0)
        # An agent that showed no excess is tested for a hair of one (the oracle's log ratio
        # must be positive); it never crosses.
        ratio = max(realized, 1.01)
        row: dict[str, Any] = {"seed": seed, "agent": agent, "realized": round(realized, 2)}
        row["buyers"], row["passes"] = counts(agent, records, end, nobody)
        # The oracle: its own ratio against a binomial honest rate, over its trials in order.
        step_pass = math.log((1 - min(ratio * p0, 0.99)) / (1 - p0))
        log_lr, crossed, seen = 0.0, None, set()
        for at, kind, who in records:
            if kind == "pass":
                log_lr += step_pass
            elif who in seen:
                log_lr -= step_pass
            else:
                seen.add(who)
                log_lr += math.log(ratio) - step_pass
            if crossed is None and log_lr >= alert:
                crossed = at
        row["oracle"] = (round(log_lr, 2), _days(first, crossed))
        looks = [at for at, kind, _ in records if kind == "contra"] + [end]
        for name, out in (("counted", nobody), ("named_elsewhere_out", named_elsewhere)):
            best, crossed = -math.inf, None
            for look in looks:
                k, n = counts(agent, records, look, out)
                peers = [counts(a, per_agent[a], look, out) for a in per_agent if a != agent]
                spread = robust_baseline(peers, t, prior_rate=PRIOR_RATE, leave_out=True).spread
                log_bf = sequential_test(k, n, spread, s).log_bf
                best = max(best, log_bf)
                if crossed is None and log_bf >= alert and k >= s.min_events:
                    crossed = look
            row[name] = (round(best, 2), _days(first, crossed))
        rows.append(row)
    return rows


def alarms(seed: int) -> list[dict[str, Any]]:
    """Every QC agent and hub of a world, planted or not, through the sequential test as it
    stands (buyers named away from the entity out), once with the honest spread weighed by
    trials (`peer_spread`) and once by information (`information_spread`, as pilferage weighs
    hubs and agents): the best Bayes factor each reaches and when it first crosses the alert
    (days after the entity's first planted event, or after the world's start if it is honest).
    Hubs are tested on their own passes: the agents that explain a hub and the hub's test
    without its worst agent are left out, so an agent-naming partner's hub may cross here and
    not in fraud; a desipost hub (no agents named) is weighed as fraud weighs it, at its own
    alert (1/`qc_unnamed_hub_seq_alpha`)."""
    config = default_config()
    t, s = config.thresholds, config.sequential
    alert = math.log(1 / s.alpha)
    world = generate(draw_market(seed, RANGES), seed)
    truth = world.truth
    start = min(a.at for a in world.actions)
    end = max(a.at for a in world.actions)
    rows = []
    for etype in ("agent", "hub"):
        records, named = qc_records(world, etype)
        formats = {
            a.body[etype]: a.partner_format
            for a in world.actions
            if a.kind == "scan" and a.body["type"] == "QC_PASSED"
        }
        named_elsewhere = _named_elsewhere(named)
        for eid in sorted(records):
            key = ("qc_contradiction", etype, eid)
            first = truth.first_event.get(key)
            row: dict[str, Any] = {
                "seed": seed,
                "type": etype,
                "entity": eid,
                "partner": formats.get(eid, ""),
                "planted": key in truth.realized,
                "realized": truth.realized.get(key, 0.0),
            }
            row["buyers"], row["passes"] = counts(eid, records[eid], end, named_elsewhere)
            looks = [at for at, kind, _ in records[eid] if kind == "contra"] + [end]
            level = (
                math.log(1 / config.qc_unnamed_hub_seq_alpha)
                if etype == "hub" and row["partner"] == "desipost"
                else alert
            )
            for name, by_information in (("trials", False), ("information", True)):
                best, crossed = -math.inf, None
                for look in looks:
                    k, n = counts(eid, records[eid], look, named_elsewhere)
                    if k < s.min_events:
                        continue
                    peers = [
                        counts(o, records[o], look, named_elsewhere) for o in records if o != eid
                    ]
                    spread = robust_baseline(
                        peers,
                        t,
                        prior_rate=PRIOR_RATE,
                        leave_out=True,
                        by_information=by_information,
                    ).spread
                    log_bf = sequential_test(k, n, spread, s).log_bf
                    best = max(best, log_bf)
                    if crossed is None and log_bf >= level:
                        crossed = look
                row[name] = (round(best, 2), _days(first or start, crossed))
            rows.append(row)
    return rows


def _named_elsewhere(named: dict[str, list]) -> Excluded:
    """A buyer's contradiction leaves an entity's counts once the buyer is named away from it:
    on a return the entity did not pass and, for an agent, did not pick up either (its own
    pickups without QC are its own parcels: the rule tried on 2026-12-05 and not adopted by the
    product, docs/fraud-detection-journal.md, "QC contradictions on a marketplace we did not
    simulate")."""

    def out(entity: str, who: str, until: datetime) -> bool:
        return any(
            at <= until and by != entity and pick != entity for at, by, pick in named.get(who, ())
        )

    return out


def _days(first: datetime | None, at: datetime | None) -> float | None:
    return round((at - first).total_seconds() / 86400, 1) if first and at else None


def main(seeds: Sequence[str]) -> None:
    global RANGES
    if seeds and seeds[0] == "--ranges":
        RANGES = RANGE_SETS[seeds[1]][1]
        seeds = seeds[2:]
    if seeds and seeds[0] == "alarms":
        print("seed type entity partner planted realized buyers passes trials information")
        for seed in seeds[1:]:
            for r in alarms(int(seed)):
                print(*r.values(), flush=True)
        return
    print(
        "seed agent realized buyers passes oracle(end, days) counted(best, days)",
        "named_elsewhere_out(best, days)",
    )
    for seed in seeds:
        for r in replay(int(seed)):
            print(*r.values(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
