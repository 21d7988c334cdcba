"""The step's hops of each run (bench.e2e_hops' JSON), p50 / p95 ms, as a markdown table.
usage: python hoptable.py LABEL..."""
import json, sys

here = "/work/wt-pkafka/bench-results/pkafka-20261205g"
labels = sys.argv[1:]
steps = {l: json.load(open(f"{here}/hops-{l}.json"))[-1] for l in labels}
print("| hop | " + " | ".join(labels) + " |")
print("|---|" + "---|" * len(labels))
ends = [f"{s['end_to_end']['p50_ms']:,.0f} / {s['end_to_end']['p95_ms']:,.0f} ({s['end_to_end']['count']})" for s in steps.values()]
print("| **end to end** | " + " | ".join(ends) + " |")
for hop in next(iter(steps.values()))["hops"]:
    cells = []
    for s in steps.values():
        h = s["hops"].get(hop)
        cells.append("–" if h is None else f"{h['p50_ms']:,.0f} / {h['p95_ms']:,.0f}")
    print(f"| {hop} | " + " | ".join(cells) + " |")
