"""Per planted pilferer (hub, agent) and the two honest hubs/agents most like it: what the world
did to the parcels it held (harmed in held, by kind) against what fraud's settled database made
of each: whether the journey's end reached fraud, whether fraud saw the incident (weights known,
declared), to whom custody gave it (the hub drawn, the agent named), the entity's window counters,
and its highest risk ever (score, the reason's numbers).
    python trace_pilferers.py SEED END_ISO DATABASE [PGPORT]"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, db = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
port = sys.argv[4] if len(sys.argv) > 4 else "23432"
w = build_world(seed, end=end)


def q(sql: str) -> list[list[str]]:
    out = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-d",
            db,
            "-At",
            "-F",
            "|",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": "postgres"},
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


def world_kind(r) -> str | None:
    kinds = {s.kind for s in r.scans}
    if "LOST" in kinds:
        return "lost"
    if "DAMAGED_IN_TRANSIT" in kinds:
        return "damaged"
    p = [s.weight_g for s in r.scans if s.kind == "PICKED_UP" and s.weight_g]
    d = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER" and s.weight_g]
    if p and d and d[0] < p[0] - max(50, p[0] // 10):
        return "drop"
    return None


ended = [r for r in w.returns if any(s.kind in ("DELIVERED_TO_SELLER", "LOST") for s in r.scans)]
facts = {
    row[0]: row
    for row in q(
        "select return_id, coalesce(terminal,''), incident, coalesce(pickup_agent_id,''), "
        "coalesce(pickup_weight_g::text,''), coalesce(delivered_weight_g::text,''), "
        "coalesce(custody::text,'null'), coalesce(hubs::text,'[]') from return_facts"
    )
}


def incident_hub(rid: str) -> str:
    from services.fraud.features.custody import Seen, custody
    from services.fraud.features.service import DECLARED, WEIGHT_DROP

    f = facts.get(rid)
    if not f or f[6] == "null" or f[2] != "t":
        return ""
    rows = json.loads(f[6])
    kind = DECLARED if f[1] != "DELIVERED_TO_SELLER" else WEIGHT_DROP
    c = custody(
        rid, [Seen.of(x) for x in rows], pickup_weight_g=int(f[4]) if f[4] else None, incident=kind
    )
    return f"{c.incident_hub} of {'/'.join(c.candidates)}"


fe = w.fraud_entities()


def best_of(etype: str, e: str) -> None:
    """The entity's strongest finding ever of each reason code (its contribution, numbers)."""
    best: dict[str, dict] = {}
    for (reasons,) in q(
        "select reasons::text from entity_risk_history where entity_type = "
        f"'{etype}' and entity_id = '{e}'"
    ):
        for x in json.loads(reasons):
            c = x.get("code", "")
            if c not in best or x.get("contribution", 0) > best[c].get("contribution", 0):
                best[c] = x
    for c, x in sorted(best.items(), key=lambda kv: -kv[1].get("contribution", 0))[:4]:
        print(
            f"    best {c} {x.get('contribution')}: {x.get('detail', '')[:240]} | {json.dumps(x.get('numbers', {}))[:400]}"
        )


for etype in ("hub", "agent"):
    for e in sorted(w.truth["pilferage"][etype]):
        held = [r for r in ended if (r.dest_hub if etype == "hub" else r.agent) == e]
        harmed = [r for r in held if world_kind(r)]
        kinds = Counter(world_kind(r) for r in harmed)
        partner = Counter(r.partner for r in held)
        seen = Counter()
        given = Counter()
        for r in harmed:
            f = facts.get(r.return_id)
            if not f or not f[1]:
                seen["end not in fraud"] += 1
                continue
            if f[2] != "t":
                seen[f"no incident (pickup {f[4] or '-'} g, delivered {f[5] or '-'} g)"] += 1
                continue
            seen["incident"] += 1
            if etype == "hub":
                ih = incident_hub(r.return_id)
                given["to it" if ih.startswith(e + " ") else f"to {ih.split(' of ')[0]}"] += 1
            else:
                given["named" if f[3] == e else f"agent {f[3] or 'none'}"] += 1
        sent = [r for r in ended if etype == "hub" and r.origin_hub == e and r.dest_hub != e]
        print(
            f"{seed} {etype} {e}: world {len(harmed)} harmed in {len(held)} held {dict(kinds)}; "
            f"partners {dict(partner)}; sent elsewhere {len(sent)}"
        )
        print(f"    fraud saw: {dict(seen)}; attributed: {dict(given)}")
        cnt = q(
            "select metric, sum(n) from feature_counts where entity_type = "
            f"'{etype}' and entity_id = '{e}' and (metric like 'handled%' or metric like 'incidents%') "
            "group by metric order by metric"
        )
        print(f"    counters (whole run): {', '.join(f'{m} {n}' for m, n in cnt)}")
        best_of(etype, e)
        al = q(
            f"select severity, status, raised_at from alerts where entity_type = '{etype}' and entity_id = '{e}'"
        )
        print(f"    alerts: {al}")
for a in sorted(w.truth["qc_contradiction"]["agent"]):
    print(f"{seed} qc agent {a}")
    best_of("agent", a)
    al = q(
        f"select severity, status, raised_at from alerts where entity_type = 'agent' and entity_id = '{a}'"
    )
    print(f"    alerts: {al}")
