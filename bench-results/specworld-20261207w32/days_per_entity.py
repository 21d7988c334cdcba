"""Per planted entity: its first planted event (world time), its first HIGH (risk history or
alert, placed in world time by the return its subject event belongs to: a claim at the claim's
world time, a scan at its own time), and the days between; from a run's settled fraud database.
    python days_per_entity.py SEED END_ISO DATABASE"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, db = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
w = build_world(seed, end=end)
claim_at = {r.return_id: c.filed_at for r, c in w.claims}


def q(sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", "25432", "-U", "postgres", "-d", db, "-At", "-F", "|", "-c", sql],
        capture_output=True, text=True, check=True, env={"PGPASSWORD": "postgres"},
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


def world_time(subject: str) -> datetime | None:
    rows = q(
        "select return_id, coalesce(escalation_id,''), event_time from assessments "
        f"where subject_event_id = '{subject}' order by revision limit 1"
    )
    if not rows:
        return None
    rid, esc, at = rows[0]
    if esc and rid in claim_at:
        return claim_at[rid]
    return datetime.fromisoformat(at) if at else None


for p in ("claim_abuse", "wrong_used", "qc_contradiction", "pilferage", "evidence_reuse", "collusion"):
    for etype, ids in w.truth[p].items():
        for eid in sorted(ids):
            first = w.first_planted.get((etype, eid))
            times = []
            for (subject,) in q(
                "select subject_event_id from entity_risk_history where entity_type = "
                f"'{etype}' and entity_id = '{eid}' and band = 'HIGH' and subject_event_id is not null"
            ):
                t = world_time(subject)
                if t:
                    times.append(t)
            for (subject,) in q(
                f"select subject_event_id from alerts where entity_type = '{etype}' and entity_id = "
                f"'{eid}' and severity = 'HIGH' and subject_event_id is not null"
            ):
                t = world_time(subject)
                if t:
                    times.append(t)
            when = min(times) if times else None
            days = (
                f"{max(0.0, (when - first).total_seconds() / 86400):.1f}"
                if when and first
                else "—"
            )
            print(f"{seed} {p} {etype} {eid}: first planted {first:%m-%d %H:%M} first HIGH "
                  f"{when:%m-%d %H:%M} days {days}" if when else
                  f"{seed} {p} {etype} {eid}: first planted {first and f'{first:%m-%d %H:%M}'} never HIGH")
