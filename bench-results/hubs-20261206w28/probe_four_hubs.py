"""The class without a database: networks of N_ONLY one-hub hubs at one rate (3.75 %, PER
parcels each) beside six two-hub hubs (400 journeys each at the same rate), as fexpo's
probe_four_hubs.py built them. For each network: the hottest honest one-hub hub's sequential
log BF against its peers (leave-one-out, weighed by information, as `log_bf` of
tests/unit/test_fraud_pilferage_exposure.py), read with the point weight (main) and with the
weight's uncertainty carried into its honest population (`with_exposure_uncertainty`); then
networks with one of the one-hub hubs pilfering at RATIO x, and a two-hub hub pilfering at
RATIO x on the parcels it receives.
    python probe_four_hubs.py [N_ONLY] [PER] [RATIO] [NETS]"""
import math
import random
import sys
from collections import Counter

from services.fraud.detectors import pilferage, stats

T = stats.Thresholds()
SEQ = stats.Sequential(alpha=0.005)
N_ONLY = int(sys.argv[1]) if len(sys.argv) > 1 else 4
PER = int(sys.argv[2]) if len(sys.argv) > 2 else 360
RATIO = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
NETS = int(sys.argv[4]) if len(sys.argv) > 4 else 300
RATE = 0.0375
ALERT = math.log(200)


def net(rng, only_pilferer=None, two_pilferer=None):
    rows = {}
    for h in range(N_ONLY):
        r = RATE * (RATIO if f"O-{h}" == only_pilferer else 1)
        k = sum(rng.random() < r for _ in range(PER))
        rows[f"O-{h}"] = {"handled": PER, "incidents": k, "handled_only": PER, "incidents_only": k}
    for h in range(6):
        o = rows.setdefault(f"T-{(h + 1) % 6}", Counter())
        d = rows.setdefault(f"T-{h}", Counter())
        r = RATE * (RATIO if f"T-{h}" == two_pilferer else 1)
        for _ in range(400):
            lost = rng.random() < r
            o.update({"handled": 1, "handled_earlier": 1})
            d.update({"handled": 1, "handled_last": 1, "incidents": lost, "incidents_last": lost})
    return {h: dict(r) for h, r in rows.items()}


def log_bfs(rows, hub):
    ex = pilferage.exposure_of(rows, T)
    kept = [
        (r["incidents"], pilferage.weighed(r["handled"], r["incidents"], ex[h].scale), 1)
        for h, r in rows.items()
        if h != hub
    ]
    spread = stats.sequential_peers(kept, T, prior_rate=0.03, leave_out=True, by_information=True)
    r = rows[hub]
    n = pilferage.weighed(r["handled"], r["incidents"], ex[hub].scale)
    point = stats.sequential_log_bf(r["incidents"], n, spread, SEQ)
    carried = stats.sequential_log_bf(
        r["incidents"], n, pilferage.with_exposure_uncertainty(spread, ex[hub].rel_var), SEQ
    )
    return point, carried, ex[hub].rel_var


def summary(label, xs):
    xs = sorted(xs)
    return (f"{label}: mean {sum(xs) / len(xs):.2f}, q90 {xs[int(0.9 * len(xs))]:.2f}, "
            f"max {xs[-1]:.2f}, >= 3: {sum(x >= 3 for x in xs)}, alerted (>= ln 200): {sum(x >= ALERT for x in xs)} of {len(xs)}")


print(f"== {N_ONLY} one-hub hubs x {PER} parcels at {RATE}, six two-hub hubs x 400; pilferers at {RATIO}x; {NETS} networks")
rng = random.Random(5)
pts, car, vs = [], [], []
for _ in range(NETS):
    rows = net(rng)
    o = [h for h in rows if h.startswith("O")]
    top = max(o, key=lambda h: rows[h]["incidents"])
    p, c, v = log_bfs(rows, top)
    pts.append(p); car.append(c); vs.append(v)
print(summary("hottest honest one-hub hub, point weight (main)", pts))
print(summary("hottest honest one-hub hub, weight's uncertainty carried", car))
print(f"  its rel_var: mean {sum(vs) / len(vs):.3f}, max {max(vs):.3f}")
rng = random.Random(9)
pts, car, vs = [], [], []
for _ in range(NETS // 2):
    rows = net(rng, only_pilferer="O-0")
    p, c, v = log_bfs(rows, "O-0")
    pts.append(p); car.append(c); vs.append(v)
print(summary(f"one-hub pilferer at {RATIO}x, point weight (main)", pts))
print(summary(f"one-hub pilferer at {RATIO}x, carried", car))
print(f"  its rel_var: mean {sum(vs) / len(vs):.3f}, max {max(vs):.3f}")
rng = random.Random(13)
pts, car, vs = [], [], []
for _ in range(NETS // 2):
    rows = net(rng, two_pilferer="T-2")
    p, c, v = log_bfs(rows, "T-2")
    pts.append(p); car.append(c); vs.append(v)
print(summary(f"two-hub (last) pilferer at {RATIO}x, point weight (main)", pts))
print(summary(f"two-hub (last) pilferer at {RATIO}x, carried", car))
print(f"  its rel_var: mean {sum(vs) / len(vs):.3f}, max {max(vs):.3f}")
