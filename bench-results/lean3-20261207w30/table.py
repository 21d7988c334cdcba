"""The e2e A/B runs side by side (runs.log order): accepted req/s and CPU ms per accepted request
by the e2e's own table, the escalation → decision email p50/p95, others' cores."""
import json, sys
from pathlib import Path
here = Path(__file__).parent
mult = sys.argv[1] if len(sys.argv) > 1 else "0.5"
rows = []
for line in (here / "runs.log").read_text().splitlines():
    if not line.startswith("["):
        continue
    tag, load = line.split()[1], line.split()[3]
    f = here / f"e2e-{tag}.json"
    if not f.exists() or not tag.endswith("x" + mult):
        continue
    s = json.loads(f.read_text())["steps"][0]
    c = s["cpu_ms_per_request"]; u = s["cpu_cores_used"]; e = s["escalation_to_decision_email"]
    rows.append([tag, load, s["accepted"]["requests_per_s"], s["offered"]["requests_per_s"]] + [c[k] for k in ("intake", "reconciliation", "fraud", "notifications", "kafka", "postgres", "system_under_test")] + [u["other_processes_cores"], f"{e['p50_ms']/1000:.2f} / {e['p95_ms']/1000:.2f} s", e["count"], e["missing"]])
print("| run | load at start | accepted req/s | offered | intake | reconciliation | fraud | notifications | kafka | postgres | pipeline | others' cores | escalation → email p50 / p95 | done | missing |")
print("|" + "---|" * 15)
for r in rows:
    print("| " + " | ".join(str(x) for x in r) + " |")
