"""The agent-buyer ring's returns in world time with each claim's first and last band and its
collusion codes, from a run's settled fraud database.
    python ring_agent.py SEED END_ISO DATABASE"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, db = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
w = build_world(seed, end=end)
agent = next(iter(w.truth["collusion"]["agent"]))
buyer = next(b for b in w.truth["collusion"]["buyer"] if any(r.buyer == b and r.agent == agent for r in w.returns))


def q(sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", "25432", "-U", "postgres", "-d", db, "-At", "-F", "|", "-c", sql],
        capture_output=True, text=True, check=True, env={"PGPASSWORD": "postgres"},
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


print(f"{seed} ring agent {agent} buyer {buyer}; agent's returns {sum(r.agent == agent for r in w.returns)}")
for r in sorted(w.returns, key=lambda r: r.claim.filed_at if r.claim else r.initiated_at):
    if r.buyer != buyer:
        continue
    c = r.claim
    rows = q(
        "select band, revision, (select string_agg(x->>'code' || '=' || coalesce(x->>'contribution', x->>'score', ''), ' ') "
        "from jsonb_array_elements(reasons) x where x->>'code' like 'COLLUSION%' or x->>'code' like 'AGENT%') "
        f"from assessments where return_id = '{r.return_id}' and escalation_id is not null order by assessed_at, revision"
    )
    first = rows[0] if rows else None
    last = rows[-1] if rows else None
    print(f"  {r.return_id} agent {r.agent} claim {c and c.claim_type} {c and f'{c.filed_at:%m-%d %H:%M}'} {c and sorted(c.patterns)} "
          f"first {first} last {last}")
