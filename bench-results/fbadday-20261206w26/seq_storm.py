"""The bad-day hub's whole-world sequential log BF (against the other hubs as scoring reads them,
`../fpilf9-20261206w22/fworld_spread.py`), for its record counted with the worst day left out
(main), with the worst two adjacent days left out, and with no storm at all.
    python seq_storm.py SEED END_ISO ..."""
import sys
from datetime import datetime
sys.path.insert(0, "../fpilf9-20261206w22")
import fworld_spread as fs
from disputedesk.fraudworld import world as fw

args = sys.argv[1:]
for seed, end in zip(args[::2], args[1::2]):
    fs_build = fw.build_world
    w = fs_build(int(seed), end=datetime.fromisoformat(end))
    c = fs.counts_of(w)
    hubs, telling = fs.hubs_as_scored(c)
    hub = next(iter(w.lookalikes["hub"]))
    k, n = hubs[hub]
    others = [v for o, v in hubs.items() if o != hub]
    for label, drop_k, drop_n in (("raw", 0, 0), ("less worst day", 8 if seed == "4242" else 6, 19),
                                  ("less worst pair", 9 if seed == "4242" else 8, 29 if seed == "4242" else 37),
                                  ("less the storm (8)", 8, 8)):
        sc = n / c["rows"][hub]["handled"]
        own = (k - drop_k, max(round(n - drop_n * sc), k - drop_k))
        m, conc, bf = fs.read(own, others)
        print(f"seed {seed} {hub} {label:20s} {own} peers {m:.4f} c{conc:.0f} logBF {bf:.2f}")
    for h, own in sorted(hubs.items()):
        m, conc, bf = fs.read(own, [v for o, v in hubs.items() if o != h])
        print(f"   {h} {own} logBF {bf:.2f} {w.lookalikes['hub'].get(h, '')} {'PLANTED' if h in w.truth['pilferage']['hub'] else ''}")
