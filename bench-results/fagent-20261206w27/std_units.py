"""Agents standardised against their hub-mates as fraud reads them (`pilferage.standardised`),
from a finished fraud-world database (SELECT only), whole window. Prints each agent's raw
record, its expected rate as averaged over the hubs its parcels passed, and its standardised
ratio; with the world's truth (regenerated from the seed)."""
import sys
from collections import defaultdict

import subprocess

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors import pilferage
from services.fraud.detectors.pilferage import DayCount
from services.fraud.scoring.base import ScoringConfig
from services.fraud.settings import FraudSettings

seed, port = int(sys.argv[1]), int(sys.argv[2])
t = ScoringConfig.from_settings(FraudSettings()).thresholds
SQL = (
    "select entity_type, entity_id, metric, sum(n) from feature_counts where entity_type in "
    "('agent','hub_agent') and metric in ('handled','incidents') group by 1,2,3"
)
out = subprocess.run(
    ["psql", f"postgresql://postgres:postgres@127.0.0.1:{port}/fworld_fraud", "-AtF", "\t", "-c", SQL],
    check=True, capture_output=True, text=True,
).stdout
rows_db = [line.split("\t") for line in out.splitlines() if line]
agents: dict[str, dict[str, int]] = defaultdict(lambda: {"handled": 0, "incidents": 0})
pairs: dict[str, dict[str, int]] = defaultdict(lambda: {"handled": 0, "incidents": 0})
for et, eid, m, v in rows_db:
    (agents if et == "agent" else pairs)[eid][m] = int(v)
counts = {a: DayCount(v["handled"], v["incidents"]) for a, v in agents.items()}
all_hubs: dict[str, dict[str, DayCount]] = defaultdict(dict)
for pair, v in pairs.items():
    h, _, a = pair.partition("|")
    all_hubs[h][a] = DayCount(v["handled"], v["incidents"])
std, ref = pilferage.standardised(counts, all_hubs, t)
after = pilferage._per_parcel
# main: the expectation averaged over the agent's passes through hubs
pilferage._per_parcel = lambda a, c, w, p, f: w[a] / p[a] if p.get(a) else f
std_main, _ = pilferage.standardised(counts, all_hubs, t)
pilferage._per_parcel = after
w = build_world(seed, scale=1.0)
truth = w.truth["pilferage"]["agent"]
town = w.lookalikes["agent"]
partner = {r.agent: r.partner for r in w.returns if r.agent}
passes = defaultdict(int)
for h, ags in all_hubs.items():
    for a, c in ags.items():
        passes[a] += c.handled
print(f"seed {seed}: ref {ref:.4f}")
print("agent            partner    raw k/n       raw    passes/parcel  main: std k/n' std/ref   after: std k/n' std/ref")
rows = []
for a, c in counts.items():
    k, n2 = std[a]
    rows.append((partner.get(a, "?"), a, c, k, n2, std_main[a][1]))
for p, a, c, k, n2, m2 in sorted(rows):
    tag = "PLANTED" if a in truth else town.get(a, "")
    print(f"{a:16} {p:10} {c.incidents:3}/{c.handled:4} {c.incidents / max(c.handled, 1):.3f}  "
          f"{passes[a] / max(c.handled, 1):.2f}   {k:3}/{m2:4} {k / max(m2, 1) / ref:5.2f}"
          f"        {k:3}/{n2:4} {k / max(n2, 1) / ref:5.2f}  {tag}")
by_p = defaultdict(lambda: [0, 0, 0, 0])
for p, a, c, k, n2, m2 in rows:
    by_p[p][0] += k
    by_p[p][1] += n2
    by_p[p][2] += c.handled
    by_p[p][3] += m2
for p, (k, n2, n, m2) in by_p.items():
    print(f"partner {p}: standardised main {k}/{m2} = {k / m2 / ref:.2f} x ref, after {k}/{n2} = "
          f"{k / n2 / ref:.2f} x ref; raw {k / n:.4f}")
