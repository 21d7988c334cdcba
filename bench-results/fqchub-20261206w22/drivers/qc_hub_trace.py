"""Score range-set worlds as `fraud-eval --direct` does, and keep, for every hub the QC step
lets alert, what its agents held then: each agent's (contradicting buyers, passes) at the hub as
fraud counts them, whether it explains the hub, its own sequential evidence at the hub against
all agents, and the hub's test without its worst remaining agent.

    EVAL_DB=eval_fraud_qchub python qc_hub_trace.py dev OUT 101 102
Run from the root of the code under test; writes OUT/<name>-<seed>/{table,hubs}.json.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())

import disputedesk.simulate.direct as direct  # noqa: E402
import services.fraud.scoring.qc_contradiction as sqc  # noqa: E402
from disputedesk.simulate.generator import World, generate  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from disputedesk.stack import Stack  # noqa: E402
from services.fraud.detectors import qc_contradiction as dqc  # noqa: E402
from services.fraud.detectors.sequential import demoted  # noqa: E402
from services.fraud.detectors.stats import PeerSpread, sequential_test  # noqa: E402
from services.fraud.scoring.base import _peer_spread  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

name, out = sys.argv[1], Path(sys.argv[2])
seeds = [int(s) for s in sys.argv[3:]]
DB = os.environ.get("EVAL_DB", "eval_fraud_qchub")
CTX: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("qc")
SNAPS: dict[str, dict[str, Any]] = {}

orig_qc = sqc.QcInputs.qc
orig_expl = dqc.agents_explaining_hub
orig_telling = sqc.QcInputs.telling
orig_www = sqc.without_worst_part
orig_hbop = sqc.held_by_one_part


async def qc(self: Any, facts: Any) -> None:
    token = CTX.set({"self": self, "facts": facts, "at": self.at})
    try:
        return await orig_qc(self, facts)
    finally:
        CTX.reset(token)


def expl(at_hub: Any, base: Any, t: Any) -> set[str]:
    r = orig_expl(at_hub, base, t)
    c = CTX.get()
    c.update(at_hub=dict(at_hub), agents_baseline=base, std_explaining=set(r))
    return r


# QCHUB_VARIANT=hubscale: an agent explains its hub when telling against the lower of the
# agents' rate and the rate the hub itself is weighed against (the hub's rate of its previous
# scoring: a replay estimate of the rule, one event behind).
VARIANT = os.environ.get("QCHUB_VARIANT", "")
LAST_HUB_RATE: dict[str, float] = {}


def telling(self: Any, k: int, n: int, peers: Any, spread: Any, *, prior_rate: float) -> bool:
    c = CTX.get(None)
    if c is not None:
        base = _peer_spread(self.config, peers, spread, prior_rate)
        c["agent_spread"] = base
        hub_rate = LAST_HUB_RATE.get(c["facts"].qc_hub_id)
        if VARIANT in ("hubscale", "full") and hub_rate is not None and hub_rate < base.rate:
            spread = PeerSpread(hub_rate, base.concentration)
    return orig_telling(self, k, n, peers, spread, prior_rate=prior_rate)


def www(k: int, n: int, parts: Any, spread: PeerSpread, s: Any) -> Any:
    worst, rest = orig_www(k, n, parts, spread, s)
    c = CTX.get()
    LAST_HUB_RATE[c["facts"].qc_hub_id] = spread.rate
    c.update(hub_k=k, hub_n=n, parts=dict(parts), hub_spread=spread, worst=worst, rest=rest, s=s)
    return worst, rest


def leaning_out(findings: Any, pattern: str, s: Any) -> Any:
    """QCHUB_VARIANT=full: besides hubscale, a hub held at MEDIUM while it stops telling without
    its agents leaning against the peers at the hub (factor above 1) when they are one or two,
    each taking its share of the passes naming no agent (pilferage's `with_unnamed_share`)."""
    c = CTX.get()
    parts, spread = c.get("parts", {}), c.get("agent_spread")
    hub_rate = LAST_HUB_RATE.get(c["facts"].qc_hub_id)
    if not parts or spread is None:
        return findings
    if hub_rate is not None and hub_rate < spread.rate:
        spread = PeerSpread(hub_rate, spread.concentration)
    leaning = [a for a, (k, n) in parts.items() if sequential_test(k, n, spread, s).log_bf > 0]
    if not 1 <= len(leaning) <= 2:
        return findings
    nk = sum(k for k, _ in parts.values())
    nn = sum(n for _, n in parts.values())
    uk, un = max(c["hub_k"] - nk, 0), max(c["hub_n"] - nn, 0)
    gk = gn = 0.0
    for a in leaning:
        k, n = parts[a]
        gk += k + (uk * max(k / nk if nk else 0, n / nn if nn else 0))
        gn += n + (un * n / nn if nn else 0)
    rk, rn = max(round(c["hub_k"] - gk), 0), max(round(c["hub_n"] - gn), 0)
    rest = sequential_test(rk, rn, c["hub_spread"], s)
    if rest.log_bf >= math.log(1 / s.alpha_medium):
        return findings
    return [
        demoted(f, "carried by its leaning agents", {}) if f.pattern == pattern and (f.alert or f.contribution >= 0.8) else f
        for f in findings
    ]


def hbop(findings: Any, pattern: str, worst: Any, rest: Any, s: Any) -> Any:
    outf = orig_hbop(findings, pattern, worst, rest, s)
    if VARIANT == "full":
        outf = leaning_out(outf, pattern, s)
    c = CTX.get()
    alerting = [f for f in outf if f.pattern == pattern and f.alert]
    hub = c["facts"].qc_hub_id
    if alerting and hub not in SNAPS:
        spread = c.get("agent_spread")
        agents = {}
        for a, (k, n) in c.get("at_hub", {}).items():
            lbf = sequential_test(k, n, spread, s).log_bf if spread else None
            agents[a] = {
                "k": k,
                "n": n,
                "explaining": a not in c.get("parts", {}),
                "log_bf_at_hub": round(lbf, 2) if lbf is not None else None,
            }
        whole = sequential_test(c["hub_k"], c["hub_n"], c["hub_spread"], s)
        SNAPS[hub] = {
            "at": c["at"].isoformat(),
            "hub_k_n_after_explaining": (c["hub_k"], c["hub_n"]),
            "hub_log_bf": round(whole.log_bf, 2),
            "hub_peer": round(c["hub_spread"].rate, 4),
            "hub_concentration": round(c["hub_spread"].concentration, 1),
            "agents_peer": round(spread.rate, 4) if spread else None,
            "agents_concentration": round(spread.concentration, 1) if spread else None,
            "worst": c.get("worst"),
            "rest_log_bf": round(c["rest"].log_bf, 2),
            "agents": agents,
            "codes": [f.code for f in alerting],
        }
    return outf


sqc.QcInputs.qc = qc  # type: ignore[method-assign]
dqc.agents_explaining_hub = expl
sqc.QcInputs.telling = telling  # type: ignore[method-assign]
sqc.without_worst_part = www
sqc.held_by_one_part = hbop


async def main() -> None:
    _, ranges = RANGE_SETS[name]
    stack = Stack.from_env(dict(os.environ))
    url = stack.postgres.database_url(DB)
    original_score = direct.score_world
    for seed in seeds:
        d = out / f"{name}-{seed}"
        if (d / "table.json").exists():
            continue
        d.mkdir(parents=True, exist_ok=True)
        stack.postgres.drop_database(DB)
        stack.postgres.create_database(DB)
        await asyncio.to_thread(upgrade, "fraud", url)
        world = generate(draw_market(seed, ranges=ranges), seed)
        SNAPS.clear()
        LAST_HUB_RATE.clear()
        kept: dict[str, Any] = {}

        def score(w: World, assessments: list[Any], alerts: list[Any]) -> dict[str, Any]:
            truth = w.truth
            fe = truth.fraud_entities()
            planted_as = {}
            for p, members in truth.entities.items():
                for m in members:
                    planted_as.setdefault(f"{m[0]}:{m[1]}", []).append(p)
            hubs = []
            for a in alerts:
                if a.pattern != "QC_CONTRADICTION_HUB":
                    continue
                snap = SNAPS.get(a.entity_id, {})
                for ag, v in snap.get("agents", {}).items():
                    v["planted"] = planted_as.get(f"agent:{ag}", [])
                hubs.append(
                    {
                        "hub": a.entity_id,
                        "hub_planted": ("hub", a.entity_id) in fe,
                        "status": a.status,
                        "event_time": a.event_time.isoformat() if a.event_time else None,
                        "code": (a.evidence or {}).get("code"),
                        "snapshot": snap,
                    }
                )
            qc_agents = [
                {"agent": f"{t}:{i}", "planted": planted_as.get(f"{t}:{i}")}
                for p, members in truth.entities.items()
                for (t, i) in members
                if "QC" in p.upper()
            ]
            agent_alerts = [
                {"agent": a.entity_id, "planted": planted_as.get(f"agent:{a.entity_id}", []),
                 "event_time": a.event_time.isoformat() if a.event_time else None}
                for a in alerts
                if a.pattern == "QC_CONTRADICTION_AGENT"
            ]
            kept["hubs"] = {"hub_alerts": hubs, "agent_alerts": agent_alerts, "planted_qc": qc_agents}
            return original_score(w, assessments, alerts)

        direct.score_world = score
        table = await direct.score_directly(world, url)
        (d / "table.json").write_text(json.dumps(table, indent=1, default=str))
        (d / "hubs.json").write_text(json.dumps(kept["hubs"], indent=1, default=str))
        print(name, seed, "done", flush=True)


asyncio.run(main())
