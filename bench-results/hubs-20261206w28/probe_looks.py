"""The class over time, without a database: networks of N_ONLY one-hub hubs at one rate (3.75 %)
beside six two-hub hubs at the same rate, parcels arriving evenly over DAYS days (PER one-hub
parcels and 400 two-hub journeys per hub in all); every LOOK days each one-hub hub's sequential
log BF is read against its peers as `probe_four_hubs.py` reads it (counts so far, leave-one-out,
weighed by information), with the point weight (main) and with the weight's uncertainty carried
(`with_exposure_uncertainty`). Counted: honest one-hub hubs ever at the alert (ln 200), and a
one-hub hub pilfering at RATIO x ever at the alert, with the first day it is.
    python probe_looks.py [N_ONLY] [PER] [RATIO] [NETS] [DAYS] [LOOK]"""
import math
import random
import sys

from services.fraud.detectors import pilferage, stats

T = stats.Thresholds()
SEQ = stats.Sequential(alpha=0.005)
args = sys.argv[1:] + [None] * 6
N_ONLY = int(args[0] or 4)
PER = int(args[1] or 360)
RATIO = float(args[2] or 3.0)
NETS = int(args[3] or 200)
DAYS = int(args[4] or 56)
LOOK = int(args[5] or 2)
RATE = 0.0375
ALERT = math.log(200)


def journeys(rng, pilferer):
    """(day, hub, part, incident) of every journey; two-hub journeys also (day, origin, earlier)."""
    out = []
    for h in range(N_ONLY):
        r = RATE * (RATIO if f"O-{h}" == pilferer else 1)
        for _ in range(PER):
            out.append((rng.uniform(0, DAYS), f"O-{h}", None, rng.random() < r))
    for h in range(6):
        for _ in range(400):
            out.append((rng.uniform(0, DAYS), f"T-{h}", f"T-{(h + 1) % 6}", rng.random() < RATE))
    return out


def rows_until(js, day):
    rows = {}
    for d, hub, origin, lost in js:
        if d > day:
            continue
        r = rows.setdefault(hub, {})
        part = "only" if origin is None else "last"
        for key, v in (("handled", 1), (f"handled_{part}", 1), ("incidents", lost), (f"incidents_{part}", lost)):
            r[key] = r.get(key, 0) + v
        if origin is not None:
            o = rows.setdefault(origin, {})
            o["handled"] = o.get("handled", 0) + 1
            o["handled_earlier"] = o.get("handled_earlier", 0) + 1
    return rows


def bfs(rows, hub):
    ex = pilferage.exposure_of(rows, T)
    kept = [(r["incidents"], pilferage.weighed(r["handled"], r["incidents"], ex[h].scale), 1)
            for h, r in rows.items() if h != hub]
    spread = stats.sequential_peers(kept, T, prior_rate=0.03, leave_out=True, by_information=True)
    r = rows[hub]
    n = pilferage.weighed(r["handled"], r["incidents"], ex[hub].scale)
    return (stats.sequential_log_bf(r["incidents"], n, spread, SEQ),
            stats.sequential_log_bf(r["incidents"], n, pilferage.with_exposure_uncertainty(spread, ex[hub].rel_var), SEQ))


def run(pilferer, seed):
    rng = random.Random(seed)
    ever = [0, 0]
    first = [[], []]
    honest_hubs = 0
    for _ in range(NETS):
        js = journeys(rng, pilferer)
        hubs = [pilferer] if pilferer else [f"O-{h}" for h in range(N_ONLY)]
        honest_hubs += len(hubs)
        hit = {h: [None, None] for h in hubs}
        for day in range(LOOK, DAYS + 1, LOOK):
            rows = rows_until(js, day)
            for h in hubs:
                if h not in rows or hit[h][0] is not None and hit[h][1] is not None:
                    continue
                for i, b in enumerate(bfs(rows, h)):
                    if hit[h][i] is None and b >= ALERT:
                        hit[h][i] = day
        for h in hubs:
            for i in range(2):
                if hit[h][i] is not None:
                    ever[i] += 1
                    first[i].append(hit[h][i])
    return ever, first, honest_hubs


print(f"== {N_ONLY} one-hub hubs x {PER} at {RATE} and six two-hub hubs x 400 over {DAYS} days, looks every {LOOK} days, {NETS} networks")
ever, _, total = run(None, 5)
print(f"honest one-hub hubs ever at the alert: point (main) {ever[0]} of {total}, carried {ever[1]} of {total}")
ever, first, total = run("O-0", 9)
med = lambda xs: sorted(xs)[len(xs) // 2] if xs else None
print(f"one-hub pilferer at {RATIO}x ever at the alert: point (main) {ever[0]} of {total} (median day {med(first[0])}), "
      f"carried {ever[1]} of {total} (median day {med(first[1])})")
