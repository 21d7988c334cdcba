from common import *
import uuid
from datetime import datetime, timedelta, UTC
S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
r1, r2, r3 = list(ids); e1 = ids[r1]["esc"]
def show(r, label): print(label, r.status_code, r.text[:260])
ev = lambda cap, uri="https://evidence.example/a.jpg": {"evidence": [{"kind": "PHOTO", "uri": uri, "sha256": "a"*64, "captured_at": cap}]}
for cap in ["2099-01-01T00:00:00Z", (datetime.now(UTC)+timedelta(days=30)).isoformat(), "2000-01-01T00:00:00Z"]:
    show(req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json=ev(cap)), f"evidence captured_at {cap}")
for uri in ["http://evidence.example/a.jpg", "https://user:pw@evidence.example/a.jpg", "https://127.0.0.1:28104/metrics", "javascript:alert(1)", "https://evidence.example/a.jpg\"><script>", "file:///etc/passwd", "https://" + "a"*3000 + ".com/x"]:
    show(req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json=ev("2026-12-01T00:00:00Z", uri)), f"evidence uri {uri[:50]}")
for rating in [0, 6, -1, 5.0, 3]:
    show(req("POST", I + "/v1/seller-feedback", "seller_portal", json={"rating": rating, "return_id": r1, "seller_id": "S-DEMO-1", "text": "ok"}), f"rating {rating}")
# refunds
for amt in [0, -1, 249900*10, 10**13]:
    show(req("POST", I + "/v1/refunds", "marketplace", json={"refund_id": f"RF-{TAG}-{amt}", "return_id": r1, "amount": amt, "issued_at": "2026-12-05T00:00:00Z"}), f"refund {amt}")
# escalation claimed more than item value, zero
for amt in [0, 249901, 10**11]:
    show(req("POST", I + "/v1/escalations", "seller_portal", json={"return_id": r1, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": amt, "description": "x"}), f"claim {amt}")
# escalation for seller id case variants
show(req("POST", I + "/v1/escalations", "seller_portal", json={"return_id": r1, "seller_id": "s-demo-1", "claim_type": "DAMAGED", "claimed_amount": 1, "description": "x"}), "seller id lower")
show(req("POST", I + "/v1/escalations", "seller_portal", json={"return_id": r2, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 1, "description": "x"}), "own seller, other's return")
print(len(FINDINGS))
