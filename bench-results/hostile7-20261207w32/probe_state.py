"""Ownership and state abuse on the seeded escalations: another seller's objects, evidence and
appeals on a decided case, decisions in the wrong state, the same request 10x at once."""
import concurrent.futures as cf, sys
from common import *

seeded = json.load(open("seeded.json"))
(r1, i1), (r2, i2), (r3, i3) = seeded["ids"].items()
cases = {x["return_id"]: x for x in c.get(R + "/v1/cases?limit=100", headers=h("ops_manager")).json()["items"]}
c1, c2, c3 = (cases[r]["case_id"] for r in (r1, r2, r3))
E = "ownership"
# another seller's objects
req(E, "GET", f"{I}/v1/escalations/{i1['esc']}", "portal2", expect=404)
req(E, "POST", f"{I}/v1/escalations/{i1['esc']}/evidence", "portal2", expect=404, json={"received_weight_g": 500})
req(E, "POST", f"{I}/v1/escalations/{i1['esc']}/appeal", "portal2", expect=(404,), json={"reason": "no"})
req(E, "POST", f"{I}/v1/returns/{r1}/appeal", "portal2", expect=(404,), json={"reason": "no"})
req(E, "GET", f"{I}/v1/escalations?seller_id=S-DEMO-1", "portal2", expect=403)
r = req(E, "GET", f"{I}/v1/escalations?return_id={r1}", "portal2", expect=200)
if r is not None and r.status_code == 200 and r.json()["items"]:
    FINDINGS.append({"class": E, "bad": ["leak"], "note": "portal2 lists seller 1's escalation by return_id"})
req(E, "POST", f"{I}/v1/escalations", "portal2", expect=(403,), json={"return_id": r1, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 100, "description": "x"})
req(E, "POST", f"{I}/v1/escalations", "portal2", expect=(404,), json={"return_id": r1, "seller_id": "S-DEMO-2", "claim_type": "DAMAGED", "claimed_amount": 100, "description": "x"})
req(E, "POST", f"{I}/v1/seller-feedback", "portal2", expect=(422,), json={"return_id": r1, "seller_id": "S-DEMO-2", "rating": 1, "comment": "bad"})
# roles doing another role's duty
RD = "roles"
req(RD, "POST", f"{R}/v1/cases/{c1}/approve", "admin", expect=403, json={})
req(RD, "POST", f"{R}/v1/cases/{c1}/decision", "finance", expect=403, json={"liable_party": "SELLER", "payout_pct": 0, "reason": "x", "rule_id": "MANUAL"})
req(RD, "GET", f"{R}/v1/ledger/balances", "ops_agent", expect=403)
req(RD, "POST", f"{R}/v1/partner-statements/swiftship/2026-11/issue", "ops_manager", expect=403, json={})
req(RD, "GET", f"{R}/v1/partner/statements/2026-11", "ops_manager", expect=403)
req(RD, "GET", f"{R}/v1/ledger/partners/rapidroute/statement", "partner_swiftship", expect=403)
req(RD, "GET", f"{R}/v1/partner-statements/rapidroute/2026-11", "partner_swiftship", expect=403)
req(RD, "POST", f"{N}/v1/suppressions", "ops_agent", expect=403, json={})
req(RD, "PUT", f"{N}/v1/sellers/S-DEMO-1", "seller_portal", expect=403, json={})
req(RD, "POST", f"{F}/v1/labels", "finance", expect=403, json={})
# state: decide case 1 (seller liable, nothing paid), then act on it
ST = "state"
req(ST, "POST", f"{R}/v1/cases/{c1}/decision", "ops_agent", expect=200, json={"liable_party": "SELLER", "payout_pct": 0, "reason": "Probe: the seller packed it", "rule_id": "MANUAL"})
time.sleep(1)
req(ST, "POST", f"{R}/v1/cases/{c1}/decision", "ops_agent", expect=409, json={"liable_party": "PARTNER", "payout_pct": 100, "reason": "again", "rule_id": "MANUAL"})
req(ST, "POST", f"{R}/v1/cases/{c1}/approve", "ops_manager", expect=409, json={})
req(ST, "POST", f"{R}/v1/cases/{c1}/appeal-decision", "ops_manager", expect=409, json={"overturn": False, "reason": "Probe: appeal on a decided case"})
req(ST, "POST", f"{R}/v1/cases/{c1}/evidence-requests", "ops_agent", expect=409, json={"checklist": ["photo"], "reason": "Probe: ask on a decided case"})
req(ST, "POST", f"{R}/v1/cases/{c1}/escalate", "ops_agent", expect=409, json={"reason": "Probe: escalate a decided case"})
r = req(ST, "POST", f"{I}/v1/escalations/{i1['esc']}/evidence", "seller_portal", note="evidence to a decided case", json={"received_weight_g": 500})
print("evidence to decided:", r.status_code, r.text[:300])
# appeal twice at once (seller)
def appeal(_):
    return c.post(f"{I}/v1/escalations/{i1['esc']}/appeal", headers=h("seller_portal"), json={"reason": "I packed it well, see photos"})
with cf.ThreadPoolExecutor(10) as ex:
    res = list(ex.map(appeal, range(10)))
print("appeal x10:", sorted(x.status_code for x in res))
for x in res:
    record("appeal-x10", "POST", "appeal", "", x, ["5xx"] if x.status_code >= 500 else [])
time.sleep(3)
print(c.get(f"{R}/v1/cases/{c1}", headers=h("ops_manager")).json().get("state"))
# ten identical requests at once, without an Idempotency-Key
RACE = "race-x10"
def fire(args):
    method, url, role, body = args
    return c.request(method, url, headers=h(role), json=body)
for method, url, role, body in [
    ("POST", f"{R}/v1/cases/{c2}/notes", "ops_agent", {"note": "same note"}),
    ("POST", f"{R}/v1/cases/{c2}/assign", "ops_agent", {"assignee": "agent.asha"}),
    ("POST", f"{R}/v1/cases/{c2}/tasks", "ops_agent", {"team": "warehouse", "ask": "Weigh the parcel"}),
    ("POST", f"{R}/v1/cases/{c2}/evidence-requests", "ops_agent", {"checklist": ["photo of the box"], "reason": "Need the box"}),
    ("POST", f"{R}/v1/cases/{c3}/decision", "ops_agent", {"liable_party": "SELLER", "payout_pct": 0, "reason": "race", "rule_id": "MANUAL"}),
    ("POST", f"{F}/v1/watchlist", "ops_agent", {"entity_type": "seller", "entity_id": "S-RACE-1", "reason": "race"}),
    ("POST", f"{N}/v1/suppressions", "ops_manager", {"address": f"race-{uuid.uuid4().hex[:6]}@example.com", "reason": "manual", "detail": "Probe: ten at once"}),
    ("POST", f"{I}/v1/escalations/{i2['esc']}/evidence", "portal2", {"received_weight_g": 700}),
]:
    with cf.ThreadPoolExecutor(10) as ex:
        res = list(ex.map(fire, [(method, url, role, body)] * 10))
    codes = sorted(x.status_code for x in res)
    print(RACE, method, url.split("/v1/")[1], codes)
    for x in res:
        bad = []
        if x.status_code >= 500: bad.append("5xx")
        if x.status_code >= 400 and "problem+json" not in x.headers.get("content-type", ""): bad.append("not-problem")
        record(RACE, method, url, "", x, bad)
dump("probe_state-out.json")
print(json.dumps(COUNTS))
