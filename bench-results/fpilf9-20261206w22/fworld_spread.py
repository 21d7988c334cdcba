"""Spec-only worlds (`disputedesk.fraudworld`): each planted pilferer's whole-world record, the
honest population the sequential test reads from its peers (every other hub/agent, as scoring's
`robust_baseline` reads them), against (a) the honest peers alone (planted entities out, and the
planted incidents the lot gave an honest hub taken off it) and (b) the world's truth: every
honest hub and agent of this world draws trouble at one rate, so the honest spread is none (read
at the cap, 1,000) and the mean is the honest peers' pooled rate. Hubs weighed by exposure, agents
raw, as `../fpilf8-20261205w21/fworld_pilferers.py`. No database, no onset/history.
    python fworld_spread.py SEED..."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import pilferage, stats
from services.fraud.features.custody import (
    DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody, weight_drop,
)
from services.fraud.scoring.base import default_config

T, SEQ = stats.Thresholds(), default_config().sequential
PICKUPS = {"PICKED_UP", "QC_PASSED", "QC_FAILED"}
ENDS = {"DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}
MILESTONES = PICKUPS | ENDS | {"AT_HUB"}


def read(own, others):
    b = stats.robust_baseline(others, T, prior_rate=0.03, leave_out=True, by_information=True)
    return b.spread.rate, b.spread.concentration, stats.sequential_log_bf(*own, b.spread, SEQ)


def truth(own, honest):
    k = sum(c[0] for c in honest); n = sum(c[1] for c in honest)
    sp = stats.PeerSpread(k / n, T.max_concentration)
    return sp.rate, sp.concentration, stats.sequential_log_bf(*own, sp, SEQ)


def counts_of(w):
    partner_of, rows = {}, defaultdict(Counter)
    pairs: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)  # (hub, agent), as hub_agent
    agents, agents_clean, planted_on = defaultdict(Counter), defaultdict(Counter), Counter()
    for r in w.returns:
        scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in MILESTONES]
        kinds = {s.kind for s in scans}
        seen = [Seen(s.at, s.hub, s.weight_g, END if s.kind in ENDS else PICKUP if s.kind in PICKUPS else SCAN) for s in scans]
        ends = [s for s in scans if s.kind in ENDS]
        if not ends:
            continue
        end = min(ends, key=lambda s: s.at)
        pw = next((s.weight_g for s in sorted(scans, key=lambda s: s.at) if s.kind in PICKUPS and s.weight_g), None)
        inc = DECLARED if end.kind != "DELIVERED_TO_SELLER" else WEIGHT_DROP if weight_drop(pw, end.weight_g) else None
        c = custody(r.return_id, seen, pickup_weight_g=pw, incident=inc)
        bad = inc is not None and "pilferage" in r.patterns
        for h in c.handled:
            partner_of[h] = r.partner
            row = rows[h]
            row["handled"] += 1
            if r.agent and r.partner != "desipost":
                pairs[(h, r.agent)]["n"] += 1
                pairs[(h, r.agent)]["k"] += bool(inc and h == c.incident_hub)
            part = "only" if len(c.handled) == 1 else "last" if h == c.handled[-1] else "earlier"
            row[f"handled_{part}"] += 1
            if inc and h == c.incident_hub:
                row["incidents"] += 1
                row[f"incidents_{part}"] += 1
                if bad:
                    row["planted"] += 1
                    # whose: the planted hub's (received there, the lot gave it to another hub
                    # of the journey) or a planted agent's (picked up by it)
                    hub_planted = r.dest_hub in w.truth["pilferage"]["hub"]
                    row["planted_by_hub" if hub_planted else "planted_by_agent"] += 1
        if r.agent and r.partner != "desipost":
            agents[r.agent]["n"] += 1
            agents[r.agent]["k"] += inc is not None
            agents[r.agent]["planted"] += bad
    scales = pilferage.exposure_scales({h: dict(r) for h, r in rows.items()}, T)
    hubs = {h: (r["incidents"], pilferage.weighed(r["handled"], r["incidents"], scales.get(h, 1.0))) for h, r in rows.items()}
    ags = {a: (c["k"], c["n"]) for a, c in agents.items()}
    return {"hub": hubs, "agent": ags, "rows": rows, "agents": agents, "partner_of": partner_of, "pairs": pairs, "scales": scales}


def hubs_as_scored(c, medium=3.0):
    """Every hub's weighed record less the parcels of the agents telling (MEDIUM, log BF >= 3)
    against the other agents, at every hub their parcels passed: what scoring's
    `hubs_without_explaining` takes off a hub's peer record (its agents are read raw here, not
    standardised by their hub-mates; no agents standing out at one hub)."""
    ags = c["agent"]
    telling = {a for a, own in ags.items() if read(own, [v for o, v in ags.items() if o != a])[2] >= medium}
    out = {}
    for h, r in c["rows"].items():
        k, n = r["incidents"], r["handled"]
        for a in telling:
            p = c["pairs"].get((h, a))
            if p:
                k, n = k - p["k"], n - p["n"]
        out[h] = (max(k, 0), pilferage.weighed(max(n, 0), max(k, 0), c["scales"].get(h, 1.0)))
    return out, telling


def world(seed):
    w = build_world(seed)
    planted = w.truth["pilferage"]
    lookalikes = {**w.lookalikes.get("hub", {}), **w.lookalikes.get("agent", {})}
    c = counts_of(w)
    hubs, ags, rows, agents, partner_of = c["hub"], c["agent"], c["rows"], c["agents"], c["partner_of"]
    print(f"world {seed}: planted {sorted(planted['hub'])} {sorted(planted['agent'])}; look-alikes {lookalikes}")
    for kind, counts, raw in (("hub", hubs, rows), ("agent", ags, agents)):
        honest = {e: c for e, c in counts.items() if e not in planted[kind]}
        # honest peers without what the planted entities' trouble put on them (the lot, a
        # planted agent's parcels at an honest hub are not in agents' counts)
        clean = {e: (c[0] - raw[e]["planted"], c[1]) for e, c in honest.items()}
        rates = sorted(k / n for k, n in clean.values() if n)
        print(f"  {kind}s: honest {len(honest)}, clean honest rates {rates[0]:.3f}..{rates[-1]:.3f}, "
              f"lot/planted incidents on honest {kind}s {sum(raw[e]['planted'] for e in honest)}")
        for e in sorted(counts):
            tag = "PLANTED" if e in planted[kind] else lookalikes.get(e, "")
            others = [c for o, c in counts.items() if o != e]
            m, conc, bf = read(counts[e], others)
            hm, hc, hbf = read(counts[e], [c for o, c in clean.items() if o != e])
            tm, tc, tbf = truth(counts[e], [c for o, c in clean.items() if o != e])
            # the two parts apart: the honest-only mean at the spread read; the mean read at
            # the true spread (none)
            mbf = stats.sequential_log_bf(*counts[e], stats.PeerSpread(hm, conc), SEQ)
            sbf = stats.sequential_log_bf(*counts[e], stats.PeerSpread(m, T.max_concentration), SEQ)
            if not tag and max(bf, tbf) < 3.0 and kind == "agent":
                continue
            k, n = counts[e]
            print(f"    {kind} {partner_of.get(e, ''):10s} {e:26s} {k:3d}/{n:5d} ({k/n:.3f}) planted-inc {raw[e]['planted']:3d} | "
                  f"read {m:.4f} c{conc:5.0f} BF {bf:6.2f} | honest-only {hm:.4f} c{hc:5.0f} BF {hbf:6.2f} | "
                  f"truth {tm:.4f} c{tc:5.0f} BF {tbf:6.2f} | honest mean, read spread {mbf:6.2f}; read mean, no spread {sbf:6.2f} {tag}")


if __name__ == "__main__":
    for seed in map(int, sys.argv[1:]):
        world(seed)
