"""QC agents of the 4242 stack at its end, counted as fraud counts them (each buyer once, buyers
named away from the agent out), and the honest population fraud's own `robust_baseline` reads
for a planted agent: with every other agent, and without the other planted QC agent.
SELECT only, on the lead's stack (postgresql at 127.0.0.1:24432, fworld_fraud)."""

import subprocess
import sys
from collections import defaultdict

from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    Thresholds,
    robust_baseline,
    sequential_test,
)

DB = "postgresql://postgres:postgres@127.0.0.1:24432/fworld_fraud"


def q(sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", DB, "-At", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


counts = defaultdict(lambda: {"k": 0, "n": 0})
for eid, metric, n in q(
    "select entity_id, metric, sum(n) from feature_counts where entity_type='agent' "
    "and metric in ('qc_passed','qc_contradictions') group by 1,2"
):
    counts[eid]["k" if metric == "qc_contradictions" else "n"] = int(n)
wanted = {
    r[0]
    for r in q("select entity_id from alerts where entity_type='buyer' and pattern like 'WRONG%'")
}
everywhere = {
    b: int(n)
    for b, n in q(
        "select right_id, sum(n) from pair_counts where kind='seller_buyer' "
        "and metric='named' group by 1"
    )
}
named_here = {
    (a, b): int(n)
    for a, b, n in q(
        "select left_id, right_id, n from pair_counts where "
        "kind='qc_agent_buyer' and metric='named'"
    )
}
drop = defaultdict(int)
for a, b, n in q(
    "select left_id, right_id, n from pair_counts where kind='qc_agent_buyer' and metric='contradicted'"
):
    drop[a] += int(n) - 1
    if everywhere.get(b, 0) > named_here.get((a, b), 0) or b in wanted:
        drop[a] += 1
agents = {}
for a, c in counts.items():
    if c["n"] == 0:
        continue
    d = min(drop[a], c["k"])
    agents[a] = (c["k"] - d, max(c["n"] - d, 0))
t = Thresholds()
s = Sequential(alpha=1 / 200, alpha_medium=1 / 20)
planted = set(sys.argv[1:])
for a in sorted(agents, key=lambda a: -agents[a][0] / max(agents[a][1], 1)):
    print(f"{a:18s} {agents[a][0]:3d}/{agents[a][1]:4d} {'PLANTED' if a in planted else ''}")
for who in sorted(planted):
    for label, left in (
        ("all other agents", set()),
        ("without the other planted", planted - {who}),
    ):
        peers = [v for a, v in agents.items() if a != who and a not in left]
        b = robust_baseline(peers, t, prior_rate=0.03, leave_out=True, alike_level=0.75)
        sp = b.spread or PeerSpread(b.k / b.n, 1000.0)
        k, n = agents[who]
        test = sequential_test(k, n, sp, s)
        print(
            f"{who} vs {label}: kept {b.k}/{b.n}, spread rate {sp.rate:.4f} a+b {sp.concentration:.0f}; "
            f"{k}/{n} log BF {test.log_bf:.2f} (alert at {5.298:.2f})"
        )
