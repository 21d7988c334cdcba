"""Probe of session 28: free text of whitespace alone, weights of 0 g, partner photo links, then
ownership (seller against seller, partner against partner, roles beyond their duty), limits,
formats, methods, content types and Idempotency-Key reuse. A finding is what common.py flags;
`ACCEPTED` is an answer < 300 where a careful client expects a refusal."""
import sys, uuid, time
from datetime import datetime, timedelta, UTC

sys.path.insert(0, "/work/wt/hostile")
from common import *  # noqa
from disputedesk.simulate.signing import desipost_headers, rapidroute_headers, swiftship_headers

S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
r1, r2, r3 = list(ids); e1, e2 = ids[r1]["esc"], ids[r2]["esc"]
ACCEPTED = []
now = datetime.now(UTC)
iso = lambda d: d.isoformat().replace("+00:00", "Z")


def note_ok(r, label, refuse):
    ok = r is not None and r.status_code < 300
    if ok and refuse:
        ACCEPTED.append((label, r.status_code, r.text[:160])); print("ACCEPTED", label, r.status_code, r.text[:160])
    elif r is not None:
        print("  ", label, r.status_code, r.text[:150])


def feed(n, **over):
    body = {"return_id": f"RET-W{TAG}-{n}", "order_id": f"O-W{TAG}-{n}", "seller_id": "S-DEMO-1", "buyer_id": f"B-{TAG}",
            "category": "electronics", "item_value": 249900, "qc_required": False, "partner_id": "swiftship",
            "awb": f"SSW{TAG}{n}", "initiated_at": iso(now - timedelta(days=2))}
    body.update(over); return body


esc = lambda rid, **o: {"return_id": rid, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 100,
                        "description": "probe " + uuid.uuid4().hex[:6], **o}
BLANKS = ["   ", "\n\t ", "\u00a0\u2003", "\u200b"]

print("== 1. free text of whitespace alone")
for b in BLANKS:
    note_ok(req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description=b)), f"escalation description={b!r}", refuse=b != "\u200b")
    note_ok(req("POST", I + f"/v1/escalations/{e1}/appeal", "seller_portal", json={"reason": b}), f"appeal reason={b!r}", refuse=b != "\u200b")
    note_ok(req("POST", I + "/v1/returns", "marketplace", json=feed(f"b{BLANKS.index(b)}", category=b)), f"feed category={b!r}", refuse=b != "\u200b")
    note_ok(req("POST", F + "/v1/watchlist", "ops_manager", json={"entity_type": "seller", "entity_id": "S-X", "reason": b}), f"watchlist reason={b!r}", refuse=b != "\u200b")
    note_ok(req("PUT", N + f"/v1/sellers/S-W{TAG}", "marketplace", json={"emails": ["w@example.com"], "display_name": b}), f"directory display_name={b!r}", refuse=b != "\u200b")
    note_ok(req("POST", R + "/v1/cases/CASE-NONE/notes", "ops_agent", json={"note": b}), f"note={b!r} (case unknown)", refuse=b != "\u200b")
r = req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description="  padded  \n"))
print("   escalation description '  padded  \\n' ->", r.status_code, r.text[:200])

print("== 2. weights of 0 g")
for v in [0, 1]:
    note_ok(req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json={"received_weight_g": v}), f"evidence received_weight_g={v}", refuse=v == 0)
    note_ok(req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, claim_type="MISSING_ITEM", received_weight_g=v)), f"escalation received_weight_g={v}", refuse=v == 0)

print("== 3. partner photo links")
LINKS = ["javascript:alert(1)", "http://cdn.partner.example/a.jpg", "https://u:p@cdn.partner.example/a.jpg", "https://10.0.0.5/a.jpg",
         "https://localhost/a.jpg", "data:image/png;base64,AAAA", "//cdn.partner.example/a.jpg", "https://cdn.partner.example/ok.jpg"]
sw, rr, dp = CRED["SWIFTSHIP_SECRET"], CRED["RAPIDROUTE_SECRET"], CRED["DESIPOST_API_KEY"]
for link in LINKS:
    good = link.endswith("ok.jpg")
    body = json.dumps({"event": "return.qc_passed", "awb": ids[r1]["awb"], "return_ref": r1, "at": iso(now - timedelta(hours=5)),
                       "hub": "BLR-1", "weight_kg": 0.45, "photos": [link]}).encode()
    r = req("POST", I + "/v1/webhooks/swiftship", content=body, headers=swiftship_headers(sw, body, webhook_id="msg_" + uuid.uuid4().hex))
    note_ok(r, f"swiftship photo {link[:40]}", refuse=not good)
    body = json.dumps({"events": [{"id": uuid.uuid4().hex, "shipment": {"awb": ids[r2]["awb"], "ref": r2}, "status_code": "RQP",
                                   "ts": int((now - timedelta(hours=5)).timestamp() * 1000), "images": [link]}]}).encode()
    r = req("POST", I + "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(rr, body))
    note_ok(r, f"rapidroute image {link[:40]}", refuse=not good)
    body = json.dumps({"awb": ids[r3]["awb"], "order_ref": r3, "scans": [{"status": "QC PASSED", "date": (now - timedelta(hours=5)).astimezone().strftime("%d-%m-%Y %H:%M:%S")}],
                       "qc": {"status": "PASSED", "image": link}}).encode()
    r = req("POST", I + "/v1/webhooks/desipost", content=body, headers=desipost_headers(dp))
    note_ok(r, f"desipost qc.image {link[:40]}", refuse=not good)
body = json.dumps({"events": [{"id": uuid.uuid4().hex, "shipment": {"awb": ids[r2]["awb"], "ref": r2}, "status_code": "RDL",
                               "ts": int((now - timedelta(hours=4)).timestamp() * 1000), "weight_g": 0}]}).encode()
r = req("POST", I + "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(rr, body))
print("   rapidroute RDL weight_g=0 ->", r.status_code, r.text[:150])
time.sleep(2)
r = req("GET", I + f"/v1/returns/{r2}/events", "ops_agent")
if r is not None and r.status_code == 200:
    items = r.json().get("items", r.json()) if isinstance(r.json(), dict) else r.json()
    shown = [json.dumps(e)[:400] for e in items if "RDL" in json.dumps(e) or "DELIVERED" in json.dumps(e)]
    print("   delivery events of", r2, shown[:2] or [json.dumps(e)[:300] for e in items][:2])

print("== 4a. ownership: seller against seller")
for method, url, body in [
    ("GET", I + f"/v1/escalations/{e1}", None),
    ("GET", I + f"/v1/escalations?return_id={r1}", None),
    ("GET", I + f"/v1/escalations?seller_id=S-DEMO-1", None),
    ("POST", I + f"/v1/escalations/{e1}/evidence", {"received_weight_g": 500}),
    ("POST", I + f"/v1/escalations/{e1}/appeal", {"reason": "not mine but let us try"}),
    ("POST", I + f"/v1/returns/{r1}/appeal", {"reason": "not mine but let us try"}),
    ("GET", I + f"/v1/returns/{r1}/events", None),
    ("POST", I + "/v1/escalations", esc(r1)),
    ("POST", I + "/v1/escalations", {**esc(r1), "seller_id": "S-DEMO-2"}),
    ("POST", I + "/v1/seller-feedback", {"seller_id": "S-DEMO-1", "rating": 1, "text": "as someone else", "return_id": r1}),
    ("POST", I + "/v1/seller-feedback", {"seller_id": "S-DEMO-2", "rating": 1, "text": "on another's return", "return_id": r1}),
    ("GET", N + "/v1/messages?seller_id=S-DEMO-1", None),
    ("GET", N + "/v1/sellers/S-DEMO-1", None),
    ("PUT", N + "/v1/sellers/S-DEMO-1", {"emails": ["thief@example.com"]}),
]:
    r = req(method, url, "portal2", json=body)
    refuse = True
    if r is not None and r.status_code == 200 and method == "GET" and "items" in r.text:
        refuse = '"items":[]' not in r.text.replace(" ", "")
    note_ok(r, f"portal S-DEMO-2 {method} {url.split('//')[1].split('/', 1)[1][:70]}", refuse=refuse)

print("== 4b. ownership: partner against partner, roles beyond duty")
for role, method, url, body in [
    ("partner_swiftship", "GET", R + "/v1/partner/notices", None),
    ("partner_swiftship", "GET", R + "/v1/partner-notices", None),
    ("partner_swiftship", "GET", R + "/v1/partner/statements/2026-11", None),
    ("partner_swiftship", "GET", I + f"/v1/returns/{r2}/events", None),
    ("partner_swiftship", "POST", I + "/v1/escalations", esc(r1)),
    ("admin", "POST", R + "/v1/cases/CASE-NONE/decision", {"liable_party": "PARTNER", "payout_pct": 100, "reason": "admin is not a manager"}),
    ("admin", "GET", R + "/v1/cases", None),
    ("admin", "POST", F + "/v1/watchlist", {"entity_type": "seller", "entity_id": "S-X", "reason": "admin"}),
    ("marketplace", "GET", R + "/v1/cases", None),
    ("marketplace", "POST", I + "/v1/escalations", esc(r1)),
    ("seller_portal", "GET", R + "/v1/cases", None),
    ("seller_portal", "GET", F + "/v1/alerts", None),
    ("seller_portal", "GET", I + "/v1/admin/partners", None),
    ("ops_agent", "POST", I + "/v1/admin/partners", {"partner_id": "evil", "display_name": "Evil", "scheme": "swiftship", "secret": "whsec_" + "A" * 40}),
    ("ops_agent", "POST", R + "/v1/policies/sop-v1/approve", {}),
    ("finance", "POST", R + "/v1/cases/CASE-NONE/decision", {"liable_party": "PARTNER", "payout_pct": 100, "reason": "finance is not a desk"}),
    ("warehouse", "GET", R + "/v1/cases", None),
    (None, "GET", R + "/v1/cases", None),
]:
    r = req(method, url, role, json=body)
    note_ok(r, f"{role} {method} {url.split('//')[1].split('/', 1)[1][:70]}", refuse=not (role == "partner_swiftship" and "/v1/partner/" in url))

print("== 4c. limits")
for q in ["limit=0", "limit=-1", "limit=1000000", "limit=101", "limit=20&limit=30", "cursor=", "cursor=" + "A" * 5000, "offset=-1"]:
    note_ok(req("GET", R + f"/v1/cases?{q}", "ops_manager"), f"cases ?{q[:40]}", refuse=q not in ("limit=101",))
deep = {"changes": {}}
node = deep["changes"]
for _ in range(40):
    node["a"] = {}; node = node["a"]
note_ok(req("POST", R + "/v1/policies", "ops_manager", json={"version": "deep-" + TAG.lower(), "changes": deep["changes"]}), "draft changes 40 deep", refuse=True)
note_ok(req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description="x" * 5001)), "description 5001 chars", refuse=True)
note_ok(req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description="é" * 5000)), "description 5000 non-ASCII chars", refuse=False)
note_ok(req("POST", R + "/v1/cases/CASE-NONE/evidence-requests", "ops_agent", json={"checklist": ["x"] * 21, "reason": "many"}), "checklist 21 items", refuse=True)
note_ok(req("POST", R + "/v1/cases/CASE-NONE/evidence-requests", "ops_agent", json={"checklist": ["x" * 600], "reason": "long item"}), "checklist item 600 chars", refuse=True)
r = req("POST", I + "/v1/escalations", "seller_portal", content=b'{"a":' * 100000 + b'1' + b'}' * 100000, headers={"content-type": "application/json"})
print("   100000-deep JSON ->", r.status_code if r else None, r.text[:120] if r else "")
r = req("POST", I + "/v1/escalations", "seller_portal", content=b"[" + b"1," * 600000 + b"1]", headers={"content-type": "application/json"})
print("   1.2 MB array ->", r.status_code if r else None, r.text[:120] if r else "")

print("== 4d. formats")
for at in ["2026-11-24T10:00:00", "2026-11-24", "1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "2026-11-24T10:00:00+25:00", "2026-02-30T10:00:00Z", "2026-11-24T10:00:00.123456789Z"]:
    note_ok(req("POST", I + "/v1/returns", "marketplace", json=feed(f"d{abs(hash(at)) % 1000}", initiated_at=at)), f"initiated_at {at}", refuse=True)
for text in ["line\u2028sep", "bidi \u202e gnp.exe", "emoji 📦", "nul\u0000", "bell\u0007"]:
    note_ok(req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description=text)), f"description {text!r}", refuse="\u0000" in text or "\u0007" in text)
r = req("POST", I + "/v1/escalations", "seller_portal", content=b'{"return_id":"%s","seller_id":"S-DEMO-1","claim_type":"DAMAGED","claimed_amount":100,"claimed_amount":9999900,"description":"dup"}' % r1.encode(), headers={"content-type": "application/json"})
note_ok(r, "duplicate claimed_amount key", refuse=True)

print("== 4e. methods, content types, idempotency")
for m in ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]:
    req(m, I + "/v1/escalations", "seller_portal", expect=(405, 400, 501), note=f"method {m}")
key = "probe-" + uuid.uuid4().hex
r_a = req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description="first body"), headers={"Idempotency-Key": key})
r_b = req("POST", I + "/v1/escalations", "seller_portal", json=esc(r1, description="another body"), headers={"Idempotency-Key": key})
print("   idem first", r_a.status_code, "| same key other body", r_b.status_code, r_b.text[:150])
if r_b.status_code < 300:
    ACCEPTED.append(("idempotency key reused with another body", r_b.status_code, r_b.text[:160]))
r_c = req("POST", I + "/v1/escalations", "portal2", json={**esc(r2), "seller_id": "S-DEMO-2"}, headers={"Idempotency-Key": key})
print("   same key, another seller", r_c.status_code, r_c.text[:150])

print("FINDINGS", len(FINDINGS)); print("ACCEPTED", len(ACCEPTED))
for a in ACCEPTED:
    print("  ACCEPTED", a[0], a[1])
json.dump({"findings": FINDINGS, "accepted": ACCEPTED}, open(sys.argv[1] if len(sys.argv) > 1 else "probe10-out.json", "w"), indent=1, default=str)
