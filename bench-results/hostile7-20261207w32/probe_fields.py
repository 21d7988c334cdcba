"""Every operation of the four OpenAPI documents, by its published example: each string leaf
64 KiB long, each array empty and 10,000 items long, free-form objects nested 40 deep.
Roles found by sending `{}` (403 comes before the body is read)."""
import copy, sys
from common import *

seeded = json.load(open("seeded.json"))
rid, info = next(iter(seeded["ids"].items()))
docs = openapi()
cases = c.get(R + "/v1/cases?limit=50", headers=h("ops_manager")).json()["items"]
case_of = {x["return_id"]: x["case_id"] for x in cases}
FILL = {"case_id": case_of.get(rid), "escalation_id": info["esc"], "return_id": rid, "partner_id": "swiftship",
        "seller_id": "S-DEMO-1"}
ROLES = ["ops_manager", "ops_agent", "finance", "admin", "marketplace", "seller_portal", "partner_swiftship"]


def fill_path(path, op):
    for p in op.get("parameters", []):
        if p["in"] == "path":
            v = FILL.get(p["name"]) or p.get("example") or (p.get("schema") or {}).get("example") or "X-1"
            path = path.replace("{" + p["name"] + "}", str(v))
    return path


def role_for(svc, method, url):
    for role in ROLES:
        r = req("role-finding", method, url, role, json={}) if method in ("POST", "PUT") else req("role-finding", method, url, role)
        if r.status_code not in (401, 403):
            return role
    return None


def leaves(v, path=()):
    if isinstance(v, dict):
        yield path, v
        for k, x in v.items():
            yield from leaves(x, path + (k,))
    elif isinstance(v, list):
        yield path, v
        for i, x in enumerate(v):
            yield from leaves(x, path + (i,))
    else:
        yield path, v


def set_at(body, path, value):
    b = copy.deepcopy(body)
    t = b
    for p in path[:-1]:
        t = t[p]
    t[path[-1]] = value
    return b


def nested(n):
    d = {"v": 1}
    for _ in range(n):
        d = {"k": d}
    return d


accepted = []
for svc, doc in docs.items():
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "put", "patch"):
                continue
            ex = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("example")
            if ex is None:
                continue
            url = BASE[svc] + fill_path(path, op)
            role = role_for(svc, method.upper(), url)
            if role is None:
                print("no role", svc, method, path)
                continue
            for lp, v in leaves(ex):
                if not lp:
                    continue
                muts = []
                if isinstance(v, str):
                    muts.append(("64KiB", "é" * 32768))
                elif isinstance(v, list):
                    muts.append(("empty-array", []))
                    muts.append(("10k-array", [v[0] if v else "x"] * 10000))
                elif isinstance(v, dict):
                    muts.append(("nested40", nested(40)))
                for name, val in muts:
                    body = set_at(ex, lp, val)
                    r = req("fields:" + name, method.upper(), url, role, note=f"{svc} {path} {'.'.join(map(str, lp))}", json=body)
                    if r is not None and r.status_code < 300:
                        accepted.append((name, svc, method, path, ".".join(map(str, lp)), r.status_code))
                        print("2xx", name, svc, method, path, lp, r.status_code)
json.dump(accepted, open("fields-accepted.json", "w"), indent=1)
dump("probe_fields-out.json")
print("done", {k: v for k, v in COUNTS.items()})
