"""The bad-day hub scored as the spec world's journeys end (every 3 hours of the world, the
journeys whose first end scan has come), as scoring weighs it without a database: its record by
UTC day (an incident on its end's day), the others hubs as `../fpilf9-20261206w22/fworld_spread.py`
counts them, the whole-window sequential test and the onset test (7-day grid, 28-day histories),
with the worst day set aside as main does (`pilferage.counted`, `counted_from_each`) and with
the rule passed as RULE=spell (this change).   python replay_storm.py SEED END_ISO [HUB]"""
import math
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from types import SimpleNamespace

sys.path.insert(0, "../fpilf9-20261206w22")
import fworld_spread as fs
from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import pilferage, stats
from services.fraud.features.custody import DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody, weight_drop

T, SEQ = fs.T, fs.SEQ
seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
w = build_world(seed, end=end)
hub = sys.argv[3] if len(sys.argv) > 3 else next(iter(w.lookalikes["hub"]))
ends = {}
import os
if os.environ.get("DROP_STORM"):
    # The counterfactual: the world without its storm (the storm's returns are picked up within
    # minutes of one another, `forced_day`, and damaged at this hub).
    a, b = (datetime.fromisoformat(x) for x in os.environ["DROP_STORM"].split(","))
    w.returns = [r for r in w.returns if not (r.dest_hub == hub and any(
        s.kind == "DAMAGED_IN_TRANSIT" for s in r.scans) and any(
        s.kind == "PICKED_UP" and a <= s.at <= b for s in r.scans))]
for r in w.returns:
    scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in fs.MILESTONES]
    e = [s for s in scans if s.kind in fs.ENDS]
    if e:
        ends[r.return_id] = min(e, key=lambda s: s.at).at


def hub_days(rets):
    days = defaultdict(Counter)
    for r in rets:
        scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in fs.MILESTONES]
        e = min((s for s in scans if s.kind in fs.ENDS), key=lambda s: s.at)
        pw = next((s.weight_g for s in sorted(scans, key=lambda s: s.at) if s.kind in fs.PICKUPS and s.weight_g), None)
        inc = DECLARED if e.kind != "DELIVERED_TO_SELLER" else WEIGHT_DROP if weight_drop(pw, e.weight_g) else None
        seen = [Seen(s.at, s.hub, s.weight_g, END if s.kind in fs.ENDS else PICKUP if s.kind in fs.PICKUPS else SCAN) for s in scans]
        c = custody(r.return_id, seen, pickup_weight_g=pw, incident=inc)
        if hub in c.handled:
            days[e.at.date()]["n"] += 1
            days[e.at.date()]["k"] += bool(inc and c.incident_hub == hub)
    return {d: pilferage.DayCount(v["n"], v["k"]) for d, v in sorted(days.items())}


start = end - timedelta(days=35)
top = (None, -99.0)
at = start + timedelta(days=7)
while at <= end:
    rets = [r for r in w.returns if r.return_id in ends and ends[r.return_id] <= at]
    sub = SimpleNamespace(returns=rets, truth=w.truth)
    c = fs.counts_of(sub)
    hubs, _ = fs.hubs_as_scored(c)
    if hub not in hubs:
        at += timedelta(hours=3)
        continue
    scale = hubs[hub][1] / max(c["rows"][hub]["handled"], 1)
    others = [v for o, v in hubs.items() if o != hub]
    b = stats.robust_baseline(others, T, prior_rate=0.03, leave_out=True, by_information=True)
    rec = hub_days(rets)
    since = (at - timedelta(days=112)).date()
    k, n = pilferage.counted(rec, None, T)
    onsets = pilferage.onsets(since, at.date(), 7)
    suff = pilferage.counted_from_each(rec, onsets, None, T)
    hist = pilferage.histories_before(rec, onsets, 28)
    sc = lambda kn: (kn[0], max(round(kn[1] * scale), kn[0]))
    whole = stats.sequential_log_bf(*sc((k, n)), b.spread, SEQ)
    on = stats.onset_sequential_test([sc(x) for x in [(k, n), *suff]], pilferage.looks_per_window(56, 7), b.spread, SEQ,
                                     histories=[sc(x) for x in [(0, 0), *hist]])
    raw = (sum(x.incidents for x in rec.values()), sum(x.handled for x in rec.values()))
    if at.hour == 15 and at.day in (21, 24, 30):
        print(f"{at:%m-%d %H:%M} raw {raw} counted {(k, n)} peers {b.spread.rate:.4f} c{b.spread.concentration:.0f} "
              f"whole logBF {whole:.2f} onset logBF {on.log_bf if on else float('nan'):.2f}")
    at += timedelta(hours=3)
