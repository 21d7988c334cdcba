from common import *
import uuid, concurrent.futures as cf, re
S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
r1, r2, r3 = list(ids)
# D. metrics cardinality / reflection of path values into labels
junk = f"zzprobe{uuid.uuid4().hex[:8]}"
req("POST", I + f"/v1/webhooks/{junk}", None, json={})
req("GET", R + f"/v1/cases/{junk}", "ops_agent")
req("GET", F + f"/v1/risk/seller/{junk}", "ops_agent")
req("GET", N + f"/v1/sellers/{junk}", "marketplace")
req("GET", I + f"/{junk}", None)
for base in (I, R, F, N):
    m = c.get(base + "/metrics").text
    if junk in m: print("!! metrics label carries a path value", base, [l for l in m.splitlines() if junk in l][:3])
    if "@" in m: print("!! @ in metrics", base, [l for l in m.splitlines() if "@" in l][:3])
    if "S-DEMO" in m: print("?? seller id in metrics", base, [l for l in m.splitlines() if "S-DEMO" in l][:3])
# G. method confusion on every path
for base, port in ((I, 28101), (R, 28102), (F, 28103), (N, 28104)):
    spec = json.load(open(f"openapi-{port}.json"))
    for path in spec["paths"]:
        p = re.sub(r"\{[^}]+\}", "X1", path)
        for m in ("PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "POST", "GET"):
            r = req(m, base + p, "ops_manager")
            if r is not None and r.status_code == 405 and "allow" not in r.headers: print("!! 405 without Allow", m, p)
print("findings", len(FINDINGS))
