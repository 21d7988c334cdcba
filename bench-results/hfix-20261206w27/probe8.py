"""The console's forms and query strings, and the desk APIs' numbers: every form found on the
queue, a case page, the fraud and SOP pages, each field sent hostile values; each answer
checked for 5xx, traceback, > 2 s, and a value echoed unescaped."""
from common import *
import re, html

S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
s = httpx.Client(base_url=C, timeout=30)
def jar(r):
    for hd in r.headers.get_list("set-cookie"):
        n, v = hd.split(";")[0].split("=", 1); s.cookies.set(n, v)
r = s.get("/sign-in"); jar(r); tok = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
r = s.post("/sign-in", data={"key": K["ops_manager"], "csrf_token": tok}); jar(r)
print("sign-in", r.status_code)
BAD = ["", "-1", "0", "1e999", "99999999999999999999999", "<script>alert(1)</script>", "x" * 10000, "ключ", "%00", "\u202e", "1.5", "null"]
HITS = []
def check(r, label):
    bad = []
    if r.status_code >= 500: bad.append("5xx")
    if "Traceback" in r.text: bad.append("trace")
    if r.elapsed.total_seconds() > 2: bad.append(f"slow {r.elapsed.total_seconds():.1f}")
    if "<script>alert(1)</script>" in r.text: bad.append("unescaped")
    if bad:
        HITS.append((bad, label, r.status_code, r.text[:200])); print("!!", bad, label, r.status_code, r.text[:200])
pages = ["/", "/fraud", "/sop", "/reports"]
for rid in list(ids)[:1]:
    pages.append(f"/cases/CASE-{rid}")
forms = []
for p in pages:
    r = s.get(p); check(r, f"GET {p}")
    for form in re.findall(r"<form[^>]*>.*?</form>", r.text, re.S):
        action = re.search(r'action="([^"]*)"', form)
        method = re.search(r'method="([^"]*)"', form)
        fields = dict(re.findall(r'name="([^"]+)"(?:[^>]*value="([^"]*)")?', form))
        forms.append((p, html.unescape(action.group(1)) if action else p, (method.group(1) if method else "get").lower(), fields))
print("forms", len(forms), sorted({f[1] for f in forms})[:40])
for page, action, method, fields in forms:
    for name in fields:
        if name == "csrf_token":
            continue
        for v in BAD:
            data = {**fields, name: v}
            r = s.post(action, data=data) if method == "post" else s.get(action, params=data)
            check(r, f"{method} {action} {name}={v[:20]!r}")
    if method == "post":
        r = s.post(action, data={k: v for k, v in fields.items() if k != "csrf_token"})
        check(r, f"{action} without csrf")
        if r.status_code < 400:
            HITS.append(("no-csrf accepted", action, r.status_code)); print("!! no csrf accepted", action, r.status_code)
for q in ["?state=<x>", "?limit=100000", "?sort=-", "?assignee=%00", "?cursor=" + "A" * 5000, "?sla_breached=maybe", "?seller_id=..", "?q=" + "%E2%80%AE" * 100]:
    r = s.get("/" + q); check(r, "queue " + q[:30])
    r = s.get("/queue/rows" + q); check(r, "rows " + q[:30])
# desk APIs: numbers
rid = list(ids)[0]
case = f"CASE-{rid}"
for body in [{"payout_pct": -1}, {"payout_pct": 101}, {"payout_pct": 50.0}, {"payout_pct": "50"}, {"payout_pct": 10**30}]:
    r = req("POST", R + f"/v1/cases/{case}/decision", "ops_manager", json={"outcome": "PARTIAL", "liable_party": "PARTNER", "reason": "probe", **body})
    print("decision", body, r.status_code if r else None, r.text[:120] if r else "")
for q in ["start=2026-12-01&end=2026-11-01", "start=1999-01-01&end=2026-12-01", "period=year", "by=<x>", "start=2026-11-01T00:00:00Z"]:
    r = req("GET", R + f"/v1/reports/kpis?{q}", "ops_manager"); print("kpis", q, r.status_code if r else None, r.text[:100] if r else "")
for body in [{"limit": 0}, {"limit": 10**9}, {"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}]:
    r = req("POST", R + "/v1/policies/sop-v1/what-if", "ops_manager", json=body); print("what-if", body, r.status_code if r else None, r.text[:120] if r else "")
print("HITS", len(HITS), "FINDINGS", len(FINDINGS))
json.dump({"hits": HITS, "findings": FINDINGS}, open("probe8-out.json", "w"), indent=1, default=str)
