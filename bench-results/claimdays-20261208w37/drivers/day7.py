"""What the goal's 7 days would ask of each planted claim abuser's record, from trace_abusers.py's
traces: at the last scoring of the abuser within 7 days of its first planted claim, the claims
and deliveries its test read (k, n), the honest rate and spread read, the log factor of the
counts and of the signs then, and the log factor each claim would have to add on top of the
counts to reach the alert's log 100 (4.61) that day; beside it, the counts' expected log factor
per delivery at the abuser's shown ratio (the information in a delivery) and the deliveries a
test knowing that ratio needs to reach log 100.
    python day7.py TRACE..."""

import gzip
import json
import math
import statistics
import sys
from datetime import datetime

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=0.01)
rows = []
for path in sys.argv[1:]:
    d = json.load(gzip.open(path, "rt") if path.endswith(".gz") else open(path))
    w = d["world"]
    ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
    for s in w["abusers"]:
        if s not in w["first_event"] or s not in ents:
            continue
        first = datetime.fromisoformat(w["first_event"][s])
        last = None
        for r in d["records"]:
            if r["seller"] != s or "seq" not in r:
                continue
            dd = (datetime.fromisoformat(r["at"]) - first).total_seconds() / 86400
            if dd <= 7:
                last = r
        e = ents[s]
        x = e["intensity"] or 0
        if last is None:
            continue
        q = last["seq"]
        counts = sequential_test(int(q["k"]), int(q["n"]), PeerSpread(q["rate"], q["conc"]), S).log_bf
        need = (math.log(100) - counts) / max(q["k"], 1)
        p0 = q["rate"]
        p1 = min(x * p0, 0.99)
        per = p1 * math.log(p1 / p0) + (1 - p1) * math.log((1 - p1) / (1 - p0)) if x > 1 else 0.0
        rows.append((d["seed"], s, x, e["events"], x >= 2.5 and e["events"] >= 15, q["k"], q["n"], p0, q["conc"], counts, q["signs"], need, per, math.log(100) / per if per > 0 else None))
print("| seed | seller | shown | events | goal | k at day 7 | n | honest rate | spread | counts log BF | signs | needed per claim | nats a delivery | deliveries to 100 |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(
        ("yes" if v else "") if isinstance(v, bool) else (f"{v:.2f}" if isinstance(v, float) else str(v))
        for v in r) + " |")
g = [r for r in rows if r[4]]
for name, sel in (("goal", g), ("all", rows)):
    print(f"\n{name}: {len(sel)}; median k at day 7 {statistics.median(r[5] for r in sel)}, n {statistics.median(r[6] for r in sel)}, "
          f"counts log BF {statistics.median(r[9] for r in sel):.2f}, signs {statistics.median(r[10] for r in sel):.2f}, "
          f"needed per claim {statistics.median(r[11] for r in sel):.2f} (likelihood ratio {math.exp(statistics.median(r[11] for r in sel)):.1f}), "
          f"deliveries to 100 {statistics.median(r[13] for r in sel if r[13]):.0f}")
