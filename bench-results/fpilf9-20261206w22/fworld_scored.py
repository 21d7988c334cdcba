"""Each spec-only world's planted hub weighed against the other hubs as scoring counts them (the
telling agents' parcels off every hub they passed, `fworld_spread.hubs_as_scored`), against the
same less the planted incidents left on honest hubs, and at the world's truth; and every honest
hub reaching MEDIUM (log BF >= 3) as scored.     python fworld_scored.py SEED..."""

from __future__ import annotations

import sys

import fworld_spread as fs

for seed in map(int, sys.argv[1:]):
    w = fs.build_world(seed)
    planted = w.truth["pilferage"]["hub"]
    c = fs.counts_of(w)
    hubs, telling = fs.hubs_as_scored(c)
    print(f"world {seed}: agents telling (MEDIUM) and taken off every hub: {sorted(telling)}")
    # the honest hubs' records without any planted incident (`fworld_spread`'s "honest-only")
    clean = {h: (k - c["rows"][h]["planted"], n) for h, (k, n) in c["hub"].items() if h not in planted}
    for h, own in sorted(hubs.items()):
        others = [v for o, v in hubs.items() if o != h]
        m, conc, bf = fs.read(own, others)
        hm, hc, hbf = fs.read(own, [v for o, v in clean.items() if o != h])
        tm, _, tbf = fs.truth(own, [v for o, v in clean.items() if o != h])
        tag = "PLANTED" if h in planted else w.lookalikes["hub"].get(h, "")
        if tag or bf >= 3.0:
            print(f"  {h:26s} {own[0]:3d}/{own[1]:5d} as scored {m:.4f} c{conc:5.0f} BF {bf:6.2f} | "
                  f"honest-only {hm:.4f} c{hc:5.0f} BF {hbf:6.2f} | truth {tm:.4f} BF {tbf:6.2f} {tag}")

    # Agents as scoring reads them: each measured against its hub-mates at every hub its
    # parcels passed (`pilferage.standardised`), weighed against the other agents so measured.
    D = fs.pilferage.DayCount
    agents = {a: D(n, k) for a, (k, n) in c["agent"].items()}
    at_hubs: dict[str, dict[str, object]] = {}
    for (h, a), p in c["pairs"].items():
        at_hubs.setdefault(h, {})[a] = D(p["n"], p["k"])
    std, ref = fs.pilferage.standardised(agents, at_hubs, fs.T)
    lookalike_agents = w.lookalikes["agent"]
    for a, own in sorted(std.items()):
        m, conc, bf = fs.read(own, [v for o, v in std.items() if o != a])
        raw = c["agent"][a]
        tag = "PLANTED" if a in w.truth["pilferage"]["agent"] else lookalike_agents.get(a, "")
        if tag or bf >= 3.0:
            print(f"  {a:26s} raw {raw[0]:3d}/{raw[1]:4d} standardised {own[0]:3d}/{own[1]:5d} vs {m:.4f} "
                  f"c{conc:5.0f} BF {bf:6.2f} (planted incidents on it {c['agents'][a]['planted']}) {tag}")
