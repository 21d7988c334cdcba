"""The replays' figures side by side: main's scoring and this change's on the same worlds.

    python summary.py base.jsonl after.jsonl
"""

from __future__ import annotations

import json
import statistics
import sys


def load(paths: list[str]) -> dict[int, dict]:
    out = {}
    for path in paths:
        for line in open(path):
            d = json.loads(line)
            out[d["seed"]] = d
    return out


def figures(runs: dict[int, dict], seeds: list[int]) -> dict:
    goal = found = 0
    days: list[float] = []
    alerted = tp = 0
    honest_hubs = honest_agents = hubs_ever = agents_ever = areas = hubs_open = agents_open = 0
    per_entity = {}
    for seed in seeds:
        d = runs[seed]
        planted = {tuple(p) for p in d["planted"]}
        al = {tuple(a) for a in d["alerted"]}
        still = {tuple(a) for a in d["open_at_end"]}
        alerted += len(al)
        tp += len(al & planted)
        honest_hubs += d["honest_hubs"]
        honest_agents += d["honest_agents"]
        hubs_ever += sum(1 for t, e in al - planted if t == "hub" and not e.startswith("PA-"))
        areas += sum(1 for t, e in al - planted if t == "hub" and e.startswith("PA-"))
        agents_ever += sum(1 for t, e in al - planted if t == "agent")
        hubs_open += sum(1 for t, e in still - planted if t == "hub")
        agents_open += sum(1 for t, e in still - planted if t == "agent")
        for e in d["entities"]:
            per_entity[e["entity"]] = e
            if e["intensity"] is not None and e["intensity"] >= 2.5 and e["events"] >= 15:
                goal += 1
                if e["detected"]:
                    found += 1
                    days.append(e["days_to_alert"])
    return {
        "goal": f"{found}/{goal}",
        "median_days": round(statistics.median(days), 1) if days else None,
        "precision": f"{tp}/{alerted}",
        "honest_hubs_ever": f"{hubs_ever}/{honest_hubs}",
        "honest_hubs_open": hubs_open,
        "pickup_areas_alerted": areas,
        "honest_agents_ever": f"{agents_ever}/{honest_agents}",
        "honest_agents_open": agents_open,
        "entities": per_entity,
        "false": sorted(
            "/".join(a)
            for s in seeds
            for a in {tuple(x) for x in runs[s]["alerted"]}
            - {tuple(p) for p in runs[s]["planted"]}
        ),
    }


def main() -> None:
    base, after = load(sys.argv[1].split(",")), load(sys.argv[2].split(","))
    seeds = sorted(base.keys() & after.keys())
    b, a = figures(base, seeds), figures(after, seeds)
    print("seeds", seeds)
    for k in ("goal", "median_days", "precision", "honest_hubs_ever", "honest_hubs_open",
              "pickup_areas_alerted", "honest_agents_ever", "honest_agents_open", "false"):
        print(f"{k}: {b[k]} -> {a[k]}")
    for name, e in sorted(b["entities"].items()):
        f = a["entities"][name]
        print(
            f"  {name} {e['intensity']}x {e['events']} ev: "
            f"{e['days_to_alert'] if e['detected'] else 'missed'} -> "
            f"{f['days_to_alert'] if f['detected'] else 'missed'}"
        )


if __name__ == "__main__":
    main()
