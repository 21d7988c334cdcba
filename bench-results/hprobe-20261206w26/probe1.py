from common import *
import uuid, threading
S = json.load(open("seeded.json")); ids = S["ids"]
r1, r2, r3 = list(ids)
e1, e2 = ids[r1]["esc"], ids[r2]["esc"]
print("== cross-owner: portal2 (S-DEMO-2) on S-DEMO-1's objects")
req("GET", I + f"/v1/escalations/{e1}", "portal2", expect=404)
req("POST", I + f"/v1/escalations/{e1}/evidence", "portal2", expect=404, json={"evidence": [], "received_weight_g": 1})
req("POST", I + f"/v1/escalations/{e1}/appeal", "portal2", expect=404, json={"reason": "x"})
req("POST", I + f"/v1/returns/{r1}/appeal", "portal2", expect=404, json={"reason": "x"})
r = req("GET", I + f"/v1/returns/{r1}/events", "portal2", expect=(403, 404)); print("events portal2", r.status_code)
r = req("GET", I + f"/v1/returns/{r1}/events", "seller_portal"); print("events own portal", r.status_code, r.text[:200])
r = req("GET", I + f"/v1/escalations?seller_id=S-DEMO-1", "portal2", expect=(403, 422)); print("list other", r.status_code)
r = req("GET", I + f"/v1/escalations?return_id={r1}", "portal2"); print("list by return", r.status_code, r.text[:200])
req("POST", I + "/v1/seller-feedback", "portal2", expect=(403, 422), json={"rating": 1, "return_id": r1, "seller_id": "S-DEMO-1", "text": "x"})
req("POST", I + "/v1/seller-feedback", "portal2", expect=(403, 422), json={"rating": 1, "return_id": r1, "seller_id": "S-DEMO-2", "text": "x"})
# notifications: conversation of another seller's case
for role in ["seller_portal", "portal2", "partner_swiftship", "admin", "finance", "warehouse", "marketplace"]:
    for url in [N + "/v1/messages", N + "/v1/inbound/triage", N + "/v1/conversations/unread", R + "/v1/cases", F + "/v1/alerts", R + "/v1/ledger/balances", N + "/v1/suppressions", R + "/v1/policies", N + "/v1/templates"]:
        r = req("GET", url, role)
        print(role, url.split("/", 3)[-1], r.status_code)
