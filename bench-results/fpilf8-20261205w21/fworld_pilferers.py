"""The spec-only worlds' (`disputedesk.fraudworld`) planted pilferers, whole-world, as fraud's
custody counts them (no database; after `../fpilf7-20261205h/fworld_hubs.py`): each hub's and
planted agent's incidents and parcels, the rate test's p against the others (robust peers) and
the sequential test's log Bayes factor (hubs weighed by exposure, against the other hubs; agents
raw, against the other agents), with the honest mean read before (every peer weighed at least
once, shrunk to the prior) and after (`stats.information_rate` now). The alert is at log 1000
= 6.9 (`default_config().sequential`); MEDIUM at log 20 = 3.0. Whole-world counts without the
onset, history, exposure of agents and explaining agents the product adds: what the evidence
holds, not what the product alerted.      python fworld_pilferers.py SEED..."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import pilferage, stats
from services.fraud.features.custody import (
    DECLARED,
    END,
    PICKUP,
    SCAN,
    WEIGHT_DROP,
    Seen,
    custody,
    weight_drop,
)
from services.fraud.scoring.base import default_config

T, SEQ = stats.Thresholds(), default_config().sequential
NEW = stats.information_rate


def before(peers, concentration, t, prior_rate, **_):  # type: ignore[no-untyped-def]
    rho = 1.0 / (max(concentration, 0.0) + 1.0)
    num = den = 0.0
    for k, n, m in peers:
        if n <= 0:
            continue
        w = m * n / (1.0 + (n - 1) * rho)
        num, den = num + w * k / n, den + w
    return (num + t.prior_strength * prior_rate) / (den + t.prior_strength)


def tests(own: tuple[int, int], others: list[tuple[int, int]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, rate in (("before", before), ("after", NEW)):
        stats.information_rate = rate  # type: ignore[assignment]
        b = stats.robust_baseline(
            others, T, prior_rate=0.03, leave_out=True, by_information=True
        )
        assert b.spread is not None
        out[f"bf_{name}"] = stats.sequential_log_bf(own[0], own[1], b.spread, SEQ)
        out[f"mean_{name}"] = b.spread.rate
        out["conc"] = b.spread.concentration
        out["p"] = stats.rate_test(own[0], own[1], b.k, b.n, T, prior_rate=0.03).p
    stats.information_rate = NEW
    return out


PICKUPS = {"PICKED_UP", "QC_PASSED", "QC_FAILED"}
ENDS = {"DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}
MILESTONES = PICKUPS | ENDS | {"AT_HUB"}

for seed in map(int, sys.argv[1:]):
    w = build_world(seed)
    planted = w.truth["pilferage"]
    partner_of: dict[str, str] = {}
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    agents: dict[str, Counter[str]] = defaultdict(Counter)
    for r in w.returns:
        scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in MILESTONES]
        kinds = {s.kind for s in scans}
        seen = [
            Seen(s.at, s.hub, s.weight_g, END if s.kind in ENDS else PICKUP if s.kind in PICKUPS else SCAN)
            for s in scans
        ]
        ends = [s for s in scans if s.kind in ENDS]
        if not ends:
            continue
        end = min(ends, key=lambda s: s.at)
        pw = next(
            (s.weight_g for s in sorted(scans, key=lambda s: s.at) if s.kind in PICKUPS and s.weight_g),
            None,
        )
        inc = (
            DECLARED
            if end.kind != "DELIVERED_TO_SELLER"
            else WEIGHT_DROP if weight_drop(pw, end.weight_g) else None
        )
        c = custody(r.return_id, seen, pickup_weight_g=pw, incident=inc)
        for h in c.handled:
            partner_of[h] = r.partner
            row = rows[h]
            row["handled"] += 1
            part = "only" if len(c.handled) == 1 else "last" if h == c.handled[-1] else "earlier"
            row[f"handled_{part}"] += 1
            if inc and h == c.incident_hub:
                row["incidents"] += 1
                row[f"incidents_{part}"] += 1
        if r.agent and r.partner != "desipost":
            agents[r.agent]["n"] += 1
            agents[r.agent]["k"] += inc is not None
            agents[r.agent]["named"] += r.partner == "swiftship" or "PICKED_UP" in kinds
    scales = pilferage.exposure_scales({h: dict(r) for h, r in rows.items()}, T)
    weighed = {
        h: (r["incidents"], pilferage.weighed(r["handled"], r["incidents"], scales.get(h, 1.0)))
        for h, r in rows.items()
    }
    print(f"world {seed}: planted hubs {sorted(planted['hub'])} agents {sorted(planted['agent'])}")
    for h in sorted(rows, key=lambda h: (partner_of[h], h)):
        t = tests(weighed[h], [c for o, c in weighed.items() if o != h])
        tag = "PLANTED" if h in planted["hub"] else ""
        k, n = weighed[h]
        print(
            f"  hub {partner_of[h]:10s} {h:26s} k={k:3d} n={n:5d} ({k / n:.3f}) p={t['p']:.1e} "
            f"mean {t['mean_before']:.4f}->{t['mean_after']:.4f} conc {t['conc']:6.0f} "
            f"logBF {t['bf_before']:7.2f} -> {t['bf_after']:7.2f} {tag}"
        )
    counts = {a: (c["k"], c["n"]) for a, c in agents.items()}
    for a in sorted(counts):
        if a not in planted["agent"]:
            continue
        t = tests(counts[a], [c for o, c in counts.items() if o != a])
        k, n = counts[a]
        print(
            f"  agent {a:22s} k={k:3d} n={n:5d} ({k / n:.3f}) p={t['p']:.1e} "
            f"mean {t['mean_before']:.4f}->{t['mean_after']:.4f} conc {t['conc']:6.0f} "
            f"logBF {t['bf_before']:7.2f} -> {t['bf_after']:7.2f} PLANTED"
        )
    honest_agents = [a for a in counts if a not in planted["agent"]]
    hot = [
        a
        for a in honest_agents
        if tests(counts[a], [c for o, c in counts.items() if o != a])["bf_after"] >= 6.9
    ]
    print(f"  honest agents {len(honest_agents)}, whole-world logBF >= 6.9 after: {hot}")
