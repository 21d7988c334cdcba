"""hostile10's probe of `disputedesk run` (ports 19801-19805, startrun.sh): what no earlier round
sent. A finding is a 5xx, a traceback in a body, a refusal of a service not problem+json or
naming no field where one is wrong, and on the console a refusal in the wrong type for the
client (HTML for a browser, problem+json for a JSON client) or without the security headers."""
import json, os, socket, sys, uuid
import httpx

S = "/work/wt/hostile10/.state/test"
CRED = dict(l.strip().split("=", 1) for l in open(f"{S}/dev-credentials.env") if "=" in l and not l.startswith("#"))
K = {k[len("DISPUTEDESK_KEY_"):].lower(): v for k, v in CRED.items() if k.startswith("DISPUTEDESK_KEY_")}
PORTS = {"intake": 19801, "reconciliation": 19802, "fraud": 19803, "notifications": 19804, "console": 19805}
BASE = {s: f"http://127.0.0.1:{p}" for s, p in PORTS.items()}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON_FIRST = "application/json, text/html;q=0.5"
SEC = ("content-security-policy", "x-content-type-options", "x-frame-options", "cache-control")
c = httpx.Client(timeout=60)
FINDINGS, COUNTS = [], {}


def note(cls, status, bad, what, text=""):
    COUNTS.setdefault(cls, {}).setdefault(str(status), 0)
    COUNTS[cls][str(status)] += 1
    if "Traceback" in text:
        bad = [*bad, "traceback"]
    if isinstance(status, int) and status >= 500:
        bad = [*bad, "5xx"]
    if bad:
        FINDINGS.append({"class": cls, "bad": bad, "what": what, "status": status, "body": text[:300]})
        print("!!", cls, bad, what, status, text[:200])


def raw(port, request: bytes) -> tuple[int, dict, str]:
    """One request as bytes on a fresh connection (headers httpx would not send: repeats,
    non-ASCII), the answer's status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0].split(b":")[1]):
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body.decode("utf-8", "replace")


# 1. the console's refusals made before any page (the request layer), for a browser and a JSON client
big = b"note=" + b"x" * (1024 * 1024 + 1)
PRE = [
    ("control character in a query value", b"GET /reports?start=2026%01 HTTP/1.1\r\n", b"", 422),
    ("control character in a path segment", b"GET /cases/C-%00 HTTP/1.1\r\n", b"", 422),
    ("markup query name with a control character", b"GET /reports?%3Cscript%3E=%07 HTTP/1.1\r\n", b"", 422),
    ("body over 1 MiB declared", b"POST /sign-in HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(big), big, 413),
    ("Content-Type twice", b"POST /sign-in HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Type: application/json\r\nContent-Length: 5\r\n", b"key=x", 400),
    ("U+202E in Idempotency-Key", b"GET /reports HTTP/1.1\r\nIdempotency-Key: a\xe2\x80\xaeb\r\n", b"", 422),
    ("gzip body", b"POST /sign-in HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n", b"key=x", 415),
]
for name, start, body, want in PRE:
    for who, accept in (("browser", BROWSER), ("no Accept", None), ("json", "application/json"), ("json-first", JSON_FIRST)):
        req = start + b"Host: console.probe\r\nConnection: close\r\n" + (f"Accept: {accept}\r\n".encode() if accept else b"") + b"\r\n" + body
        status, headers, text = raw(PORTS["console"], req)
        bad = []
        if status != want:
            bad.append(f"status {status} not {want}")
        ctype = headers.get("content-type", "")
        if who in ("browser", "no Accept") and not ctype.startswith("text/html"):
            bad.append(f"{ctype} to a browser")
        if who.startswith("json") and "problem+json" not in ctype:
            bad.append(f"{ctype} to a JSON client")
        missing = [h for h in SEC if h not in headers]
        if missing:
            bad.append("no " + ", ".join(missing))
        if "<script>" in text and ctype.startswith("text/html"):
            bad.append("markup unescaped")
        note("console request layer", status, bad, f"{name} / {who}", text)

# 2. the same refusals on the services, for a browser: their answers are problem+json, always
for svc in ("intake", "reconciliation", "fraud", "notifications"):
    for name, start, body, want in PRE:
        start = start.replace(b"/reports", b"/v1/cases").replace(b"/sign-in", b"/v1/escalations").replace(b"/cases/C-", b"/v1/cases/C-")
        req = start + b"Host: svc.probe\r\nConnection: close\r\nAccept: " + BROWSER.encode() + b"\r\n\r\n" + body
        status, headers, text = raw(PORTS[svc], req)
        bad = [] if "problem+json" in headers.get("content-type", "") else ["not problem+json"]
        if status != want:
            bad.append(f"status {status} not {want}")
        note("services request layer (browser Accept)", status, bad, f"{svc} {name}", text)

# 3. Content-Type and charset edge cases on a JSON body, every service's POST
refund = {"refund_id": f"RF-{uuid.uuid4().hex[:8]}", "return_id": "RET-H10-NONE", "order_id": "O-1", "amount": 100, "issued_at": "2026-12-07T10:00:00Z"}
POSTS = [("intake", "/v1/refunds", "marketplace", refund),
         ("fraud", "/v1/watchlist", "ops_manager", {"entity_type": "seller", "entity_id": "S-H10-CT", "reason": "probe é"}),
         ("notifications", "/v1/suppressions", "ops_manager", {"address": "h10-ct@example.com"}),
         ("reconciliation", "/v1/policy/versions", "ops_manager", {"version": "h10-ct"})]
TYPES = [
    ("application/json; charset=utf-16", "utf-16"),
    ("application/json; charset=utf-16le", "utf-16-le"),
    ("application/json; charset=latin-1", "latin-1"),
    ("application/json; charset=shift_jis", "utf-8"),
    ('application/json; charset="UTF-8"', "utf-8"),
    ("APPLICATION/JSON", "utf-8"),
    ("application/json;;", "utf-8"),
    ("application/jsonx", "utf-8"),
    ("application/json-seq", "utf-8"),
    ("application/merge-patch+json", "utf-8"),
    ("text/plain", "utf-8"),
    ("text/json", "utf-8"),
    ("application/x-www-form-urlencoded", "utf-8"),
    ("multipart/form-data; boundary=x", "utf-8"),
    ("", "utf-8"),
    (None, "utf-8"),
    ("application/json", "utf-8-sig"),
    ("application/json", "utf-16"),
]
for svc, path, role, body in POSTS:
    for ctype, enc in TYPES:
        text = json.dumps(body, ensure_ascii=False)
        headers = {"Authorization": f"Bearer {K[role]}", "Idempotency-Key": str(uuid.uuid4())}
        if ctype is not None:
            headers["Content-Type"] = ctype
        r = c.post(BASE[svc] + path, content=text.encode(enc), headers=headers)
        bad = []
        if r.status_code >= 400 and "problem+json" not in r.headers.get("content-type", ""):
            bad.append("not problem+json")
        if r.status_code in (400, 415, 422) and not r.json().get("errors"):
            bad.append("names no field")
        note("content type and charset", r.status_code, bad, f"{svc} {path} {ctype!r} body {enc}", r.text)

# 4. paise beyond int64 and other numbers that are not paise, on a refund's amount (JSON text sent as is)
for amount in ["9223372036854775807", "9223372036854775808", "18446744073709551616", "-9223372036854775809",
               "1" + "0" * 400, "1e20", "1e400", "100.0", "100.5", "1E2", "\"100\"", "true", "null", "-0", "0x64", "1_000"]:
    text = json.dumps({**refund, "refund_id": f"RF-{uuid.uuid4().hex[:8]}", "amount": 0}).replace('"amount": 0', f'"amount": {amount}')
    r = c.post(BASE["intake"] + "/v1/refunds", content=text, headers={"Authorization": f"Bearer {K['marketplace']}", "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
    bad = []
    if r.status_code < 400 and amount not in ("100.0", "1E2"):
        bad.append("accepted")
    invalid_json = amount in ("0x64", "1_000")  # not JSON at all: the body is what is wrong
    if r.status_code == 422 and ("body" if invalid_json else "body.amount") not in [e["field"] for e in r.json().get("errors", [])]:
        bad.append("does not name body.amount")
    if r.status_code >= 400 and "problem+json" not in r.headers.get("content-type", ""):
        bad.append("not problem+json")
    note("amounts beyond int64 / not integers", r.status_code, bad, f"amount {amount[:30]}", r.text)

json.dump({"counts": COUNTS, "findings": FINDINGS}, open(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdout", "w"), indent=1)
print("findings:", len(FINDINGS), "requests:", sum(sum(v.values()) for v in COUNTS.values()))
