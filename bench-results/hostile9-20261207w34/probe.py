"""hostile9's probe of `disputedesk run` (ports 21101-21105): cursors across lists and filters,
the console's Accept and refusals, and classes no round probed (instants at the edges of the
offsets, trailing slashes and the Host they redirect to, method-override headers, an encoded
slash in an id). Uses hostile8's client and checks (common.py) where they stand."""
import json, os, sys
from urllib.parse import quote

sys.path.insert(0, "/work/wt/hostile9/bench-results/hostile8-20261207w33")
os.environ.setdefault("PROBE_STATE", "/work/wt/hostile9/.state/test")
import common as cm  # noqa: E402
from common import C, BASE, c, req  # noqa: E402

ROLE = {"ops_agent": "ops_agent", "ops_manager": "ops_manager", "finance": "finance", "admin": "admin",
        "partner": "partner_rapidroute", "seller_portal": "seller_portal", "marketplace": "marketplace"}
only = os.environ.get("PROBE_ONLY", "")
docs = cm.openapi()
paged = []
for svc, doc in docs.items():
    for path, ops in doc["paths"].items():
        g = ops.get("get")
        if g and any(p["name"] == "cursor" for p in g.get("parameters", [])):
            paged.append((svc, path))

def key_for(svc, path):
    for role in ("ops_manager", "admin", "finance", "partner_rapidroute"):
        if role not in cm.K:
            continue
        url = BASE[svc] + fill(path) + ("?case_id=C-1" if path == "/v1/messages" else "")
        r = c.get(url, headers=cm.h(role))
        if r.status_code != 403:
            return role
    return "ops_manager"

def fill(path):
    return path.replace("{partner_id}", "swiftship").replace("{return_id}", "RET-NONE").replace(
        "{case_id}", "C-NONE")

def sep(path):
    return "?case_id=C-1&" if path == "/v1/messages" else "?"

if not only or only == "cursors":
    roles = {(s, p): key_for(s, p) for s, p in paged}
    # seed: two watchlist entries, two suppressions
    for n in range(2):
        req("seed", "POST", f"{BASE['fraud']}/v1/watchlist", "ops_manager", json={"entity_type": "seller", "entity_id": f"S-H9-{os.getpid()}-{n}", "reason": "probe"})
        req("seed", "POST", f"{BASE['notifications']}/v1/suppressions", "ops_manager", json={"address": f"h9-{os.getpid()}-{n}@example.com"})
    cursors = {}
    for s, p in paged:
        r = c.get(f"{BASE[s]}{fill(p)}{sep(p)}limit=1", headers=cm.h(roles[(s, p)]))
        if r.status_code == 200 and r.json().get("next"):
            cursors[(s, p)] = r.json()["next"]
    print("lists", len(paged), "with a second page", len(cursors))
    crossed = {"200": [], "422": 0, "other": []}
    for src, cur in cursors.items():
        for s, p in paged:
            if (s, p) == src:
                continue
            r = req("cursor of another list", "GET", f"{BASE[s]}{fill(p)}{sep(p)}cursor={quote(cur)}", roles[(s, p)], expect=(422, 404))
            if r is None:
                continue
            if r.status_code == 200:
                crossed["200"].append(f"{src[1]} -> {p}")
            elif r.status_code == 422:
                crossed["422"] += 1
            else:
                crossed["other"].append((src[1], p, r.status_code))
    print("crossings:", json.dumps({k: (len(v) if isinstance(v, list) else v) for k, v in crossed.items()}), crossed["200"][:20], crossed["other"][:5])
    W = f"{BASE['fraud']}/v1/watchlist"
    r = c.get(W + "?entity_type=seller&limit=1", headers=cm.h("ops_manager")); cur = r.json()["next"]
    for other in ("entity_type=buyer", "", "entity_type=seller&active=false"):
        req("cursor with other filters", "GET", f"{W}?{other}&limit=1&cursor={cur}", "ops_manager", expect=422, note=other)
    req("cursor with another limit", "GET", f"{W}?entity_type=seller&limit=3&cursor={cur}", "ops_manager", expect=200)

if not only or only == "console":
    BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    class Kept:
        """The console's cookies are `Secure`; over plain http the probe keeps them by hand."""
        def __init__(self):
            self.c = cm.httpx.Client(timeout=30)
            self.jar = {}
        def request(self, method, url, headers=None, **kw):
            headers = dict(headers or {})
            if self.jar:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
            r = self.c.request(method, url, headers=headers, **kw)
            self.jar.update(r.cookies.items())
            return r
        def get(self, url, **kw):
            return self.request("GET", url, **kw)
        def post(self, url, **kw):
            return self.request("POST", url, **kw)
    s = Kept()
    page = s.get(C + "/sign-in")
    import re
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(C + "/sign-in", data={"key": cm.K["ops_manager"], "csrf_token": tok}, headers={"Accept": BROWSER})
    print("console sign-in", r.status_code)
    def creq(cls, method, path, accept, expect, **kw):
        r = s.request(method, C + path, headers={"Accept": accept} if accept else {}, **kw)
        ct = r.headers.get("content-type", "")
        bad = []
        if r.status_code >= 500: bad.append("5xx")
        if r.status_code not in expect: bad.append(f"expected {expect}")
        want_problem = accept and ("json" in accept.split(",")[0]) and r.status_code >= 400
        if want_problem and "problem+json" not in ct: bad.append("not-problem")
        cm.record(cls, method, path, accept, r, bad)
        return r
    for p in ("/", "/queue/rows", "/queue/counts", "/fraud", "/sop", "/reports"):
        for a in ("application/json", "application/problem+json", "image/png"):
            creq("console page asked for another type", "GET", p, a, (406,))
        for a in (BROWSER, "*/*", None):
            creq("console page asked as a browser", "GET", p, a, (200,))
    creq("console kpis asked for html", "GET", "/reports/kpis.json", "text/html", (406,))
    for path, st in (("/no-such-page", 404), ("/reports?start=2026-13-01", 422), ("/cases/C-NONE", 404), ("/reports/statement?partner_id=%21", 422)):
        creq("console refusal asked for json", "GET", path, "application/json, text/html;q=0.5", (st,))
        creq("console refusal as a browser", "GET", path, BROWSER, (st,))
    page = s.get(C + "/", headers={"Accept": BROWSER})
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if tok:
        creq("console form asked for json", "POST", "/sign-out", "application/json", (406,), data={"csrf_token": tok.group(1)})
        after = s.get(C + "/", headers={"Accept": BROWSER})
        print("still signed in after the JSON sign-out:", after.status_code == 200)
    anon = cm.httpx.Client(timeout=30)
    r = anon.get(C + "/", headers={"Accept": "application/json, text/html;q=0.5"})
    cm.record("console no session asked for json", "GET", "/", "", r, [] if r.status_code == 401 else ["expected 401"])
    # trailing slash: does the console redirect, and to which host?
    for p in ("/reports/", "/fraud/", "/sop/", "/cases/"):
        r = s.get(C + p, headers={"Accept": BROWSER, "Host": "evil.example"}, follow_redirects=False)
        loc = r.headers.get("location", "")
        cm.record("console trailing slash with a forged Host", "GET", p, loc, r, ["Location from Host"] if "evil.example" in loc else [])

if not only or only in ("new", "new2"):
    R = BASE["reconciliation"]
    edges = ["9999-12-31T23:59:59-05:30", "0001-01-01T00:00:00+05:30", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
             "2000-01-01T00:00:00+14:00", "2099-12-31T23:59:59-12:00", "2026-12-07T24:00:00Z", "2026-12-07T10:00:00+24:00",
             "2026-12-07T10:00:00+05:30:30", "2026-12-07T10:00:00.1234567+05:30", "2026-12-07 10:00:00+05:30",
             "2026-12-07T10:00:00+0530", "+2026-12-07T10:00:00Z", "2026-12-07T10:00:60Z"]
    for path, names in (("/v1/reports/kpis", ("start", "end")), ("/v1/reports/recurring-problems", ("as_of",)),
                        ("/v1/ledger/partners/swiftship/statement", ("period_start", "period_end"))):
        for name in names:
            for e in edges:
                req("instants at the edges", "GET", f"{R}{path}?{name}={quote(e)}", "finance", expect=(200, 422), note=e)
    # trailing slash on every GET of the services, with a forged Host
    for svc, doc in docs.items():
        for path, ops in doc["paths"].items():
            if "get" in ops and "{" not in path:
                r = c.get(BASE[svc] + path + "/", headers={**cm.h("ops_manager"), "Host": "evil.example"}, follow_redirects=False)
                cm.record("service trailing slash with a forged Host", "GET", path + "/", "", r,
                          (["Location from Host"] if "evil.example" in r.headers.get("location", "") else []) + (["5xx"] if r.status_code >= 500 else []) + (["not-problem"] if r.status_code >= 400 and "problem+json" not in r.headers.get("content-type", "") else []))
    # method override headers: a read must stay a read
    for hname in ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"):
        req("method override header", "GET", f"{BASE['fraud']}/v1/watchlist?limit=1", "ops_manager", expect=200, headers={hname: "DELETE"})
        req("method override header", "POST", f"{BASE['fraud']}/v1/watchlist?_method=GET", "ops_manager", expect=(422,), json={})
    # an encoded slash, dot segments and a backslash in an id
    for idv in ("a%2Fb", "a%2F..%2F..%2Fv1%2Fcases", "%5C..%5Cv1", "..%252F", "a%252Fb"):
        req("an encoded slash in an id", "GET", f"{BASE['intake']}/v1/returns/{idv}/events", "ops_manager", expect=(404, 422), note=idv)
        req("an encoded slash in an id", "GET", f"{R}/v1/cases/{idv}", "ops_manager", expect=(404, 422), note=idv)

print(json.dumps(cm.COUNTS, indent=1, default=str))
print("findings", len(cm.FINDINGS))
json.dump({"counts": cm.COUNTS, "findings": cm.FINDINGS}, open(os.environ.get("PROBE_OUT", "/work/wt/hostile9/bench-results/hostile9-20261207w34/probe-out.json"), "w"), indent=1, default=str)
