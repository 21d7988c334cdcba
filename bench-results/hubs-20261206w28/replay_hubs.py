"""Every hub of a world written from the specification scored as its journeys end (every 3 hours
of the world), without a database, as fbadday's replay_storm.py scores one hub (its record by
UTC day, the other hubs as fpilf9's fworld_spread.py counts them, the whole-window sequential
test and the onset test on a 7-day grid with 28-day histories, the worst day set aside as
scoring does): with the point weight (main) and with the weight's uncertainty carried into the
hub's honest population (`pilferage.with_exposure_uncertainty`, this branch). Prints each hub's
truth, its highest whole / onset log BF both ways, and the first time each reaches the alert.
    python replay_hubs.py SEED END_ISO"""
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
ALERT = math.log(200)
seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
w = build_world(seed, end=end)
ends = {}
for r in w.returns:
    scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in fs.MILESTONES]
    e = [s for s in scans if s.kind in fs.ENDS]
    if e:
        ends[r.return_id] = min(e, key=lambda s: s.at).at


def all_hub_days(rets):
    days = defaultdict(lambda: defaultdict(Counter))
    for r in rets:
        scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in fs.MILESTONES]
        e = min((s for s in scans if s.kind in fs.ENDS), key=lambda s: s.at)
        pw = next((s.weight_g for s in sorted(scans, key=lambda s: s.at) if s.kind in fs.PICKUPS and s.weight_g), None)
        inc = DECLARED if e.kind != "DELIVERED_TO_SELLER" else WEIGHT_DROP if weight_drop(pw, e.weight_g) else None
        seen = [Seen(s.at, s.hub, s.weight_g, END if s.kind in fs.ENDS else PICKUP if s.kind in fs.PICKUPS else SCAN) for s in scans]
        c = custody(r.return_id, seen, pickup_weight_g=pw, incident=inc)
        for hub in c.handled:
            days[hub][e.at.date()]["n"] += 1
            days[hub][e.at.date()]["k"] += bool(inc and c.incident_hub == hub)
    return {h: {d: pilferage.DayCount(v["n"], v["k"]) for d, v in sorted(dd.items())} for h, dd in days.items()}


planted = set(w.truth["pilferage"]["hub"])
start = end - timedelta(days=35)
best = defaultdict(lambda: [-99.0] * 4)  # whole point, onset point, whole carried, onset carried
first = defaultdict(lambda: [None] * 4)
at = start + timedelta(days=7)
while at <= end:
    rets = [r for r in w.returns if r.return_id in ends and ends[r.return_id] <= at]
    sub = SimpleNamespace(returns=rets, truth=w.truth)
    c = fs.counts_of(sub)
    hubs, _ = fs.hubs_as_scored(c)
    ex = pilferage.exposure_of({h: dict(r) for h, r in c["rows"].items()}, T)
    recs = all_hub_days(rets)
    for hub in hubs:
        scale = hubs[hub][1] / max(c["rows"][hub]["handled"], 1)
        others = [v for o, v in hubs.items() if o != hub]
        b = stats.robust_baseline(others, T, prior_rate=0.03, leave_out=True, by_information=True)
        rec = recs.get(hub, {})
        since = (at - timedelta(days=112)).date()
        k, n = pilferage.counted(rec, None, T)
        onsets = pilferage.onsets(since, at.date(), 7)
        suff = pilferage.counted_from_each(rec, onsets, None, T)
        hist = pilferage.histories_before(rec, onsets, 28)
        sc = lambda kn: (kn[0], max(round(kn[1] * scale), kn[0]))
        for j, spread in enumerate((b.spread, pilferage.with_exposure_uncertainty(b.spread, ex[hub].rel_var))):
            whole = stats.sequential_log_bf(*sc((k, n)), spread, SEQ)
            on = stats.onset_sequential_test([sc(x) for x in [(k, n), *suff]], pilferage.looks_per_window(56, 7), spread, SEQ,
                                             histories=[sc(x) for x in [(0, 0), *hist]])
            for i, v in ((2 * j, whole), (2 * j + 1, on.log_bf if on else -99.0)):
                if v > best[hub][i]:
                    best[hub][i] = v
                if v >= ALERT and first[hub][i] is None:
                    first[hub][i] = f"{at:%m-%d %H:%M}"
    at += timedelta(hours=3)
print(f"seed {seed}: hub, truth, max log BF whole / onset (point weight, main) -> (carried, this branch); first at the alert ({ALERT:.2f})")
for hub in sorted(best):
    b, f = best[hub], first[hub]
    print(f"{hub:26s} {'PLANTED' if hub in planted else 'honest':8s} main {b[0]:6.2f} / {b[1]:6.2f} {f[0] or '-':>11s} {f[1] or '-':>11s}"
          f"   carried {b[2]:6.2f} / {b[3]:6.2f} {f[2] or '-':>11s} {f[3] or '-':>11s}")
