"""Client and checks for the hostile8 probe of `disputedesk run` (ports 21101-21105, stack
21092/21432/21025). A finding is a 5xx, a refusal that is not problem+json, an error naming no
field, a traceback in a body, or a status other than the one a careful client expects."""
import json, os, time, uuid, httpx

S = os.environ.get("PROBE_STATE", "/work/wt/hostile8/.state/test")
CRED = dict(l.strip().split("=", 1) for l in open(f"{S}/dev-credentials.env") if "=" in l and not l.startswith("#"))
K = {k[len("DISPUTEDESK_KEY_"):].lower(): v for k, v in CRED.items() if k.startswith("DISPUTEDESK_KEY_")}
K["portal2"] = "probe-portal-2-key-aaaaaaaaaaaaaaaaaaaa"
K["agent2"] = "probe-agent-2-key-cccccccccccccccccccccc"
K["manager2"] = "probe-manager-2-key-dddddddddddddddddddd"
K["warehouse"] = "probe-warehouse-key-bbbbbbbbbbbbbbbbbbb"
K["adminmgr"] = "probe-adminmgr-key-eeeeeeeeeeeeeeeeeeeee"
PORTS = {"intake": 21101, "reconciliation": 21102, "fraud": 21103, "notifications": 21104, "console": 21105}
BASE = {s: f"http://127.0.0.1:{p}" for s, p in PORTS.items()}
I, R, F, N, C = (BASE[s] for s in ("intake", "reconciliation", "fraud", "notifications", "console"))
c = httpx.Client(timeout=60)
FINDINGS: list = []
COUNTS: dict = {}


def h(role, **extra):
    d = {"Authorization": f"Bearer {K[role]}"} if role else {}
    d.update(extra)
    return d


def record(cls, method, url, note, r, bad):
    COUNTS.setdefault(cls, {})
    COUNTS[cls][r.status_code if r is not None else "EXC"] = COUNTS[cls].get(r.status_code if r is not None else "EXC", 0) + 1
    if bad:
        FINDINGS.append({"class": cls, "bad": bad, "method": method, "url": url[:160], "note": note,
                         "status": r.status_code if r is not None else None, "body": r.text[:400] if r is not None else ""})
        print("!!", cls, bad, method, url[:120], note, r.status_code if r is not None else None, (r.text[:300] if r is not None else ""))


def req(cls, method, url, role=None, expect=None, note="", idem=True, **kw):
    headers = {**h(role), **kw.pop("headers", {})}
    if idem and method in ("POST", "PUT", "DELETE") and "Idempotency-Key" not in headers:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    t = time.monotonic()
    try:
        try:
            r = c.request(method, url, headers=headers, **kw)
        except httpx.RemoteProtocolError:
            r = c.request(method, url, headers=headers, **kw)  # the server closed a kept-alive connection
    except Exception as e:  # noqa: BLE001
        FINDINGS.append({"class": cls, "bad": ["EXC"], "method": method, "url": url, "note": note, "exc": repr(e)})
        print("EXC", cls, method, url, note, e)
        COUNTS.setdefault(cls, {})["EXC"] = COUNTS.get(cls, {}).get("EXC", 0) + 1
        return None
    dt = time.monotonic() - t
    ct = r.headers.get("content-type", "")
    bad = []
    if r.status_code >= 500:
        bad.append("5xx")
    if r.status_code >= 400 and method != "HEAD":
        if "problem+json" not in ct:
            bad.append("not-problem")
        else:
            try:
                doc = r.json()
                if r.status_code in (400, 422) and not doc.get("errors"):
                    bad.append("no-field")
            except ValueError:
                bad.append("bad-json")
    if dt > 5:
        bad.append(f"slow {dt:.1f}s")
    if "Traceback" in r.text:
        bad.append("trace")
    if expect is not None and r.status_code not in (expect if isinstance(expect, (tuple, list, set, range)) else (expect,)):
        bad.append(f"expected {expect}")
    record(cls, method, url, note, r, bad)
    return r


def openapi():
    return {s: c.get(BASE[s] + "/openapi.json").json() for s in ("intake", "reconciliation", "fraud", "notifications")}


def dump(path):
    json.dump({"counts": COUNTS, "findings": FINDINGS}, open(path, "w"), indent=1, default=str)
