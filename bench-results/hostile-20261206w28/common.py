"""Client and checks for the probe of `disputedesk run` on ports 25101-25105 (stack 25092/25432/25025):
a finding is a 5xx, an error that is not problem+json, a traceback in a body, an answer over 2 s,
or a status other than the one a careful client expects."""
import json, os, time, httpx

S = os.environ.get("PROBE_STATE", "/work/wt/hostile/.state/run")
CRED = dict(
    l.strip().split("=", 1)
    for l in open(f"{S}/dev-credentials.env")
    if "=" in l and not l.startswith("#")
)
K = {k[len("DISPUTEDESK_KEY_"):].lower(): v for k, v in CRED.items() if k.startswith("DISPUTEDESK_KEY_")}
K["portal2"] = "probe-portal-2-key-aaaaaaaaaaaaaaaaaaaa"
K["warehouse"] = "probe-warehouse-key-bbbbbbbbbbbbbbbbbbb"
I, R, F, N, C = (f"http://127.0.0.1:{p}" for p in (25101, 25102, 25103, 25104, 25105))
c = httpx.Client(timeout=30)
FINDINGS = []
LOG = []


def h(role, **extra):
    d = {"Authorization": f"Bearer {K[role]}"} if role else {}
    d.update(extra)
    return d


def req(method, url, role=None, expect=None, note="", **kw):
    headers = kw.pop("headers", {})
    t = time.monotonic()
    try:
        r = c.request(method, url, headers={**h(role), **headers}, **kw)
    except Exception as e:
        FINDINGS.append(("EXC", method, url, note, repr(e)))
        print("EXC", method, url, note, e)
        return None
    dt = time.monotonic() - t
    ct = r.headers.get("content-type", "")
    bad = []
    if r.status_code >= 500:
        bad.append("5xx")
    if r.status_code >= 400 and "problem+json" not in ct and method != "HEAD":
        bad.append("not-problem")
    if dt > 2:
        bad.append(f"slow {dt:.1f}s")
    if "Traceback" in r.text:
        bad.append("trace")
    if expect is not None and r.status_code not in (expect if isinstance(expect, (tuple, list)) else (expect,)):
        bad.append(f"expected {expect}")
    LOG.append((method, url[:100], note, r.status_code))
    if bad:
        FINDINGS.append((bad, method, url, note, r.status_code, r.text[:300]))
        print("!!", bad, method, url[:120], note, r.status_code, r.text[:300])
    return r
