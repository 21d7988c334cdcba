"""Markdown rows, base -> after per world, from run.py's folders: python compare.py ROOT"""
import json, statistics, sys
from pathlib import Path
root = Path(sys.argv[1]); after = sys.argv[2] if len(sys.argv) > 2 else "lone"
def line(d):
    f = d / "fraud-eval-direct.json"
    if not f.exists(): return None
    r = json.loads(f.read_text()); t = r["per_seed"][0]; ca = t["claim_abuse"]; h = t["honest"]
    x = json.loads((d / "extra.json").read_text())
    ents = [e for e in r["entities"] if e["pattern"] == "claim_abuse"]
    goal = [e for e in ents if (e["intensity"] or 0) >= 2.5 and e["events"] >= 15]
    honest = sorted({a["eid"] for a in x["alerts"] if a["pattern"] == "CLAIM_ABUSE" and not a["planted"]})
    days = ", ".join(f"{e['days_to_alert']:.1f}" for e in goal if e["detected"])
    return dict(found=f"{sum(e['detected'] for e in ents)}/{len(ents)}",
                goal=f"{sum(e['detected'] for e in goal)}/{len(goal)}" + (f" ({days})" if days else ""),
                honest=f"{h['sellers_ever_flagged']}/{h['sellers']}" + (f" ({', '.join(honest)})" if honest else ""),
                esc=f"{h['escalations_honest_parties_high']}/{h['escalations_honest_parties']}",
                prec=f"{ca['event_precision']}", goal_days=[e["days_to_alert"] for e in goal if e["detected"]],
                goal_n=len(goal), goal_k=sum(e['detected'] for e in goal), hs=h['sellers_ever_flagged'], hn=h['sellers'])
tot = {"base": [], "after": []}
for rs in sorted((root / "base").iterdir()):
    for d in sorted(rs.iterdir()):
        b = line(d); a = line(root / after / rs.name / d.name)
        if b is None or a is None: continue
        tot["base"].append(b); tot["after"].append(a)
        print(f"| {rs.name} {d.name} | {b['found']} → {a['found']} | {b['goal']} → {a['goal']} | {b['honest']} → {a['honest']} | {b['esc']} → {a['esc']} | {b['prec']} → {a['prec']} |")
for k, v in tot.items():
    days = [x for r in v for x in r["goal_days"]]
    print(k, "goal", sum(r["goal_k"] for r in v), "/", sum(r["goal_n"] for r in v), "median", statistics.median(days) if days else None,
          "honest sellers", sum(r["hs"] for r in v), "/", sum(r["hn"] for r in v))
