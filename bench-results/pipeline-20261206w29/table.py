"""The A/B runs side by side: CPU per accepted request by the e2e's own table, and each service
database's committed transactions in the run (xacts.log: the last count before the next run's
databases were made anew)."""

import json
import re
import sys
from pathlib import Path

here = Path(__file__).parent
runs = [line.split()[1] for line in (here / "runs.log").read_text().splitlines() if line.startswith("[")]
starts = [line[1:9] for line in (here / "runs.log").read_text().splitlines() if line.startswith("[")]
samples = []
for line in (here / "xacts.log").read_text().splitlines():
    t, _, rest = line.partition(" ")
    counts = dict(kv.split("=") for kv in rest.split())
    samples.append((t, {k.removeprefix("bench_e2e_"): int(v) for k, v in counts.items()}))


# Each run's databases live from their creation (the intake count starts again from 0) to the
# next run's: split the samples there; a run's counts are the last of the segment it created.
segments: list[tuple[str, dict[str, int]]] = []
previous = None
for t, c in samples:
    if not c.get("intake"):
        continue
    if previous is None or c["intake"] < previous["intake"]:
        segments.append((t, c))
    else:
        segments[-1] = (segments[-1][0], c)
    previous = c


def xacts(i: int) -> dict[str, int] | None:
    """The counts of the databases made during run i (created after its start, before the next)."""
    lo = starts[i]
    hi = starts[i + 1] if i + 1 < len(starts) else "99:99:99"
    found = [c for t, c in segments if lo <= t < hi]
    return found[-1] if found else None


cols = ["intake", "reconciliation", "fraud", "notifications", "kafka", "postgres", "system_under_test"]
print("| run | load at start | accepted req/s | " + " | ".join(cols) + " | others' cores | commits per request: intake / reconciliation / fraud / notifications | e2e p50 / p95 |")
print("|" + "---|" * (len(cols) + 5))
for i, tag in enumerate(runs):
    path = here / f"e2e-{tag}.json"
    if not path.exists():
        continue
    d = json.loads(path.read_text())
    s = d["steps"][0]
    cpu = s["cpu_ms_per_request"]
    acc = s["accepted"]
    n = acc["returns"] + acc["scans"] + acc["escalations"]
    x = xacts(i) or {}
    per = " / ".join(f"{x.get(k, 0) / n:.2f}" for k in ("intake", "reconciliation", "fraud", "notifications"))
    load = re.search(r"load ([\d.]+)", [l for l in (here / "runs.log").read_text().splitlines() if tag in l][0]).group(1)
    lat = s["escalation_to_decision_email"]
    print(
        f"| {tag} | {load} | {acc['requests_per_s']} | "
        + " | ".join(f"{cpu[c]:.2f}" for c in cols)
        + f" | {s['cpu_cores_used']['other_processes_cores']:.2f} | {per} | {lat['p50_ms']/1000:.2f} / {lat['p95_ms']/1000:.2f} s |"
    )
