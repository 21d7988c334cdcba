"""Per planted claim abuser of run.py's folders: shown and drawn intensity, relevant events,
days to alert, and the counts its alert rested on (claims, deliveries, peer rate, spread)."""
import json, sys
from pathlib import Path
for w in sys.argv[1:]:
    w = Path(w)
    x = json.loads((w / "extra.json").read_text())
    r = json.loads((w / "fraud-eval-direct.json").read_text())
    world = r["per_seed"][0]["world"]
    print("==", w, "a+b", world.get("claim_rate_concentration"), "|", world.get("category_claim_factors"))
    for e in r["entities"]:
        if e["pattern"] != "claim_abuse":
            continue
        eid = e["entity"].split(":", 1)[1]
        al = [a for a in x["alerts"] if a["eid"] == eid and a["pattern"] == "CLAIM_ABUSE"]
        n = al[0]["evidence"].get("numbers", {}) if al else {}
        print(" ", eid, e["intensity"], e["drawn_intensity"], e["events"], e["detected"], e["days_to_alert"],
              "|", n.get("count"), n.get("trials"), n.get("peer_rate"), n.get("peer_concentration"))
