"""Classes around the three fixes: numbers, addresses, lists, ids, headers, on every body route
that a seeded return reaches. Prints each answer that is a finding (common.py) and the
`accepted` lines a careful client would expect refused."""
from common import *
import gzip, uuid
from datetime import datetime, timedelta, UTC

S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
r1, r2, r3 = list(ids); e1 = ids[r1]["esc"]
ACCEPTED = []
def note_ok(r, label, refuse):
    ok = r is not None and r.status_code < 300
    if ok and refuse:
        ACCEPTED.append((label, r.status_code, r.text[:160])); print("ACCEPTED", label, r.status_code, r.text[:160])
    elif r is not None:
        print(label, r.status_code, r.text[:140])
now = datetime.now(UTC)
iso = lambda d: d.isoformat().replace("+00:00", "Z")

def feed(n, **over):
    body = {"return_id": f"RET-Q{TAG}-{n}", "order_id": f"O-Q{TAG}-{n}", "seller_id": "S-DEMO-1", "buyer_id": f"B-{TAG}",
            "category": "electronics", "item_value": 249900, "qc_required": False, "partner_id": "swiftship",
            "awb": f"SSQ{TAG}{n}", "initiated_at": iso(now - timedelta(days=2))}
    body.update(over); return body

# --- numbers: item_value / amount / claimed_amount / rating / weight / payout_pct
n = 0
for field, values in {"item_value": [-1, 0, 1, 10**10, 10**10 + 1, 2**63, 1.5, "1", True, 1e300]}.items():
    for v in values:
        n += 1
        r = req("POST", I + "/v1/returns", "marketplace", json=feed(n, **{field: v}))
        note_ok(r, f"feed {field}={v!r}", refuse=not (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10**10))
for v in [-1, 0, 2**31, 10**9, 1.5, "812"]:
    r = req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json={"received_weight_g": v})
    note_ok(r, f"evidence received_weight_g={v!r}", refuse=not (isinstance(v, int) and 0 < v < 10**8))

# --- addresses: evidence, seller_email, directory emails and phone
ev = lambda uri: {"evidence": [{"kind": "PHOTO", "uri": uri, "sha256": uuid.uuid4().hex * 2, "captured_at": iso(now - timedelta(hours=1))}]}
for uri in ["http://evidence.example/a.jpg", "https://u:p@evidence.example/a.jpg", "https://u@evidence.example/a.jpg",
            "HTTPS://EVIDENCE.example/a.jpg", "https://evidence.example/a.jpg#frag", "https://[::1]/a.jpg", "https://127.0.0.1:21104/metrics",
            "https://evidence.example/" + "a" * 5000, "https:evidence.example/a", "https:///a", "https://xn--80ak6aa92e.com/a", "https://еvidence.example/a"]:
    r = req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json=ev(uri))
    note_ok(r, f"evidence uri {uri[:60]}", refuse=uri.startswith(("http://", "https://u")))
for email in ["a@b", "a@b.c", "A@EXAMPLE.COM", "a@b.c ", " a@b.c", "Name <a@b.c>", "a@b.c,d@e.f", "a@@b.c", "a" * 250 + "@b.co", "a@-b.c", "a@b..c", "a@b.c."]:
    r = req("POST", I + "/v1/escalations", "seller_portal", json={"return_id": r1, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED",
             "claimed_amount": 100, "description": "probe", "seller_email": email})
    print("seller_email", repr(email)[:40], r.status_code if r else None, r.text[:120] if r else "")
for emails, phone in [(["a@x.com", "a@x.com"], None), (["a@x.com", "A@X.COM"], None), (["a@x.com"], "+91"), (["a@x.com"], "+919876543210\n"), (["a@x.com"], "+0919876543210"), ([], None), (["a@x.com"] * 6, None)]:
    r = req("PUT", N + "/v1/sellers/S-PROBE-" + TAG, "marketplace", json={"emails": emails, "phone": phone})
    note_ok(r, f"directory emails={emails[:2]} phone={phone!r}", refuse=len(set(e.lower() for e in emails)) != len(emails) or phone not in (None,) or not emails or len(emails) > 5)

# --- lists: empty, duplicates, 10^5
dup = {"kind": "PHOTO", "uri": "https://evidence.example/d.jpg", "sha256": "b" * 64, "captured_at": iso(now - timedelta(hours=1))}
r = req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json={"evidence": [dup, dup, dup]})
note_ok(r, "evidence same item 3x in one request", refuse=False)
r = req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json={"evidence": []})
note_ok(r, "evidence []", refuse=True)
r = req("POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", json={"evidence": [dup] * 100000})
note_ok(r, "evidence 10^5 items", refuse=True)

# --- ids: case, whitespace, look-alikes, 10^4 chars, in path and body
for rid in [r1.lower(), f" {r1}", f"{r1} ", r1.replace("E", "Е"), "R" * 10000, r1 + "%00", r1 + "%2F..", "..", "%E2%80%8B" + r1]:
    r = req("GET", I + f"/v1/escalations?return_id={rid}", "ops_agent")
    note_ok(r, f"list escalations return_id={rid[:30]!r}", refuse=rid != r1 and rid != r1.lower())
    r = req("POST", I + f"/v1/escalations", "seller_portal", json={"return_id": rid, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 100, "description": "id probe"})
    note_ok(r, f"escalation return_id={rid[:30]!r}", refuse=rid != r1.lower())
for path in [f"/v1/escalations/{e1.lower()}", f"/v1/escalations/{e1}%20", f"/v1/escalations/{'E' * 10000}", "/v1/escalations/%C0%AF", "/v1/escalations/ESC-%D0%95"]:
    req("GET", I + path, "ops_agent", note="id path")

# --- headers: Idempotency-Key and Content-Type variants, gzip, chunked
base = lambda: {"return_id": r1, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 100, "description": "hdr probe " + uuid.uuid4().hex[:6]}
for key in ["", " ", "k" * 256, "k" * 10000, "ключ", "a\tb", "a,b", "\"quoted\""]:
    try:
        r = req("POST", I + "/v1/escalations", "seller_portal", json=base(), headers={"Idempotency-Key": key}, note=f"idem {key[:10]!r}")
        print("idem", repr(key)[:20], r.status_code if r else None, r.text[:120] if r else "")
    except Exception as e:
        print("idem client refused", repr(key)[:20], e)
for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin-1", "application/json;charset=UTF-8", "APPLICATION/JSON", "application/merge-patch+json", "application/vnd.api+json", ""]:
    r = req("POST", I + "/v1/escalations", "seller_portal", content=json.dumps(base()).encode(), headers={"Content-Type": ct}, note=f"ct {ct}")
    print("content-type", repr(ct), r.status_code if r else None, r.text[:140] if r else "")
r = req("POST", I + "/v1/escalations", "seller_portal", content=gzip.compress(json.dumps(base()).encode()), headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}, note="gzip")
print("gzip", r.status_code, r.text[:120])
def chunks():
    data = json.dumps(base()).encode()
    for i in range(0, len(data), 7):
        yield data[i:i + 7]
r = req("POST", I + "/v1/escalations", "seller_portal", content=chunks(), headers={"Content-Type": "application/json"}, note="chunked")
print("chunked", r.status_code, r.text[:120])

print("FINDINGS", len(FINDINGS)); print("ACCEPTED", len(ACCEPTED))
json.dump({"findings": FINDINGS, "accepted": ACCEPTED}, open("probe7-out.json", "w"), indent=1, default=str)
