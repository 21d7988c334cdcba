"""QC contradictions: `QC_PASSED` at pickup followed by a wrong/used/missing-item claim,
concentrated on one agent (or hub) compared with its peers.

A QC pass is an agent's act, so a hub is judged on what its agents do not explain: the passes of
agents that stand out (against the hub's other agents, or on their own against all agents) are
left out of the hub's counts. A hub is the cause when what is left still runs high: many agents
each a little off, none enough to blame (a hub's QC practice, not one agent's). When what is
left is carried by one or two of its agents, none telling on its own yet, the hub's finding
and its alert are theirs (`agents_carrying_hub`, `carried_by_agents`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import demoted_where
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    SequentialTest,
    Thresholds,
    contribution_from_p,
    parts_standing_out,
    rate_test,
    sequential_test,
    stands_out,
)

PATTERN_PREFIX = "QC_CONTRADICTION_"  # + the entity type: AGENT or HUB
PRIOR_RATE = 0.03
# How sure the agents' own scatter must be that honest agents are more alike than the shared
# bound (a + b of 1,000) before their spread is read narrower than it: the upper confidence
# limit of how much they differ, at this level (`stats.proven_alike`). QC agents are many, with
# hundreds of passes each where they are busy, so their scatter can show it; a world's hubs are
# too few, and keep the shared bound. Simulated on honest agents drawn alike and drawn
# differing (a + b 300 to unbounded), the share ever alerted stays within the stated rate at
# 0.5, 0.75 and 0.9 alike; 0.75 reads the spread narrower than the truth at most a quarter of
# the time (docs/fraud-detection-journal.md, "QC agents: how alike honest agents are, read from the
# agents").
AGENT_ALIKE_LEVEL = 0.75
ACTION = {
    "agent": "Re-train or replace the agent; require photo proof with every QC pass.",
    "hub": "Spot-check QC passes at this hub; compare QC photos with seller evidence.",
}


def qc_findings(
    entity_type: str,
    entity_id: str,
    own: Mapping[str, int],
    peers: Mapping[str, int],
    t: Thresholds,
) -> list[Finding]:
    """`peers`: the other entities' totals, the entity's own counts already left out."""
    test = rate_test(
        own.get("qc_contradictions", 0),
        own.get("qc_passed", 0),
        peers.get("qc_contradictions", 0),
        peers.get("qc_passed", 0),
        t,
        prior_rate=PRIOR_RATE,
    )
    contribution = contribution_from_p(test.p, t)
    if contribution <= 0:
        return []
    return [
        Finding(
            code=f"{entity_type.upper()}_QC_CONTRADICTION_RATE_HIGH",
            detail=f"QC passes later contradicted by claims {test.detail()}",
            contribution=contribution,
            pattern=f"{PATTERN_PREFIX}{entity_type.upper()}",
            entity_type=entity_type,
            entity_id=entity_id,
            numbers=test.numbers(),
            alert=test.p <= t.alpha_high,
            suggested_action=ACTION[entity_type],
        )
    ]


def agents_explaining_hub(
    at_hub: Mapping[str, tuple[int, int]],
    agents_baseline: tuple[int, int],
    t: Thresholds,
) -> set[str]:
    """The agents whose (contradictions, passes) at the hub explain its excess: those standing
    out against the hub's other agents, and those standing out (alpha_medium) against the
    robust baseline of all agents."""
    base_k, base_n = agents_baseline
    on_their_own = {
        a
        for a, (k, n) in at_hub.items()
        if stands_out(k, n, base_k, base_n, t, prior_rate=PRIOR_RATE)
    }
    return parts_standing_out(at_hub, t, prior_rate=PRIOR_RATE) | on_their_own


def one_per_buyer(own: Mapping[str, int], repeats: int, abusing_buyers: int = 0) -> dict[str, int]:
    """An entity's QC counts with each buyer's contradictions counted once: `repeats` (the
    contradictions beyond a buyer's first) leave both the contradictions and the passes, and
    so does the one left of each of `abusing_buyers` (buyers under a wrong/used alert).

    A QC failure is the agent's (or hub's) practice showing on the parcels of many buyers. One
    buyer who keeps returning wrong or used items (an abusing buyer, a buyer colluding with the
    agent) contradicts the same agent's passes again and again; that is the buyer's pattern, or
    the pair's, and each has its own detector. Counted per buyer, an honest hub whose agent
    serves such a buyer no longer looks like a hub with a QC problem, while an agent who passes
    wrong items of many buyers loses nothing.

    A buyer found returning wrong or used items across sellers contradicts the passes of every
    agent their returns go through, once each: counted, such buyers lift every agent alike, the
    agents' honest rate absorbs them, and an agent at 3x its peers no longer stands out. Their
    contradictions are the buyer's pattern; the pass stays out with them (the buyer's other,
    uncontradicted passes stay in: a miss at worst, never a false alarm)."""
    k = own.get("qc_contradictions", 0)
    n = own.get("qc_passed", 0)
    drop = min(max(repeats, 0) + max(abusing_buyers, 0), k)
    return {**own, "qc_contradictions": k - drop, "qc_passed": max(n - drop, 0)}


def per_buyer_population(
    everyone: Mapping[str, Mapping[str, int]],
    repeats: Mapping[str, int],
    abusing_buyers: Mapping[str, int] | None = None,
) -> dict[str, dict[str, int]]:
    """Every peer's QC counts with each buyer's contradictions counted once (`repeats`: each
    peer's contradictions beyond a buyer's first), as the entity weighed against them is.

    Counted raw, the agents through whom one buyer keeps returning wrong items (a buyer abusing
    on their own, a ring with one agent) lift the peers' rate and make the agents look far less
    alike than they are: the honest population then absorbs other patterns' fraud, and an agent
    passing the wrong items of many buyers at 2.5-4x its peers no longer stands out."""
    abusing = abusing_buyers or {}
    return {i: one_per_buyer(v, repeats.get(i, 0), abusing.get(i, 0)) for i, v in everyone.items()}


def named_elsewhere(
    contradicting: Iterable[tuple[str, str, int, int]], alerted: Collection[str] = ()
) -> Counter[str]:
    """For each QC entity, how many of the buyers who contradicted its passes are known as
    claim-named buyers away from it: named (a wrong, used or missing item) on a return it did
    not pass, or under a wrong/used alert. `contradicting`: (entity, buyer, named on the
    entity's passes, named everywhere), as `features.contradicting_buyers` reads them.

    A contradiction weighs against the QC entity only as far as it is likelier when the entity
    passes wrong items than when it does not. For an ordinary buyer it is: their return is what
    they bought, and a wrong item after a pass says the pass was careless. For a buyer whose
    items are claimed as wrong or used away from this entity too, it hardly is: the claim
    follows their item whoever passes it, and it lands on the agent and hub of their area.
    What tells the two apart is the buyer's record away from this entity, which the entity's
    own passes do not make: a buyer suspected only on the claims against this entity's passes
    (a QC agent's own victims) stays in, so a careless agent cannot hide behind the buyers its
    passes wronged. The rule is the same for every QC entity, the one weighed and its peers,
    so the honest population is counted as the entity is (see "QC contradictions: where the
    evidence is lost" in docs/fraud-detection-journal.md for the false-alarm argument)."""
    wanted = set(alerted)
    return Counter(
        entity
        for entity, buyer, named_here, named_everywhere in contradicting
        if named_everywhere > named_here or buyer in wanted
    )


def held_without_named_agents(
    findings: list[Finding], test: SequentialTest, alpha: float
) -> list[Finding]:
    """A hub's alert-worthy QC findings when its partner names none of its agents (desipost):
    kept only once the hub's sequential evidence reaches 1/`alpha`, stricter than the shared
    alert, else demoted to MEDIUM (no alert, no HIGH).

    A hub whose agents are named is alerted only when its evidence stays telling without its
    worst agent (`sequential.held_by_one_part`): an honest hub that one unlucky agent carried
    to the alert is not. A hub whose agents are unknown cannot be held to that, so the one
    condition it can meet is made as hard as the two are together: simulated on honest hubs
    of two agents, both rules alert about as rarely, and on hubs whose every agent runs at
    2.5-4x their recall is about the same (`bench.qc_hub_sim`; docs/fraud-detection-journal.md, "QC
    contradictions: a hub without named agents"). It only adds a condition to an alert that
    meets its own level, so the stated false-alarm rate (now `alpha`) bounds it."""
    if test.log_bf >= math.log(1 / alpha):
        return findings
    why = f"no agents named: an alert needs a Bayes factor of {1 / alpha:g}"
    return demoted_where(
        findings, f"{PATTERN_PREFIX}HUB", why, {"alert_bayes_factor": round(1 / alpha)}
    )


# A hub's QC-contradiction finding names the agents it does not speak for (below), one string
# since reason numbers are scalars.
ORDINARY_AGENTS = "ordinary_agents"


def with_ordinary_agents(findings: list[Finding], ordinary: Collection[str]) -> list[Finding]:
    """A hub's findings, each naming the hub's agents whose own passes at the hub look ordinary
    (`ORDINARY_AGENTS`): agents that do not explain the hub's excess and whose record there
    favours their peers' rate (a Bayes factor of at most 1), not merely short of telling: an
    agent a little above its peers may be the excess the hub is alerted for.

    A hub is alerted on what remains of its excess once the agents that explain it are left out;
    it does not say that every pass at the hub is suspect. Two cheating agents at one hub keep
    its alert standing without the worst of them, and its floor then reached the wrong items
    claimed on the honest agents' passes beside them: an honest claim made HIGH on a
    pass by an agent whose own record is ordinary, which the hub's alert cannot have touched. A
    pass naming no agent, or naming an agent that is telling, is still the hub's to answer for
    (`covers`)."""
    if not ordinary:
        return findings
    names = ",".join(sorted(ordinary))
    return [
        replace(f, numbers=f.numbers | {ORDINARY_AGENTS: names})
        if f.pattern == f"{PATTERN_PREFIX}HUB"
        else f
        for f in findings
    ]


def ordinary_agents(numbers: Mapping[str, object]) -> frozenset[str]:
    """The agents a hub's finding (or its alert's evidence) names as ordinary."""
    names = numbers.get(ORDINARY_AGENTS)
    return frozenset(str(names).split(",")) if names else frozenset()


def covers(numbers: Mapping[str, object], qc_agent_id: str | None) -> bool:
    """Whether a hub's QC finding speaks for a pass by `qc_agent_id` at the hub: a pass naming
    no agent, or an agent the finding does not name as ordinary."""
    return qc_agent_id is None or qc_agent_id not in ordinary_agents(numbers)


# At most this many of a hub's agents may carry its QC excess for the hub's finding to be
# theirs (`agents_carrying_hub`): a hub's own practice shows on the passes of several agents,
# and a hub of two high agents of two is the agents' record.
MOST_CARRIERS = 2
# How far each carrier's own passes at the hub, and how little the hub's other named agents'
# passes (with one contradiction fewer), may lean to the alternative, as a log Bayes factor
# against the honest hubs (3.5 times): pilferage's `MATES_LEAN_AT`, the level at which an
# excess is taken to show on a part of a place and not to be luck.
CARRIER_LEANS_AT = 1.25


@dataclass(frozen=True, slots=True)
class Carriers:
    """The agents that carry a hub's QC excess: each one's own test at the hub, the hub's test,
    and the hub's test without them."""

    agents: dict[str, SequentialTest]
    hub: SequentialTest
    rest: SequentialTest


def agents_carrying_hub(
    k: int,
    n: int,
    parts: Mapping[str, tuple[int, int]],
    spread: PeerSpread,
    s: Sequential,
) -> Carriers | None:
    """The hub's agents that carry its telling excess (k of n against the honest hubs,
    `spread`), when at most `MOST_CARRIERS` do: agents left out one by one, largest excess
    over the hubs' honest rate first, until the hub without them is no longer telling (a
    Bayes factor below 1/alpha_medium). None when the hub is not telling, when more agents
    (or passes naming no agent, which are no part to leave out) would be needed, when a
    carrier does not lean to the alternative on its own (`CARRIER_LEANS_AT`), or when the
    hub's other named agents lean to it too (the excess is spread, the hub's).

    Why: one or two cheating agents at an honest hub make its excess, each short of its own
    alert (an agent's test reads it against an agents' rate that the world's cheating agents
    lift, and on its few passes at this hub); the hub, weighed on all their passes together,
    was then the only entity alerted, an honest one, and the agents were found by nothing.
    Each carrier is weighed on the scale the hub's excess was read on (the honest hubs'), so a
    part and the place it carries are judged alike, and leaves the hub with its share of the
    passes naming no agent (`with_unnamed_share`); whether it leans is read on its own named
    passes alone. `sequential.without_worst_part` asks the
    same of the one worst part; this asks it of a few, so two cheating agents no longer hide
    each other. Honest agents are protected twice: only a hub whose own test tells is
    attributed (the hub's stated false-alarm rate bounds how often an honest hub's agents are
    named), and an agent joins only while the hub without the carriers so far still tells."""
    telling = math.log(1 / s.alpha_medium)
    hub = rest = sequential_test(k, n, spread, s)
    if rest.log_bf < telling:
        return None
    left = dict(parts)
    carriers: dict[str, SequentialTest] = {}
    rest_k, rest_n = k, n
    named_k = sum(k_a for k_a, _ in parts.values())
    named_n = sum(n_a for _, n_a in parts.values())

    def excess(agent: str) -> float:
        k_a, n_a = left[agent]
        return k_a - n_a * spread.rate

    while rest.log_bf >= telling:
        ahead = [a for a in sorted(left) if excess(a) > 0]
        if not ahead or len(carriers) == MOST_CARRIERS:
            return None
        agent = max(ahead, key=excess)
        k_a, n_a = left.pop(agent)
        carriers[agent] = sequential_test(k_a, n_a, spread, s)
        out_k, out_n = with_unnamed_share((k_a, n_a), (k, n), (named_k, named_n))
        rest_k, rest_n = max(rest_k - out_k, 0), max(rest_n - out_n, 0)
        rest = sequential_test(rest_k, rest_n, spread, s)
    if any(t.log_bf < CARRIER_LEANS_AT for t in carriers.values()):
        return None
    mates_k = sum(k_a for k_a, _ in left.values())
    mates_n = sum(n_a for _, n_a in left.values())
    # With one contradiction fewer: on a few passes one contradiction leans to anything.
    if mates_n and sequential_test(max(mates_k - 1, 0), mates_n, spread, s).log_bf > (
        CARRIER_LEANS_AT
    ):
        return None
    return Carriers(carriers, hub, rest)


def with_unnamed_share(
    part: tuple[int, int], hub: tuple[int, int], named: tuple[int, int]
) -> tuple[int, int]:
    """An agent's (contradictions, passes) at a hub grown by its share of the hub's passes that
    name no agent: `hub` is the hub's whole record, `named` the part of it naming an agent.

    A partner may leave the agent off a scan (rapidroute does, some of the time): the pass is
    still some agent's, and so is its contradiction. The unnamed passes are shared out as the
    named ones are, and their contradictions as the named contradictions are (never less than
    as the passes are): pilferage's rule (`pilferage.with_unnamed_share`). Without it, two
    cheating agents left out of an honest hub left their unnamed passes behind, which then read
    as the hub's own excess and alerted it."""
    (k_a, n_a), (k, n), (named_k, named_n) = part, hub, named
    if named_n <= 0 or n <= named_n:
        return part
    passes = n_a / named_n
    contradictions = max(k_a / named_k, passes) if named_k else passes
    return (
        k_a + round(max(k - named_k, 0) * contradictions),
        n_a + round((n - named_n) * passes),
    )


# The code of an agent's finding that it carries its hub's QC excess (`carried_by_agents`).
AGENT_AT_HUB = "AGENT_QC_CONTRADICTION_AT_HUB"


def carried_by_agents(
    findings: list[Finding],
    hub_id: str,
    carriers: Carriers,
    named_contradictions: int | None = None,
    alerted_contradictions: int = 0,
) -> tuple[list[Finding], list[Finding]]:
    """A hub's findings with its alert-worthy QC finding held to MEDIUM (no alert, no HIGH),
    naming the agents that carry it, and the finding about each of those agents: the hub's
    strength and alert, the pattern an agent's, its evidence the hub's excess it carries.

    The alert goes where the excess is: a claim on a carrier's pass takes the carrier's
    finding (HIGH, as the hub's was), a claim on another agent's pass no longer takes the
    hub's HIGH, and the carrier's own alert re-assesses its passes (revisions).

    `named_contradictions`: the hub's contradictions on passes naming any of its agents (each
    buyer's once, as the carriers' are counted), `alerted_contradictions` those of them by its
    other agents already under a QC alert (carriers found before); the share of them these
    suspects hold is kept on each carrier's finding (`CARRIERS_SHARE`) for the passes naming
    no agent (`unnamed_pass`). None: no share is kept, and the findings say nothing of those
    passes (`qc_unnamed_carrier_reach` off)."""
    pattern = f"{PATTERN_PREFIX}HUB"
    top = max(
        (f for f in findings if f.alert_worthy(pattern)),
        key=lambda f: f.contribution,
        default=None,
    )
    if top is None:
        return findings, []
    names = ",".join(sorted(carriers.agents))
    held = demoted_where(
        findings,
        pattern,
        f"carried by agents {names}: without them Bayes factor {carriers.rest.bayes_factor:.3g}",
        {
            "carried_by": names,
            "log_bayes_factor_without_carriers": round(carriers.rest.log_bf, 3),
        },
    )
    agents = [
        Finding(
            code=AGENT_AT_HUB,
            detail=(
                f"carries hub {hub_id}'s QC contradiction excess ({top.code}, with {names}): "
                f"{own.detail()} at the hub against honest hubs; the hub without them "
                f"{carriers.rest.detail()}"
            ),
            contribution=top.contribution,
            pattern=f"{PATTERN_PREFIX}AGENT",
            entity_type="agent",
            entity_id=agent,
            numbers=own.numbers()
            | {
                "hub_id": hub_id,
                "carried_with": names,
                "hub_log_bayes_factor": round(carriers.hub.log_bf, 3),
                "log_bayes_factor_hub_without_carriers": round(carriers.rest.log_bf, 3),
            }
            | (
                {}
                if named_contradictions is None
                else {
                    CARRIERS_SHARE: carriers_share(
                        carriers, named_contradictions, alerted_contradictions
                    )
                }
            ),
            alert=top.alert,
            suggested_action=ACTION["agent"],
        )
        for agent, own in sorted(carriers.agents.items())
    ]
    return held, agents


# A carrier's finding's share of its hub's named contradictions that the carriers hold
# (`carriers_share`), and the finding a claim on the hub's pass naming no agent takes from it
# (`unnamed_pass`).
CARRIERS_SHARE = "carriers_share_of_hub_contradictions"
UNNAMED_AT_HUB = "QC_UNNAMED_PASS_AT_CARRIED_HUB"
# How likely a contradicted pass naming no agent must be one of the carriers' for it to take
# their HIGH: the band's own floor, four in five.
UNNAMED_HIGH_SHARE = 0.8
_BELOW_HIGH = 0.79


def carriers_share(
    carriers: Carriers, named_contradictions: int, alerted_contradictions: int = 0
) -> float:
    """The share of the hub's contradictions on passes naming an agent that the carriers hold,
    with the hub's other agents already under a QC alert (`alerted_contradictions`: carriers
    found on an earlier claim, one at a time as each leans): how likely a contradicted pass at
    the hub naming no agent is a suspect's.

    Why this share: a partner leaves the agent off a scan whoever the agent is (rapidroute
    does, some of the time), so the passes naming no agent are drawn from the hub's agents as
    the named ones are, and so are their contradictions. Given that a pass was contradicted,
    the chance it is the carriers' is their part of the hub's contradictions, not of its
    passes: an honest agent holding most of the hub's passes at an honest rate holds few of
    its contradictions. Read on the named passes alone (the unnamed are what is asked about);
    0.0 when none is named (nothing to read it on)."""
    held = sum(t.k for t in carriers.agents.values()) + max(alerted_contradictions, 0)
    whole = max(named_contradictions, held)
    return round(held / whole, 3) if whole else 0.0


def unnamed_pass(carrier: Finding, hub_id: str, strength: float) -> Finding | None:
    """What a carrier's finding (or its open alert's evidence, `strength` its floor) says of
    a claim contradicting a pass at its hub that names no agent: the carrier's strength where
    the carriers hold at least `UNNAMED_HIGH_SHARE` of the hub's named contradictions (the
    pass is probably theirs), else that strength times the share, below HIGH (MEDIUM where
    the pass is likelier theirs than not, little or nothing below). None for a finding that
    carries no hub's excess, or one read before the share was kept.

    The finding is about the hub (its pattern the agents', `QC_CONTRADICTION_AGENT`): two
    carriers of one hub say the same thing of its unnamed passes and must count once
    (a revision replaces a reason of the same code and entity). It never alerts."""
    share = carrier.numbers.get(CARRIERS_SHARE)
    if (
        carrier.code != AGENT_AT_HUB
        or str(carrier.numbers.get("hub_id", "")) != hub_id
        or not isinstance(share, int | float)
        or share <= 0
    ):
        return None
    contribution = (
        strength if share >= UNNAMED_HIGH_SHARE else min(strength * float(share), _BELOW_HIGH)
    )
    names = str(carrier.numbers.get("carried_with") or carrier.entity_id)
    return Finding(
        code=UNNAMED_AT_HUB,
        detail=(
            f"a pass naming no agent at hub {hub_id}, whose QC excess agents {names} carry: "
            f"they hold {share:.0%} of its contradictions on passes naming an agent"
        ),
        contribution=contribution,
        pattern=f"{PATTERN_PREFIX}AGENT",
        entity_type="hub",
        entity_id=hub_id,
        numbers={
            "hub_id": hub_id,
            "carried_with": names,
            CARRIERS_SHARE: float(share),
            "carrier_strength": round(strength, 4),
        },
        suggested_action=ACTION["agent"],
    )
