"""The I/O half of the pilferage detector (`detectors.pilferage`): the hubs' and agents' handled
and incident counts it tests, read from the features."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.detectors import pilferage
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.pilferage import DayCount
from services.fraud.detectors.sequential import (
    demoted_where,
    held_by_one_part,
    strongest_of,
    without_worst_part,
)
from services.fraud.detectors.stats import PeerSpread, SequentialTest, Thresholds, fmt_p
from services.fraud.features import repository as features
from services.fraud.features.service import counted_hubs
from services.fraud.models import ReturnFacts
from services.fraud.scoring.base import AssessorBase, ScoringConfig


class Carried(NamedTuple):
    """An agent's excess read as its hub's (`PilferageScoring.carried`): the p-value of the
    agent's excess over its mates, their counts, an ordinary hub's agents' rate, the number of
    agents it is the luckiest of, and the span read (from `since`, or the window)."""

    p: float
    mates: DayCount
    ordinary: float
    family: int
    since: date | None

    def why(self) -> str:
        span = "" if self.since is None else f" since {self.since.isoformat()}"
        return (
            f"its hub-mates run high too{span} ({self.mates.incidents}/{self.mates.handled} "
            f"against an ordinary hub's {self.ordinary:.3f}) and it does not stand out against "
            f"them (p={fmt_p(self.p)}, one of {self.family} agents)"
        )

    def numbers(self) -> dict[str, float | int | str]:
        out: dict[str, float | int | str] = {"ordinary_hub_rate": self.ordinary}
        if self.since is not None:
            out["mates_since"] = self.since.isoformat()
        return out


# What the step counts per hub and agent.
METRICS = ("handled", "incidents")
# A hub's window totals, with its parcels by the part of the journey it held.
HUB_METRICS = (*METRICS, *pilferage.ROLE_METRICS)


def days_read(at: datetime, config: ScoringConfig) -> tuple[date, date]:
    """The days a terminal scan at `at` reads of its hubs and agent: the short window and the
    baseline before it."""
    return (at - config.short_window - config.baseline).date(), at.date()


async def prefetch_days(
    session: AsyncSession,
    scans: Iterable[tuple[datetime, Iterable[features.Entity]]],
    config: ScoringConfig,
) -> None:
    """Read the days of a batch's terminal scans' hubs and agents (each scan's time and the
    entities it may weigh) in one statement: each scan's `pilferage` then finds them among the
    batch's kept reads (`features.window_days`) instead of reading its own. An entity missed
    here, or a window reaching past the read, is read when it is asked for. Outside a deferred
    batch nothing is kept, so nothing is read ahead."""
    if not features.in_deferred_batch(session):
        return
    entities: set[features.Entity] = set()
    windows = []
    for at, named in scans:
        entities.update(named)
        windows.append(days_read(at, config))
    if entities:
        since = min(w[0] for w in windows)
        until = max(w[1] for w in windows)
        await features.window_days(session, sorted(entities), list(METRICS), since, until)


class HubsAgents:
    """Every hub's agents with their counts in a window, hub → agent → counts, in the order
    of the `hub_agent` read (`features.entity_totals_view`): each terminal scan weighs every
    agent against its hub-mates, and rebuilding the map from the whole read for every scan
    cost a share of the scan that grows with the network."""

    __slots__ = ("hubs",)

    def __init__(self) -> None:
        self.hubs: dict[str, dict[str, pilferage.DayCount]] = {}

    def update(self, entity_id: str, totals: Mapping[str, int]) -> None:
        hub, _, agent = entity_id.partition("|")
        self.hubs.setdefault(hub, {})[agent] = pilferage.DayCount(
            totals.get("handled", 0), totals.get("incidents", 0)
        )


class AgentsCounts:
    """Every agent's counts in a window, in the order of the `agent` read
    (`features.entity_totals_view`): the agents standardised against their hub-mates."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[str, pilferage.DayCount] = {}

    def update(self, entity_id: str, totals: Mapping[str, int]) -> None:
        self.counts[entity_id] = pilferage.DayCount(
            totals.get("handled", 0), totals.get("incidents", 0)
        )


class PilferageInputs(AssessorBase):
    """Reads a return's hubs' and pickup agent's counts and runs the pilferage tests on them."""

    async def pilferage(self, facts: ReturnFacts) -> None:
        # The agent first: its peers' baseline also tells which agents explain a hub.
        entities = [("agent", facts.pickup_agent_id)] if facts.pickup_agent_id else []
        # The hubs that handled the parcel as the counts have it (`features.custody`): a
        # pickup area seen only before the pickup weighing holds no record to test.
        hubs, _ = counted_hubs(facts)
        entities += [("hub", h) for h in hubs]
        if not entities:
            return
        since, until = self.window(self.config.short_window)
        days = await features.window_days(
            self.session, entities, list(METRICS), *days_read(self.at, self.config)
        )
        # Every hub's agents' counts in the window (one read, kept as hub → agents and patched
        # with each scan's increments): this return's hubs with their agents, and every
        # agent's hub-mates, against whom agents are standardised. These are the view's live
        # dicts, not a copy: correct because nothing below adds counts before they are used (a
        # flush mid-scan would patch them under this scan's feet).
        all_hubs = (
            await features.entity_totals_view(
                self.session, HubsAgents, "hub_agent", METRICS, since, until
            )
        ).hubs
        at_hub = {hub: all_hubs.get(hub, {}) for hub in hubs}

        # At each hub, the agents whose incidents stand out against the hub's ordinary agents.
        standing_out = {
            hub: pilferage.agents_standing_out(agents, self.t) for hub, agents in at_hub.items()
        }

        def total(counts: list[pilferage.DayCount]) -> pilferage.DayCount:
            return pilferage.DayCount(
                sum(c.handled for c in counts), sum(c.incidents for c in counts)
            )

        # Every agent's counts (one read, shared by the agents' rate baseline), and each
        # agent measured against its own hub-mates (`pilferage.standardised`): the population
        # whose honest spread an agent's sequential test weighs it against, and what tells
        # which agents explain a hub. A pilfering hub then neither widens that spread nor
        # makes its agents look like pilferers.
        agent_counts: Mapping[str, Mapping[str, int]] = {}
        std: dict[str, tuple[int, int]] = {}
        ref = pilferage.PRIOR_RATE
        std_peers: tuple[int, int] | None = None
        std_spread: PeerSpread | None = None
        # Any hub with named agents needs them: the hubs' peers are counted without the agents
        # explaining them (below), whether or not this return's hub names its agents.
        if facts.pickup_agent_id or any(all_hubs.values()):
            agent_counts = await features.entity_totals(
                self.session, "agent", ["handled", "incidents"], since, until
            )
            agents = await features.entity_totals_view(
                self.session, AgentsCounts, "agent", METRICS, since, until
            )
            std, ref = pilferage.standardised(agents.counts, all_hubs, self.t)
            own_std = std.get(facts.pickup_agent_id or "", (0, 0))
            std_spreads: dict[str, PeerSpread] = {}
            std_peers = (
                await self.peers(
                    ("agent", "", "short", "vs_mates"),
                    [("incidents", "handled", pilferage.PRIOR_RATE)],
                    own_id=facts.pickup_agent_id or "",
                    own={"incidents": own_std[0], "handled": own_std[1]},
                    load=partial(_as_counts, std),
                    spreads=std_spreads,
                    leave_out=True,
                    by_information=True,
                )
            )["incidents"]
            std_spread = std_spreads.get("incidents")

        # Each hub's answer, once per scan: every hub is weighed for the hubs' peers and this
        # return's hubs again below, on the same counts.
        explained: dict[str, set[str]] = {}

        def explaining(hub: str) -> set[str]:
            """The agents whose own evidence explains their share of `hub`: standing out
            against its ordinary agents, or telling (MEDIUM) against their own hub-mates.
            Several moderately bad agents at one hub do not stand out against each other, and
            must not brand their hub."""
            if hub not in explained:
                explained[hub] = explaining_now(hub)
            return set(explained[hub])

        def explaining_now(hub: str) -> set[str]:
            agents = all_hubs.get(hub, {})
            out = pilferage.agents_standing_out(agents, self.t)
            if std_peers is not None:
                out |= {
                    a
                    for a in agents
                    if a in std
                    and self.telling(
                        *std[a], std_peers, std_spread, prior_rate=pilferage.PRIOR_RATE
                    )
                }
            return out

        # Every hub's window totals, and what one of its parcels weighs by the part of the
        # journeys it held (`pilferage.exposure_of`): hubs are weighed in parcels of the
        # network's average exposure, their peers too. The weights are kept with the read and
        # patched as the batch's increments reach it (`pilferage.HubExposures`): this return's
        # hubs are weighed on their own, every hub only when the hubs' peers are read afresh.
        hub_rows: Mapping[str, Mapping[str, int]] = {}
        exposures = pilferage.HubExposures()
        if any(etype == "hub" for etype, _ in entities):
            hub_rows = await features.entity_totals(
                self.session, "hub", list(HUB_METRICS), since, until
            )
            exposures = await features.entity_totals_view(
                self.session, pilferage.HubExposures, "hub", HUB_METRICS, since, until
            )
        own_exposure = {
            eid: exposures.exposure(eid, self.t) or pilferage.Exposure(1.0)
            for etype, eid in entities
            if etype == "hub"
        }

        # The hubs as their peers are weighed, once per scan: the same for each of its hubs.
        hubs_as_weighed = _HubsExplained()

        s = self.config.sequential
        # Each hub's agents standing out against its ordinary agents, before a hub's own
        # scoring adds the agents explaining it: the mates an agent is weighed against.
        standing_alone = {h: set(a) for h, a in standing_out.items()}
        # The candidate onsets are calendar days, the same for every entity of the scan.
        step = self.config.pilferage_onset_step_days
        onsets = pilferage.onsets(since, until, step)
        looks = pilferage.looks_per_window(self.config.short_window.days, step)
        for etype, eid in entities:
            pattern = f"{pilferage.PATTERN_PREFIX}{etype.upper()}"
            own_days = days.get((etype, eid), {})
            own_days_counts = {
                d: pilferage.DayCount(v.get("handled", 0), v.get("incidents", 0))
                for d, v in own_days.items()
            }
            recent = {d: c for d, c in own_days_counts.items() if d >= since}
            raw_n = sum(c.handled for c in recent.values())
            # The hub's whole record and the part of it naming an agent (all of it but
            # rapidroute's parcels without one): an agent's record there grows by its share of
            # the rest (`with_unnamed_share`).
            whole_hub = pilferage.DayCount(raw_n, sum(c.incidents for c in recent.values()))
            named = total(list(at_hub.get(eid, {}).values()))
            mates = excluded = None
            if etype == "agent":
                # The hub's ordinary agents: another agent standing out at the same hub is no
                # yardstick for this one.
                mates = total(
                    [
                        c
                        for h, agents in at_hub.items()
                        for a, c in agents.items()
                        if a != eid and a not in standing_out[h]
                    ]
                )
            else:
                standing_out[eid] = standing_out.get(eid, set()) | explaining(eid)
                excluded = pilferage.with_unnamed_share(
                    total(
                        [
                            c
                            for a, c in at_hub.get(eid, {}).items()
                            if a in standing_out.get(eid, set())
                        ]
                    ),
                    whole_hub,
                    named,
                )
            base = [v for d, v in own_days.items() if d < since]
            baseline = pilferage.DayCount(
                sum(v.get("handled", 0) for v in base), sum(v.get("incidents", 0) for v in base)
            )
            own_k, own_n = pilferage.counted(recent, excluded, self.t)
            if etype == "agent" and eid in std and std_peers is not None:
                # An agent's peers are the other agents measured against their own hub-mates
                # (outliers left out): their pooled rate, carried into this agent's raw units
                # (its trials scale by its mates' rate relative to the reference), for the rate
                # test; the standardised population's spread, in standardised units, for the
                # sequential test.
                scale = std[eid][1] / raw_n if raw_n > 0 else 1.0
                k, n = std_peers
                peers = pilferage.DayCount(handled=round(n / scale) if scale else n, incidents=k)
                seq_peers, seq_spread = std_peers, std_spread
            else:
                # Peers are every other hub (agent) in the window, outliers left out; a hub's
                # parcels weighed by their exposure, its peers' too.
                scale = own_exposure[eid].scale if etype == "hub" else 1.0
                own_k_raw = sum(c.incidents for c in recent.values()) - (
                    excluded.incidents if excluded else 0
                )
                spreads: dict[str, PeerSpread] = {}
                k, n = (
                    await self.peers(
                        # Hubs are counted without their explaining agents' parcels, as the
                        # hub being scored is.
                        (etype, "", "short")
                        if etype == "agent"
                        else (etype, "", "short", "explained", "exposure"),
                        [("incidents", "handled", pilferage.PRIOR_RATE)],
                        own_id=eid,
                        own={
                            "incidents": own_k_raw,
                            "handled": pilferage.weighed(
                                raw_n - (excluded.handled if excluded else 0), own_k_raw, scale
                            ),
                        },
                        load=(
                            partial(_loaded, agent_counts)
                            if etype == "agent"
                            else partial(
                                hubs_as_weighed.read,
                                hub_rows,
                                all_hubs,
                                explaining,
                                exposures,
                                self.t,
                            )
                        ),
                        spreads=spreads,
                        leave_out=True,
                        by_information=True,
                    )
                )["incidents"]
                # The rate test reads the peers in the hub's own parcels (as an agent's above).
                peers = pilferage.DayCount(handled=round(n / scale) if scale else n, incidents=k)
                seq_peers, seq_spread = (k, n), spreads.get("incidents")
                if etype == "hub" and own_exposure[eid].rel_var > 0:
                    # A hub's weighed parcels read off other hubs' few incidents carry that
                    # uncertainty into its honest population (`with_exposure_uncertainty`).
                    seq_spread = pilferage.with_exposure_uncertainty(
                        self.population(seq_peers, seq_spread, prior_rate=pilferage.PRIOR_RATE),
                        own_exposure[eid].rel_var,
                    )
            found = pilferage.pilferage_findings(
                etype, eid, recent, peers, baseline, self.t, mates=mates, excluded=excluded
            )
            # The whole window's record, and the record from the candidate onset that tells
            # most (`stats.onset_sequential_test`): a practice that starts partway is weighed
            # without the honest weeks before it. Agents' trials in standardised units.
            records = [
                (own_k, own_n),
                *pilferage.counted_from_each(recent, onsets, excluded, self.t),
            ]
            # Each onset's record is weighed given the entity's own days before it (the
            # baseline's days too): a hub whose past ran ordinary is weighed against its own
            # level, not against the whole honest spread of hubs.
            histories = pilferage.histories_before(
                own_days_counts, onsets, self.config.pilferage_history_days
            )
            records = [(k_, max(round(n_ * scale), k_)) for k_, n_ in records]
            histories = [(k_, max(round(n_ * scale), k_)) for k_, n_ in histories]
            found += self.sequential_test(
                code=f"{etype.upper()}_PILFERAGE_SEQUENTIAL",
                what="incident rate",
                pattern=pattern,
                entity=(etype, eid),
                k=records[0][0],
                n=records[0][1],
                peers=seq_peers,
                spread=seq_spread,
                prior_rate=pilferage.PRIOR_RATE,
                action=pilferage.ACTION[etype],
            )
            found += self.onset_test(
                code=f"{etype.upper()}_PILFERAGE_ONSET",
                what="incident rate since its likeliest onset",
                pattern=pattern,
                entity=(etype, eid),
                records=records[1:],
                histories=histories,
                looks=looks,
                peers=seq_peers,
                spread=seq_spread,
                prior_rate=pilferage.PRIOR_RATE,
                action=pilferage.ACTION[etype],
            )
            found = strongest_of(
                found,
                [
                    f"{etype.upper()}_PILFERAGE_SEQUENTIAL",
                    f"{etype.upper()}_PILFERAGE_ONSET",
                    f"{etype.upper()}_PILFERAGE_RATE_HIGH",
                ],
            )
            # The span the entity's finding rests on: from its onset for an onset finding,
            # the whole window otherwise.
            onset = next(
                (
                    pilferage.onset_of(f.numbers, onsets, records[1:], histories)
                    for f in found
                    if f.code == f"{etype.upper()}_PILFERAGE_ONSET"
                ),
                None,
            )
            if etype == "agent" and mates is not None:
                found = await self.held_by_hub(
                    found, pattern, eid, at_hub, standing_out, all_hubs, ref, onset
                )
            if etype == "hub":
                # A hub's alert only when its excess is not one agent's: it must stay telling
                # without its worst remaining agent, unless its other agents show the excess
                # too and that agent holds no more than its share of the hub's incidents (then
                # the excess is spread over its agents: `pilferage.one_agents_excess`).
                test = self.sequential[(pattern, etype, eid)]
                parts = {
                    a: (c.incidents, c.handled)
                    for a, c in at_hub.get(eid, {}).items()
                    if a not in standing_out.get(eid, set())
                }
                # Each agent left out with its share of the parcels naming no agent: a hub
                # whose agents mostly go unnamed kept most of one pilfering agent's record
                # when only its named parcels left.
                whole = {
                    a: pilferage.with_unnamed_share(pilferage.DayCount(n_, k_), whole_hub, named)
                    for a, (k_, n_) in parts.items()
                }
                # In weighed parcels, as the hub's test weighs its record.
                worst, rest = without_worst_part(
                    own_k,
                    pilferage.weighed(own_n, own_k, scale),
                    {
                        a: (c.incidents, pilferage.weighed(c.handled, c.incidents, scale))
                        for a, c in whole.items()
                    },
                    PeerSpread(test.peer, test.concentration),
                    s,
                )
                weighed_parts = {
                    a: (k_, pilferage.weighed(n_, k_, scale)) for a, (k_, n_) in parts.items()
                }
                if worst is None or pilferage.one_agents_excess(
                    weighed_parts[worst],
                    [c for a, c in weighed_parts.items() if a != worst],
                    rest.log_bf,
                    PeerSpread(test.peer, test.concentration),
                    s,
                    self.t,
                ):
                    found = await self.held_by_one_agent(
                        found,
                        pattern,
                        eid,
                        worst,
                        rest,
                        at_hub,
                        standing_alone,
                        all_hubs,
                        ref,
                        onset,
                    )
            self.evaluated_entity(etype, eid)
            self.evaluated[(etype, eid)].extend(found)
            self.add(found, direct=facts.incident)

    async def held_by_hub(
        self,
        found: list[Finding],
        pattern: str,
        agent: str,
        at_hub: Mapping[str, Mapping[str, DayCount]],
        standing_out: Mapping[str, set[str]],
        all_hubs: Mapping[str, Mapping[str, DayCount]],
        ref: float,
        onset: date | None,
    ) -> list[Finding]:
        """An agent's alert-worthy findings, held to MEDIUM when its excess is its hub's
        (`carried`)."""
        if not any(f.alert_worthy(pattern) for f in found):
            return found
        carried = await self.carried(agent, at_hub, standing_out, all_hubs, ref, onset)
        if carried is None:
            return found
        numbers: dict[str, float | int | str] = {
            "p_vs_hub_mates_exact": float(f"{carried.p:.3g}"),
            "ordinary_hub_rate": carried.ordinary,
            "agents_at_hub": carried.family,
        }
        numbers |= carried.numbers()
        return demoted_where(found, pattern, carried.why(), numbers)

    async def held_by_one_agent(
        self,
        found: list[Finding],
        pattern: str,
        hub: str,
        worst: str | None,
        rest: SequentialTest,
        at_hub: Mapping[str, Mapping[str, DayCount]],
        standing_out: Mapping[str, set[str]],
        all_hubs: Mapping[str, Mapping[str, DayCount]],
        ref: float,
        onset: date | None,
    ) -> list[Finding]:
        """A hub's alert-worthy findings held as one agent's (`sequential.held_by_one_part`),
        unless that agent, weighed on the span the hub's finding rests on, is itself held as
        the hub's (`carried`): its hub-mates run high too and it does not stand out against
        them.

        The hub's rule and the agent's ask one question of the pair, whose excess it is, by
        two tests: the hub's whether the excess survives without the agent, the agent's
        whether its mates show it. Where one busy agent handles most of a pilfering hub's
        parcels, the rest of the hub is too thin to stay telling without it, while its mates
        since the hub's onset run as high as it does: each rule held the pair as the other's,
        and neither alerted. The agent's answer, that its mates show the excess, is the
        evidence about the hub's other parcels; the hub's, that it does not survive without
        the agent, is only that those parcels are few. So the agent's answer decides: read on
        one span, the pair cannot hold each other, and where both records are alert-worthy one
        of the two alerts. A pair whose findings rest on different spans (the hub's from one
        onset, the agent's from another, or one over the window) asks it on each, and may
        still answer twice."""
        if worst is None or rest.log_bf >= math.log(1 / self.config.sequential.alpha_medium):
            return held_by_one_part(found, pattern, worst, rest, self.config.sequential)
        if not any(f.alert_worthy(pattern) for f in found):
            return found
        theirs = await self.carried(
            worst,
            {hub: at_hub.get(hub, {})},
            {hub: standing_out.get(hub, set())},
            all_hubs,
            ref,
            onset,
        )
        if theirs is None:
            return held_by_one_part(found, pattern, worst, rest, self.config.sequential)
        why = (
            f"not held as one agent's ({worst}, without it Bayes factor "
            f"{rest.bayes_factor:.3g}): {theirs.why()}"
        )
        numbers: dict[str, float | int | str] = {
            "worst_part": worst,
            "worst_part_carried_by_hub_p": float(f"{theirs.p:.3g}"),
        }
        numbers |= theirs.numbers()
        return [
            replace(f, detail=f"{f.detail}; {why}", numbers=f.numbers | numbers)
            if f.alert_worthy(pattern)
            else f
            for f in found
        ]

    async def carried(
        self,
        agent: str,
        at_hub: Mapping[str, Mapping[str, DayCount]],
        standing_out: Mapping[str, set[str]],
        all_hubs: Mapping[str, Mapping[str, DayCount]],
        ref: float,
        onset: date | None,
    ) -> Carried | None:
        """Whether an agent's excess at `at_hub` is its hubs' (`pilferage.carried_by_hub`): its
        mates (the hubs' other agents, those standing out left out) run high and it does not
        run above them. The p-value of its excess over them, their counts, an ordinary hub's
        agents' rate and the number of agents it is the luckiest of; None when the excess is
        its own or there is none.

        Read over the span a finding rests on: the window, or from the onset an onset finding
        reports. A hub whose pilferage starts partway shows it on the mates' parcels from then
        on; over the whole window its honest weeks dilute it, and until 2026-12-06 an honest
        agent carrying a pilfering hub's recent excess (21 of 158 parcels since its onset, its
        mates 11 of 81 against an ordinary hub's 5 %) was read against mates running ordinary
        over eight weeks (14 of 200) and kept its alert.

        One question for both sides of a hub and its agent: an agent's alert asks it on its
        finding's span, a hub's one-agent rule on the hub's, of the agent it would be held as
        (`held_by_one_agent`)."""
        mates_of = [
            (h, a)
            for h, agents in at_hub.items()
            for a in agents
            if a != agent and a not in standing_out.get(h, set())
        ]
        # The family the agent is the luckiest of: every agent with parcels at its hubs.
        family = len({a for agents in at_hub.values() for a, c in agents.items() if c.handled > 0})
        if onset is None:
            own = [agents[agent] for agents in at_hub.values() if agent in agents]
            mates = [at_hub[h][a] for h, a in mates_of]
        else:
            pairs = [(h, a) for h, agents in at_hub.items() for a in agents]
            days = await features.window_days(
                self.session,
                [("hub_agent", f"{h}|{a}") for h, a in pairs],
                list(METRICS),
                onset,
                self.at.date(),
            )

            def since_onset(h: str, a: str) -> DayCount:
                counted = [
                    v for d, v in days.get(("hub_agent", f"{h}|{a}"), {}).items() if d >= onset
                ]
                return DayCount(
                    sum(v.get("handled", 0) for v in counted),
                    sum(v.get("incidents", 0) for v in counted),
                )

            own = [since_onset(h, agent) for h, agents in at_hub.items() if agent in agents]
            mates = [since_onset(h, a) for h, a in mates_of]
        mine = pilferage.DayCount(sum(c.handled for c in own), sum(c.incidents for c in own))
        mates_total = pilferage.DayCount(
            sum(c.handled for c in mates), sum(c.incidents for c in mates)
        )
        ordinary = pilferage.ordinary_agents_rate(all_hubs, self.t, ref)
        p = pilferage.carried_by_hub(mine, mates_total, ordinary, self.t, agents=family)
        if p is None:
            return None
        return Carried(p, mates_total, ordinary, family, onset)


class _HubsExplained:
    """Every hub's counts as a hub is weighed, read once per scan: a scan naming several hubs
    reads their peers from the same counts (nothing is counted mid-scan), and each of its hubs
    built them again."""

    __slots__ = ("hubs",)

    def __init__(self) -> None:
        self.hubs: dict[str, dict[str, int]] | None = None

    async def read(
        self,
        hubs: Mapping[str, Mapping[str, int]],
        agents_at: Mapping[str, Mapping[str, pilferage.DayCount]],
        explaining: Callable[[str], set[str]],
        exposures: pilferage.HubExposures,
        t: Thresholds,
    ) -> dict[str, dict[str, int]]:
        """Without its explaining agents (`pilferage.hubs_without_explaining`), its parcels
        weighed by their exposure (`pilferage.exposure_of`, read off the kept `exposures` of
        the same hubs). Callers only read it."""
        if self.hubs is None:
            out = pilferage.hubs_without_explaining(hubs, agents_at, explaining)
            scale = {hub: e.scale for hub, e in exposures.all(t).items()}
            for hub, row in out.items():
                row["handled"] = pilferage.weighed(
                    row.get("handled", 0), row.get("incidents", 0), scale.get(hub, 1.0)
                )
            self.hubs = out
        return self.hubs


async def _loaded(counts: Mapping[str, Mapping[str, int]]) -> Mapping[str, Mapping[str, int]]:
    """Counts already read, as a population's loader."""
    return counts


async def _as_counts(std: dict[str, tuple[int, int]]) -> dict[str, dict[str, int]]:
    """The standardised agents as a population's loader."""
    return {a: {"incidents": k, "handled": n} for a, (k, n) in std.items()}
