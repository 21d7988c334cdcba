"""One world's claim-abuse line (as compare.py's), for folders not yet paired: python one.py DIR..."""
import json, sys
from pathlib import Path
for a in sys.argv[1:]:
    d = Path(a)
    r = json.loads((d / "fraud-eval-direct.json").read_text()); t = r["per_seed"][0]; h = t["honest"]
    ents = [e for e in r["entities"] if e["pattern"] == "claim_abuse"]
    goal = [e for e in ents if (e["intensity"] or 0) >= 2.5 and e["events"] >= 15]
    print(d, "found", sum(e["detected"] for e in ents), "/", len(ents), "goal", [(e["entity"], round(e["days_to_alert"], 1) if e["detected"] else None) for e in goal],
          "honest sellers", h["sellers_ever_flagged"], "/", h["sellers"], "at end", h.get("sellers_flagged_at_end"), "HIGH", h["escalations_honest_parties_high"], "/", h["escalations_honest_parties"],
          "prec", t["claim_abuse"]["event_precision"])
