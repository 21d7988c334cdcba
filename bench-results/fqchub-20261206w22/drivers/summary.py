"""Tabulate qc_hub_trace.py output: every QC hub alert (honest or planted hub), its agents at
the alert and the QC figures of each world.  python summary.py DIR..."""

import json
import sys
from pathlib import Path

for root in sys.argv[1:]:
    for d in sorted(Path(root).iterdir()):
        if not (d / "hubs.json").exists():
            continue
        h = json.loads((d / "hubs.json").read_text())
        t = json.loads((d / "table.json").read_text())
        q = t["qc_contradiction"]
        hon = t["_honest"]
        print(
            f"{root} {d.name}: QC event P/R {q['event_precision']}/{q['event_recall']} "
            f"({q['events_flagged']} flagged, {q['events_planted']} planted), entities "
            f"alerted {q['entities_alerted']}, recall {q['entity_recall']} of {q['entities_planted']}; "
            f"honest hubs ever {hon['hubs_ever_flagged']}/{hon['hubs']}, agents "
            f"{hon['agents_ever_flagged']}/{hon['agents']}; honest esc HIGH "
            f"{hon['escalations_high']}/{hon['escalations']} (all-honest "
            f"{hon['escalations_honest_parties_high']}/{hon['escalations_honest_parties']})"
        )
        print("  QC agent alerts:", [(a["agent"], a["planted"], a["event_time"][:10]) for a in h["agent_alerts"]])
        for a in h["hub_alerts"]:
            s = a["snapshot"]
            print(
                f"  hub {a['hub']} planted={a['hub_planted']} {a['status']} at {str(a['event_time'])[:16]} "
                f"{a['code']}: after explaining {s.get('hub_k_n_after_explaining')} e^{s.get('hub_log_bf')} "
                f"vs hubs {s.get('hub_peer')} (a+b {s.get('hub_concentration')}); agents' rate "
                f"{s.get('agents_peer')}; worst {s.get('worst')}, rest e^{s.get('rest_log_bf')}"
            )
            for ag, v in s.get("agents", {}).items():
                print(f"    {ag}: {v['k']}/{v['n']} at hub, explaining={v['explaining']}, e^{v['log_bf_at_hub']} vs agents, planted={v.get('planted')}")
