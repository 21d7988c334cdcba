"""Replayed partner webhooks, headers (Accept, Host, X-Forwarded-For) and paging abuse."""
import time as _t
from common import *
from shared.partner_signing import SigningScheme, signed_headers

seeded = json.load(open("seeded.json"))
(r1, i1), (r2, i2), _ = seeded["ids"].items()
W = "webhook-replay"
now = int(_t.time())
def swift(body, ts, mid):
    raw = json.dumps(body).encode()
    hd = signed_headers(SigningScheme.STANDARD_WEBHOOKS, secret=CRED["SWIFTSHIP_SECRET"], message_id=mid, timestamp=ts, body=raw)
    return req(W, "POST", f"{I}/v1/webhooks/swiftship", None, content=raw, headers={**hd, "content-type": "application/json"}, idem=False)
ev = {"event_id": f"SSE-{uuid.uuid4().hex[:8]}", "awb": i1["awb"], "status_code": "PICKED_UP", "at": "2026-12-06T10:00:00Z"}
for age in (301, 3600, 86400 * 30):
    r = swift(ev, now - age, f"msg_{uuid.uuid4().hex[:10]}")
    if r is not None and r.status_code < 300: FINDINGS.append({"class": W, "bad": ["old timestamp accepted"], "age": age})
r = swift(ev, now + 3600, f"msg_{uuid.uuid4().hex[:10]}")
print("future ts", r.status_code)
# rapidroute with an old t
raw = json.dumps({"events": []}).encode()
hd = signed_headers(SigningScheme.TIMESTAMPED_HMAC, secret=CRED["RAPIDROUTE_SECRET"], message_id="x", timestamp=now - 3600, body=raw)
r = req(W, "POST", f"{I}/v1/webhooks/rapidroute", None, content=raw, headers={**hd, "content-type": "application/json"}, idem=False)
print("rapidroute old", r.status_code, r.text[:200])
HD = "headers"
for accept in ("application/xml", "text/html", "image/png", "application/json;q=0", "*/*;q=0"):
    r = req(HD, "GET", f"{R}/v1/cases?limit=1", "ops_manager", headers={"Accept": accept}, note=accept)
    print("Accept", accept, "->", r.status_code, r.headers.get("content-type"))
    r = req(HD, "GET", f"{R}/v1/partner/statements/2026-11", "partner_swiftship", headers={"Accept": accept}, note=accept)
    print("  statement Accept", accept, "->", r.status_code, r.headers.get("content-type"))
    r = req(HD, "GET", f"{R}/v1/reports/management-pack", "ops_manager", headers={"Accept": accept}, note=accept)
    print("  pack Accept", accept, "->", r.status_code, r.headers.get("content-type"))
r = req(HD, "GET", f"{R}/v1/cases?limit=1", "ops_manager", headers={"Host": "evil.example"})
print("Host evil ->", r.status_code, r.headers.get("link"))
# X-Forwarded-For: does the console's sign-in limit read it?
codes = []
for n in range(15):
    r = c.post(f"{C}/sign-in", data={"key": "wrong-key-" + str(n)}, headers={"X-Forwarded-For": f"10.0.0.{n}"}, follow_redirects=False)
    codes.append(r.status_code)
print("console sign-in x15 with rotating XFF:", codes)
XF = "xff-auth-failures"
# 130 unknown keys, each naming another address in X-Forwarded-For (limit: 100 a minute an address)
codes = []
for n in range(130):
    r = req(XF, "GET", f"{I}/v1/escalations", None, headers={"Authorization": f"Bearer guess-{uuid.uuid4().hex}", "X-Forwarded-For": f"198.51.100.{n % 250 + 1}"}, expect=(401, 429))
    codes.append(r.status_code if r is not None else None)
print("unknown keys x130 with rotating XFF:", {k: codes.count(k) for k in set(codes)})
if 429 not in codes:
    FINDINGS.append({"class": XF, "bad": ["never throttled"], "codes": {k: codes.count(k) for k in set(codes)}})
PG = "paging"
r = c.get(f"{R}/v1/cases?limit=1&state=OPEN", headers=h("ops_manager")).json()
cur = r.get("next")
if cur:
    for q in ("state=CLOSED", "state=APPEALED", "seller_id=S-DEMO-2"):
        r = req(PG, "GET", f"{R}/v1/cases?limit=1&{q}&cursor={cur}", "ops_manager", note="cursor of another filter")
        print("cursor other filter", q, r.status_code, r.text[:120])
    r = req(PG, "GET", f"{N}/v1/messages?limit=1&cursor={cur}", "ops_manager", note="cases cursor on messages")
    print("cases cursor on messages", r.status_code, r.text[:150])
for lim in ("0", "-1", "1000000", "101", "500"):
    for url in (f"{R}/v1/cases", f"{F}/v1/alerts", f"{N}/v1/messages", f"{I}/v1/escalations"):
        r = req(PG, "GET", f"{url}?limit={lim}", "ops_manager")
        if r is not None and r.status_code == 200 and lim in ("0", "-1", "1000000"):
            FINDINGS.append({"class": PG, "bad": ["limit taken"], "url": url, "limit": lim})
dump("probe_wire-out.json")
print(json.dumps(COUNTS))
