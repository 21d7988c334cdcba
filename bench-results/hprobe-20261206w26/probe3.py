from common import *
import uuid, concurrent.futures as cf, time as _t, sys
sys.path.insert(0, "/work/wt/hprobe")
from disputedesk.simulate.signing import swiftship_headers, rapidroute_headers, desipost_headers
from datetime import datetime, timedelta, UTC
S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
r1, r2, r3 = list(ids)
pool = cf.ThreadPoolExecutor(20)
def par(fn, n): return list(pool.map(lambda i: fn(i), range(n)))
# F. same Idempotency-Key, different bodies, at once (new returns)
key = f"idem-{uuid.uuid4().hex}"
def send(i):
    body = {"return_id": f"RET-ID{TAG}", "order_id": f"O-{i}", "seller_id": "S-DEMO-1", "buyer_id": "B-1", "category": "electronics",
            "item_value": 1000 + i, "qc_required": False, "partner_id": "swiftship", "awb": f"SSID{TAG}",
            "initiated_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    return req("POST", I + "/v1/returns", "marketplace", headers={"Idempotency-Key": key}, json=body)
rs = par(send, 8); print("idem returns:", sorted((r.status_code for r in rs)))
def esc(i):
    return req("POST", I + "/v1/escalations", "seller_portal", headers={"Idempotency-Key": key + "e"}, json={"return_id": r3, "seller_id": "S-DEMO-1", "claim_type": "MISSING_ITEM" if i % 2 else "DAMAGED",
        "claimed_amount": 1000 + i, "description": f"d{i}", "seller_email": "x@example.com"})
rs = par(esc, 8); print("idem escalations:", sorted((r.status_code for r in rs)), set(r.json().get("escalation_id") for r in rs if r.status_code < 300))
# H. same webhook 20x at once (swiftship)
sec = CRED["SWIFTSHIP_SECRET"]
at = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
body = json.dumps({"event": "return.picked_up", "awb": ids[r1]["awb"], "return_ref": r1, "at": at, "hub": "HUB-1", "agent": "AG-1", "photos": [], "otp_verified": False}).encode()
wid = f"msg_{uuid.uuid4().hex}"
hd = swiftship_headers(sec, body, webhook_id=wid)
rs = par(lambda i: req("POST", I + "/v1/webhooks/swiftship", None, headers=hd, content=body), 20)
print("20x swiftship:", [r.status_code for r in rs], [r.text[:120] for r in rs][:3])
# same scan under 20 different webhook ids at once
rs = par(lambda i: req("POST", I + "/v1/webhooks/swiftship", None, headers=swiftship_headers(sec, body, webhook_id=f"{wid}-{i}"), content=body), 20)
print("20x swiftship new ids:", [r.status_code for r in rs], set(r.text[:200] for r in rs))
# replay old / skewed signature
for ts in (int(_t.time()) - 3600, int(_t.time()) + 3600, 0, 2**63):
    r = req("POST", I + "/v1/webhooks/swiftship", None, headers=swiftship_headers(sec, body, webhook_id=f"{wid}-ts{ts}", timestamp=ts), content=body, expect=401)
    print("ts", ts, r.status_code, r.text[:150])
# desipost key on swiftship route and vice versa; another partner's AWB
dk = CRED["DESIPOST_API_KEY"]
r = req("POST", I + "/v1/webhooks/swiftship", None, headers=desipost_headers(dk), content=body, expect=401); print("desipost key on swiftship", r.status_code)
dbody = json.dumps({"awb": ids[r1]["awb"], "order_ref": r1, "is_return": True, "current_status": "PICKED UP", "scans": [{"status": "PICKED UP", "date": "05-12-2026 10:00:00", "location": "HUB"}], "qc": {"status": "NOT_REQUIRED", "failure_reason": None}, "pod": {"status": None}}).encode()
r = req("POST", I + "/v1/webhooks/desipost", None, headers=desipost_headers(dk), content=dbody); print("desipost on swiftship AWB", r.status_code, r.text[:300])
r = req("POST", I + "/v1/webhooks/desipost", None, headers=desipost_headers(dk.lower()), content=dbody, expect=401); print("desipost lower key", r.status_code)
r = req("POST", I + "/v1/webhooks/rapidroute", None, headers=desipost_headers(dk), content=dbody, expect=401); print("desipost key on rapidroute", r.status_code)
# rapidroute batch 20x at once with one event of another partner's AWB
rr = CRED["RAPIDROUTE_SECRET"]
ev = lambda awb, ref, eid: {"id": eid, "shipment": {"awb": awb, "ref": ref}, "status_code": "RPU", "ts": int((_t.time() - 3600) * 1000), "location": {"hub": "H"}, "images": []}
rb = json.dumps({"events": [ev(ids[r2]["awb"], r2, f"E{TAG}a"), ev(ids[r1]["awb"], r1, f"E{TAG}b")]}).encode()
rs = par(lambda i: req("POST", I + "/v1/webhooks/rapidroute", None, headers=rapidroute_headers(rr, rb), content=rb), 20)
print("20x rapidroute:", [r.status_code for r in rs], set(r.text[:300] for r in rs))
print("findings", len(FINDINGS))
