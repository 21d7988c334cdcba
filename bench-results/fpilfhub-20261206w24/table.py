"""The per-hub table of honest hubs alerted for pilferage, and the before/after summary, from
`hubdiag.py`'s JSON lines: python table.py BEFORE.jsonl[,..] AFTER.jsonl[,..]"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

# The class each honest hub alert was read into (see README.md).
CLASSES = {
    "H-s5002-10": "1 (part read from one partner hub with no incident yet, day 7)",
    "H-s5002-12": "1 (the same, day 11)",
    "H-s5002-11": "3 (population read from careful hubs; lot from careless partners)",
    "H-s5003-03": "2 (others' median jumps: careful hubs weighed 2.2x)",
    "H-s5003-07": "2 (the same)",
    "H-s5003-04": "2 (the same) on a lucky-high record",
    "H-s5003-11": "1 (a 3-hub partner's part read from its careful hubs, scale 0.33)",
    "H-s5004-01": "4 (its planted agent, at a careless hub, does not explain it)",
}


def load(paths: str) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    worlds: dict[int, dict[str, Any]] = {}
    alerts: list[dict[str, Any]] = []
    for path in paths.split(","):
        for line in open(path):
            r = json.loads(line)
            if r["kind"] == "world":
                worlds[r["seed"]] = r
            else:
                alerts.append(r)
    return worlds, alerts


def summary(worlds: dict[int, dict[str, Any]], alerts: list[dict[str, Any]]) -> dict[str, Any]:
    planted = {(s, tuple(e)) for s, w in worlds.items() for e in w["planted"]}
    first: dict[tuple[int, str, str], str] = {}
    for a in alerts:
        key = (a["seed"], a["etype"], a["eid"])
        first.setdefault(key, a["at"][:16])
    found = {(s, (t, e)) for s, t, e in first} & planted
    honest = defaultdict(list)
    for s, t, e in first:
        if (s, (t, e)) not in planted:
            honest[t].append(f"{e} ({first[(s, t, e)][5:10]})")
    return {
        "planted hubs found": f"{sum(1 for _, (t, _) in found if t == 'hub')}/"
        f"{sum(1 for _, (t, _) in planted if t == 'hub')}",
        "planted agents found": f"{sum(1 for _, (t, _) in found if t == 'agent')}/"
        f"{sum(1 for _, (t, _) in planted if t == 'agent')}",
        "found on": {f"{e}": first[(s, t, e)][5:16] for s, (t, e) in sorted(found)},
        "honest hubs ever alerted": f"{len(honest['hub'])}/"
        f"{sum(w['honest_hubs'] for w in worlds.values())}: {', '.join(sorted(honest['hub']))}",
        "honest agents ever alerted": f"{len(honest['agent'])}/"
        f"{sum(w['honest_agents'] for w in worlds.values())}: "
        f"{', '.join(sorted(honest['agent']))}",
    }


def main() -> None:
    before_w, before = load(sys.argv[1])
    after_w, after = load(sys.argv[2]) if len(sys.argv) > 2 else ({}, [])
    after_hubs = {(a["seed"], a["eid"]) for a in after if a["etype"] == "hub"}
    print(
        "| world | hub | partner, honest factor | alerted (day) | test: record vs peers as read "
        "| window record by cause (generator's truth) | planted agents at the hub | cleared | class "
        "| after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for a in before:
        if not (a["honest"] and a["etype"] == "hub"):
            continue
        n = a["numbers"]
        rec = a["record"]
        seen = a["seed"] in after_w
        print(
            f"| {a['seed']} | {a['eid']} | {a['partner']}, {a['factor']} | {a['at'][5:16]} "
            f"({a['day']}) | {a['code'].replace('HUB_PILFERAGE_', '')}: {n.get('count')}/"
            f"{n.get('trials')} vs {n.get('peer_rate')}, a+b {n.get('peer_concentration')}: "
            f"log BF {n.get('log_bayes_factor')} | {rec['incidents']}/{rec['handled']} "
            f"{rec['by_cause']} | {', '.join(a['planted_agents']) or '-'} | "
            f"{'yes' if a['status'] == 'closed' else 'no'} | {CLASSES.get(a['eid'], '?')} | "
            + (
                ("still alerted" if (a["seed"], a["eid"]) in after_hubs else "not alerted")
                if seen
                else "not replayed"
            )
            + " |"
        )
    print()
    print("Honest agents alerted (before):")
    for a in before:
        if a["honest"] and a["etype"] == "agent":
            print(f"- {a['seed']} {a['eid']} day {a['day']}: {a['record']['by_cause']}")
    print()
    seeds = sorted(after_w)
    print("Before, worlds", seeds, json.dumps(summary({s: before_w[s] for s in seeds},
          [a for a in before if a["seed"] in seeds]), indent=1))
    if after_w:
        print("After, worlds", seeds, json.dumps(summary(after_w, after), indent=1))


if __name__ == "__main__":
    main()
