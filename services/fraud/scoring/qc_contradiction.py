"""The I/O half of the QC contradiction detector (`detectors.qc_contradiction`): the QC agent's
and hub's passes and contradictions, and the agents that explain a hub's excess."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from services.fraud.alerts import repository as alerts_repo
from services.fraud.detectors import qc_contradiction, returns_abuse
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import (
    held_by_one_part,
    stronger_of,
    without_worst_part,
)
from services.fraud.detectors.stats import PeerSpread, contribution_from_p
from services.fraud.features import repository as features
from services.fraud.models import ReturnFacts
from services.fraud.scoring.base import AssessorBase
from services.fraud.scoring.baselines import Rate

# The pairs whose contradicting buyers a QC entity is weighed with, and the pairs that say where
# each buyer's named claims fell (`features.contradicting_buyers`).
CONTRADICTED_KINDS = ("qc_agent_buyer", "qc_hub_buyer")
NAMED_BY = "seller_buyer"
# An open alert's floor on the events it is about (`scoring.service.ALERT_FLOOR`).
OPEN_ALERT_FLOOR = 0.8


def contradicted_pairs(facts: ReturnFacts) -> list[tuple[str, str, str]]:
    """The pairs a QC-contradicting claim on this return contradicts (`record_claim`): its QC
    agent's and hub's with its buyer."""
    if not facts.buyer_id:
        return []
    return [
        (kind, left, facts.buyer_id)
        for kind, left in zip(CONTRADICTED_KINDS, (facts.qc_agent_id, facts.qc_hub_id), strict=True)
        if left
    ]


class QcInputs(AssessorBase):
    """Reads a return's QC agent's and hub's counts and runs the QC contradiction tests on them."""

    async def qc(self, facts: ReturnFacts) -> None:
        entities = [
            (e, i) for e, i in (("agent", facts.qc_agent_id), ("hub", facts.qc_hub_id)) if i
        ]
        # QC contradictions are rare events: they need the long window to gather evidence.
        since, until = self.window(self.config.long_window)
        totals = await features.window_totals(
            self.session,
            entities,
            ["qc_passed", "qc_contradictions"],
            since,
            until,
        )
        metrics = ["qc_passed", "qc_contradictions"]
        rates: list[Rate] = [("qc_contradictions", "qc_passed", qc_contradiction.PRIOR_RATE)]

        spreads: dict[str, PeerSpread] = {}
        # Contradictions beyond each buyer's first, per QC entity (lifetime pair counts: in a
        # window shorter than the record they may exceed it, and the counts are clamped).
        repeats = await features.repeats_by_left(
            self.session,
            lefts=[(f"qc_{etype}_buyer", eid) for etype, eid in entities],
            metric="contradicted",
        )

        # The buyers known away from each QC entity (named on returns it did not pass, or
        # under a wrong/used alert), and how many of them contradicted it: their contradictions
        # leave every entity's counts, the entity's and its peers' alike.
        abusing = await alerts_repo.alerted(self.session, "buyer", (returns_abuse.PATTERN,))
        contradicting = await features.contradicting_buyers(
            self.session, kinds=CONTRADICTED_KINDS, named_by=NAMED_BY
        )
        abusing_at = {
            (kind, left): m
            for kind, pairs in contradicting.items()
            for left, m in qc_contradiction.named_elsewhere(pairs, abusing).items()
        }

        def per_buyer(etype: str, eid: str, counts: Mapping[str, int]) -> dict[str, int]:
            key = (f"qc_{etype}_buyer", eid)
            return qc_contradiction.one_per_buyer(
                counts, repeats.get(key, 0), abusing_at.get(key, 0)
            )

        async def everyone_per_buyer(etype: str) -> dict[str, dict[str, int]]:
            # The peers are counted as the entity is, once per buyer: counted raw, a few
            # buyers' repeated wrong items (buyers abusing on their own, rings with one agent)
            # lift the agents' rate and make them look unalike, and an agent passing many
            # buyers' wrong items is weighed against a population that absorbed other fraud.
            everyone = await features.entity_totals(self.session, etype, metrics, since, until)
            repeats.update(
                await features.repeats_by_left(
                    self.session,
                    lefts=[
                        (f"qc_{etype}_buyer", i)
                        for i in everyone
                        if (f"qc_{etype}_buyer", i) not in repeats
                    ],
                    metric="contradicted",
                )
            )
            return qc_contradiction.per_buyer_population(
                everyone,
                {i: repeats.get((f"qc_{etype}_buyer", i), 0) for i in everyone},
                {i: abusing_at.get((f"qc_{etype}_buyer", i), 0) for i in everyone},
            )

        async def baseline(etype: str, eid: str) -> tuple[int, int]:
            # Agents' spread: no narrower than the shared bound unless their own scatter shows
            # them more alike (`qc_contradiction.AGENT_ALIKE_LEVEL`).
            level = qc_contradiction.AGENT_ALIKE_LEVEL if etype == "agent" else None
            return (
                await self.peers(
                    (etype, "", "long", "per_buyer", f"alike {level}"),
                    rates,
                    own_id=eid,
                    own=per_buyer(etype, eid, totals.get((etype, eid), {})),
                    load=partial(everyone_per_buyer, etype),
                    spreads=spreads,
                    leave_out=True,
                    alike_level=level,
                )
            )["qc_contradictions"]

        s = self.config.sequential
        for etype, eid in entities:
            own = dict(totals.get((etype, eid), {}))
            parts: dict[str, tuple[int, int]] = {}
            # The hub's agents whose passes here show no excess (`favours_peers`): its
            # findings do not speak for their passes.
            ordinary: set[str] = set()
            if etype == "hub":
                # The agents that explain the hub's excess: their passes leave its counts.
                at_hub = {
                    key.partition("|")[2]: v
                    for key, v in (
                        await features.entity_totals(
                            self.session, "hub_agent", metrics, since, until, id_prefix=f"{eid}|"
                        )
                    ).items()
                }
                repeats.update(
                    await features.repeats_by_left(
                        self.session,
                        lefts=[
                            ("qc_agent_buyer", a)
                            for a in at_hub
                            if ("qc_agent_buyer", a) not in repeats
                        ],
                        metric="contradicted",
                    )
                )
                agents_baseline = await baseline("agent", "")
                agents_spread = spreads.get("qc_contradictions")
                # Each agent's passes at the hub as the agents are counted, once per buyer.
                at_hub_per_buyer = {a: per_buyer("agent", a, v) for a, v in at_hub.items()}
                explaining = qc_contradiction.agents_explaining_hub(
                    {
                        a: (v.get("qc_contradictions", 0), v.get("qc_passed", 0))
                        for a, v in at_hub_per_buyer.items()
                    },
                    agents_baseline,
                    self.t,
                )
                # And those whose own sequential evidence against all agents is telling.
                explaining |= {
                    a
                    for a, v in at_hub_per_buyer.items()
                    if self.telling(
                        v.get("qc_contradictions", 0),
                        v.get("qc_passed", 0),
                        agents_baseline,
                        agents_spread,
                        prior_rate=qc_contradiction.PRIOR_RATE,
                    )
                }
                # And those already alerted for QC contradictions, on their own test or as
                # carriers of a hub's excess: that excess is theirs now. Kept in, a hub whose
                # excess was given to its cheating agents was alerted again on the same passes
                # once its honest agents' luck added to them (three agents carrying it).
                alerted_here = set(at_hub) & set(
                    await alerts_repo.alerted(
                        self.session, "agent", (f"{qc_contradiction.PATTERN_PREFIX}AGENT",)
                    )
                )
                explaining |= alerted_here
                for a in explaining:
                    k_a, n_a = at_hub[a].get("qc_contradictions", 0), at_hub[a].get("qc_passed", 0)
                    own["qc_contradictions"] = max(0, own.get("qc_contradictions", 0) - k_a)
                    own["qc_passed"] = max(0, own.get("qc_passed", 0) - n_a)
                parts = {
                    a: (v.get("qc_contradictions", 0), v.get("qc_passed", 0))
                    for a, v in at_hub_per_buyer.items()
                    if a not in explaining
                }
                # Agents whose record at the hub favours their peers' rate: an agent a little
                # above it, not yet telling, may be the hub's excess and stays in its reach.
                ordinary = {
                    a
                    for a, v in at_hub_per_buyer.items()
                    if a not in explaining
                    and self.favours_peers(
                        v.get("qc_contradictions", 0),
                        v.get("qc_passed", 0),
                        agents_baseline,
                        agents_spread,
                        prior_rate=qc_contradiction.PRIOR_RATE,
                    )
                }
            own = per_buyer(etype, eid, own)
            k, n = await baseline(etype, eid)
            found = qc_contradiction.qc_findings(
                etype, eid, own, {"qc_contradictions": k, "qc_passed": n}, self.t
            )
            found += self.sequential_test(
                code=f"{etype.upper()}_QC_CONTRADICTION_SEQUENTIAL",
                what="QC passes later contradicted by claims",
                pattern=f"{qc_contradiction.PATTERN_PREFIX}{etype.upper()}",
                entity=(etype, eid),
                k=own.get("qc_contradictions", 0),
                n=own.get("qc_passed", 0),
                peers=(k, n),
                spread=spreads.get("qc_contradictions"),
                prior_rate=qc_contradiction.PRIOR_RATE,
                action=qc_contradiction.ACTION[etype],
            )
            found = stronger_of(
                found,
                f"{etype.upper()}_QC_CONTRADICTION_RATE_HIGH",
                f"{etype.upper()}_QC_CONTRADICTION_SEQUENTIAL",
            )
            carried: list[Finding] = []
            if etype == "hub":
                pattern = f"{qc_contradiction.PATTERN_PREFIX}HUB"
                test = self.sequential[(pattern, etype, eid)]
                hub_spread = PeerSpread(test.peer, test.concentration)
                k_h, n_h = own.get("qc_contradictions", 0), own.get("qc_passed", 0)
                # A telling excess carried by one or two of the hub's agents is theirs: the
                # hub's finding and alert go to them (`qc_contradiction.agents_carrying_hub`).
                carriers = qc_contradiction.agents_carrying_hub(k_h, n_h, parts, hub_spread, s)
                if carriers is not None and self.config.qc_unnamed_carrier_reach:
                    # The hub's named contradictions, and those of its agents under a QC
                    # alert already (a carrier found earlier): how likely a pass naming no
                    # agent is a suspect's (`qc_contradiction.carriers_share`).
                    found, carried = qc_contradiction.carried_by_agents(
                        found,
                        eid,
                        carriers,
                        sum(v.get("qc_contradictions", 0) for v in at_hub_per_buyer.values()),
                        sum(
                            at_hub_per_buyer[a].get("qc_contradictions", 0)
                            for a in alerted_here
                            if a not in carriers.agents
                        ),
                    )
                elif carriers is not None:
                    # No share kept: the carriers' findings and alerts say nothing of the
                    # hub's passes naming no agent (`qc_contradiction.unnamed_pass`).
                    found, carried = qc_contradiction.carried_by_agents(found, eid, carriers)
                # Otherwise a hub's alert only when its excess is not one agent's: it must
                # stay telling without its worst remaining agent. (An agent's repeated buyers
                # are counted over all its hubs, so leaving one out may take out a little more
                # or less than it added here; the alert still needs its own test at its
                # false-alarm rate.)
                worst, rest = without_worst_part(k_h, n_h, parts, hub_spread, s)
                found = held_by_one_part(found, pattern, worst, rest, s)
                if not at_hub:
                    # No agent of the hub is named: the condition above cannot be asked.
                    found = qc_contradiction.held_without_named_agents(
                        found, test, self.config.qc_unnamed_hub_seq_alpha
                    )
                found = qc_contradiction.with_ordinary_agents(found, ordinary)
            self.evaluated_entity(etype, eid)
            self.evaluated[(etype, eid)].extend(found)
            # A hub's finding about a pass by one of its ordinary agents is carried onto the
            # claim as the hub's risk (MEDIUM at most), not as evidence about the claim: the
            # hub's excess lies in its other passes (`qc_contradiction.with_ordinary_agents`).
            self.add(found, direct=etype == "agent" or facts.qc_agent_id not in ordinary)
            for f in carried:
                if f.entity_id == facts.qc_agent_id:
                    # A claim on a carrier's pass: the carrier's finding is evidence about it.
                    self.evaluated.setdefault(("agent", f.entity_id), []).append(f)
                    self.add([f], direct=True)
                else:
                    # Another carrier's: its alert is raised now, and its own passes are
                    # re-assessed by it (revisions); this claim's pass is not its.
                    self.entity_alerts.append(f)
            if (
                etype == "hub"
                and facts.qc_agent_id is None
                and self.config.qc_unnamed_carrier_reach
            ):
                await self.unnamed_at_carried_hub(eid, carried)

    async def unnamed_at_carried_hub(self, hub_id: str, carried: list[Finding]) -> None:
        """A claim on a pass at the hub naming no agent, where one or two of the hub's agents
        carry its excess (found now, or under an open alert taken from the hub): the pass is
        probably theirs as far as their share of the hub's named contradictions says
        (`qc_contradiction.unnamed_pass`), and the claim takes that as direct evidence, once
        however many carriers say it. An open alert is read at its floor, as an open alert on
        a claim's own entity is (`Assessor.open_alerts`): the carrier is not among the
        claim's entities, so the floor cannot reach the claim there."""
        said = [qc_contradiction.unnamed_pass(f, hub_id, f.contribution) for f in carried]
        for entity_id, evidence in await alerts_repo.carrying_hub(
            self.session,
            f"{qc_contradiction.PATTERN_PREFIX}AGENT",
            qc_contradiction.AGENT_AT_HUB,
            hub_id,
        ):
            numbers = dict(evidence.get("numbers") or {})
            p = numbers.get("p_value")
            strength = max(
                OPEN_ALERT_FLOOR,
                contribution_from_p(float(p), self.t) if isinstance(p, int | float) else 0.0,
            )
            carrier = Finding(
                code=str(evidence.get("code") or ""),
                detail="",
                contribution=strength,
                pattern=f"{qc_contradiction.PATTERN_PREFIX}AGENT",
                entity_type="agent",
                entity_id=entity_id,
                numbers=numbers,
            )
            said.append(qc_contradiction.unnamed_pass(carrier, hub_id, strength))
        strongest = max((f for f in said if f), key=lambda f: f.contribution, default=None)
        if strongest is not None:
            self.add([strongest], direct=True)
