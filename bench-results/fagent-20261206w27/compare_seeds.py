"""Per seed, every figure of two fraud-eval reports over the seeds both ran, and every planted
entity's days to its alert. python compare_seeds.py BEFORE.json AFTER.json"""
import json
import sys


def flat(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from flat(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from flat(v, f"{prefix}{i}.")
    else:
        yield prefix[:-1], obj


a, b = (json.load(open(p)) for p in sys.argv[1:3])
seeds = [s for s in b["seeds"] if s in a["seeds"]]
same = differ = 0
for s in seeds:
    fa = dict(flat(a["per_seed"][a["seeds"].index(s)]))
    fb = dict(flat(b["per_seed"][b["seeds"].index(s)]))
    for k in sorted(set(fa) | set(fb)):
        if fa.get(k) == fb.get(k):
            same += 1
        else:
            differ += 1
            print(f"seed {s} {k}: {fa.get(k)} -> {fb.get(k)}")
ea = {(e["seed"], e["pattern"], e["entity"]): e for e in a["entities"] if e["seed"] in seeds}
eb = {(e["seed"], e["pattern"], e["entity"]): e for e in b["entities"] if e["seed"] in seeds}
moved = 0
for k in sorted(set(ea) | set(eb)):
    x, y = ea.get(k, {}), eb.get(k, {})
    if (x.get("detected"), x.get("days_to_alert")) != (y.get("detected"), y.get("days_to_alert")):
        moved += 1
        print(f"{k}: {x.get('detected')} {x.get('days_to_alert')} -> {y.get('detected')} "
              f"{y.get('days_to_alert')}")
pilf = [k for k in eb if k[1] == "pilferage"]
print(f"seeds {seeds}: per-seed figures same {same}, differ {differ}; planted entities "
      f"{len(eb)} ({len(pilf)} pilferage), moved {moved}")
