"""The I/O half of the pilferage detector (`detectors.pilferage`): the hubs' and agents' handled
and incident counts it tests, read from the features."""

from __future__ import annotations

from functools import partial

from services.fraud.detectors import pilferage
from services.fraud.detectors.sequential import stronger_of
from services.fraud.detectors.stats import PeerSpread
from services.fraud.features import repository as features
from services.fraud.models import ReturnFacts
from services.fraud.scoring.base import AssessorBase


class PilferageInputs(AssessorBase):
    """Reads a return's hubs' and pickup agent's counts and runs the pilferage tests on them."""

    async def pilferage(self, facts: ReturnFacts) -> None:
        # The agent first: its peers' baseline also tells which agents explain a hub.
        entities = [("agent", facts.pickup_agent_id)] if facts.pickup_agent_id else []
        entities += [("hub", h) for h in (facts.hubs or [])]
        if not entities:
            return
        since, until = self.window(self.config.short_window)
        base_since = (self.at - self.config.short_window - self.config.baseline).date()
        days = await features.window_days(
            self.session, entities, ["handled", "incidents"], base_since, until
        )
        # Each hub of this return with its agents' counts in the window.
        at_hub: dict[str, dict[str, pilferage.DayCount]] = {}
        for hub in facts.hubs or []:
            rows = await features.entity_totals(
                self.session,
                "hub_agent",
                ["handled", "incidents"],
                since,
                until,
                id_prefix=f"{hub}|",
            )
            at_hub[hub] = {
                key.split("|", 1)[1]: pilferage.DayCount(v.get("handled", 0), v.get("incidents", 0))
                for key, v in rows.items()
            }

        # At each hub, the agents whose incidents stand out against the hub's ordinary agents.
        standing_out = {
            hub: pilferage.agents_standing_out(agents, self.t) for hub, agents in at_hub.items()
        }

        def total(counts: list[pilferage.DayCount]) -> pilferage.DayCount:
            return pilferage.DayCount(
                sum(c.handled for c in counts), sum(c.incidents for c in counts)
            )

        agent_peers: tuple[tuple[int, int], PeerSpread | None] | None = None
        for etype, eid in entities:
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
                # Agents whose own evidence against all agents is telling (MEDIUM) explain
                # their share of the hub too: several moderately bad agents at one hub do not
                # stand out against each other, and must not brand their hub.
                if agent_peers is not None:
                    standing_out[eid] = standing_out.get(eid, set()) | {
                        a
                        for a, c in at_hub.get(eid, {}).items()
                        if self.telling(
                            c.incidents, c.handled, *agent_peers, prior_rate=pilferage.PRIOR_RATE
                        )
                    }
                excluded = total(
                    [c for a, c in at_hub.get(eid, {}).items() if a in standing_out.get(eid, set())]
                )
            own_days = days.get((etype, eid), {})
            recent = {
                d: pilferage.DayCount(v.get("handled", 0), v.get("incidents", 0))
                for d, v in own_days.items()
                if d >= since
            }
            base = [v for d, v in own_days.items() if d < since]
            baseline = pilferage.DayCount(
                sum(v.get("handled", 0) for v in base), sum(v.get("incidents", 0) for v in base)
            )
            # Peers are every other hub (agent) in the window, outliers left out.
            spreads: dict[str, PeerSpread] = {}
            k, n = (
                await self.peers(
                    (etype, "", "short"),
                    [("incidents", "handled", pilferage.PRIOR_RATE)],
                    own_id=eid,
                    own={
                        "incidents": sum(c.incidents for c in recent.values()),
                        "handled": sum(c.handled for c in recent.values()),
                    },
                    load=partial(
                        features.entity_totals,
                        self.session,
                        etype,
                        ["handled", "incidents"],
                        since,
                        until,
                    ),
                    spreads=spreads,
                )
            )["incidents"]
            peers = pilferage.DayCount(handled=n, incidents=k)
            if etype == "agent":
                agent_peers = ((k, n), spreads.get("incidents"))
            found = pilferage.pilferage_findings(
                etype, eid, recent, peers, baseline, self.t, mates=mates, excluded=excluded
            )
            own_k, own_n = pilferage.counted(recent, excluded, self.t)
            found += self.sequential_test(
                code=f"{etype.upper()}_PILFERAGE_SEQUENTIAL",
                what="incident rate",
                pattern=f"{pilferage.PATTERN_PREFIX}{etype.upper()}",
                entity=(etype, eid),
                k=own_k,
                n=own_n,
                peers=(k, n),
                spread=spreads.get("incidents"),
                prior_rate=pilferage.PRIOR_RATE,
                action=pilferage.ACTION[etype],
                floor_rate=pilferage.mates_rate(mates, self.t),
            )
            found = stronger_of(
                found,
                f"{etype.upper()}_PILFERAGE_RATE_HIGH",
                f"{etype.upper()}_PILFERAGE_SEQUENTIAL",
            )
            self.evaluated_entity(etype, eid)
            self.evaluated[(etype, eid)].extend(found)
            self.add(found, direct=facts.incident)
