"""Three returns (two sellers, three partners) escalated by their sellers; ids in seeded.json."""
from common import *
from datetime import datetime, timedelta, UTC
now = datetime.now(UTC)
TAG = uuid.uuid4().hex[:6].upper()
ids = {}
for n, (seller, partner, awb) in enumerate([("S-DEMO-1", "swiftship", f"SSP{TAG}1"), ("S-DEMO-2", "rapidroute", f"RRP{TAG}2"), ("S-DEMO-1", "desipost", f"DPP{TAG}3")], 1):
    rid = f"RET-P{TAG}-{n}"
    body = {"return_id": rid, "order_id": f"O-{TAG}-{n}", "seller_id": seller, "buyer_id": f"B-{TAG}", "category": "electronics",
            "item_value": 249900, "qc_required": False, "partner_id": partner, "awb": awb,
            "initiated_at": (now - timedelta(days=3)).isoformat().replace("+00:00", "Z")}
    r = req("seed", "POST", I + "/v1/returns", "marketplace", expect=(200, 201, 202), json=body)
    role = "seller_portal" if seller == "S-DEMO-1" else "portal2"
    r = req("seed", "POST", I + "/v1/escalations", role, expect=(200, 201, 202), json={"return_id": rid, "seller_id": seller, "claim_type": "DAMAGED",
        "claimed_amount": 249900, "description": "Cracked screen", "seller_email": f"probe.{TAG.lower()}{n}@example.com"})
    print(r.status_code, r.text[:300])
    ids[rid] = {"seller": seller, "partner": partner, "awb": awb, "esc": r.json().get("escalation_id")}
json.dump({"tag": TAG, "ids": ids}, open("seeded.json", "w"), indent=1)
