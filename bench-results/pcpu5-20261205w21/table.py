"""The e2e CPU table per accepted request of each run here (e2e-<label>.json), one row a run."""

import json
import sys
from pathlib import Path

here = Path(__file__).parent
cols = ("intake", "reconciliation", "fraud", "notifications", "kafka", "postgres",
        "system_under_test", "load_generator")
print("| run | accepted req/s | " + " | ".join(cols) + " | busy / others' cores |")
print("|---" * (len(cols) + 3) + "|")
for label in sys.argv[1:]:
    d = json.loads((here / f"e2e-{label}.json").read_text())
    for s in d["steps"]:
        cpu, cores = s["cpu_ms_per_request"], s["cpu_cores_used"]
        print(f"| {label} (×{s['multiplier']}) | {s['accepted']['requests_per_s']} | "
              + " | ".join(f"{cpu.get(c, float('nan')):.2f}" for c in cols)
              + f" | {cores['machine_busy_cores']} / {cores['other_processes_cores']} |")
