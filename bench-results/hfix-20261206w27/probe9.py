"""Partner webhooks and raw headers: the same unmapped webhook 20x at once (swiftship, rapidroute,
desipost) and how many raw_refs come back; an unreadable body 5x; Idempotency-Key sent as raw
bytes no client library sends (UTF-8, whitespace only, obs-text)."""
from common import *
import socket, uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, UTC
from disputedesk.simulate.signing import desipost_headers, rapidroute_headers, swiftship_headers

S = json.load(open("seeded.json")); ids = S["ids"]; TAG = S["tag"]
(r1, m1), (r2, m2), (r3, m3) = list(ids.items())
now = datetime.now(UTC)
def many(fn, n=20):
    with ThreadPoolExecutor(n) as ex:
        return list(ex.map(lambda _: fn(), range(n)))

# swiftship: same webhook-id and body 20x, status unmapped
body = json.dumps({"event": f"return.odd_{TAG.lower()}", "awb": m1["awb"], "return_ref": r1, "at": (now - timedelta(hours=1)).isoformat(),
                   "hub": "BLR-HSR-01", "agent": "AG-1", "weight_kg": 0.45, "photos": [], "otp_verified": False}).encode()
wid = "msg_" + uuid.uuid4().hex
sw = lambda: req("POST", I + "/v1/webhooks/swiftship", content=body, headers=swiftship_headers(CRED["SWIFTSHIP_SECRET"], body, webhook_id=wid))
answers = many(sw)
print("swiftship unmapped 20x:", sorted({a.status_code for a in answers}), "raw_refs", len({a.json().get("raw_ref") for a in answers}))
# rapidroute: one batch with an unmapped code 20x
batch = json.dumps({"events": [{"id": "ev_" + uuid.uuid4().hex[:12], "shipment": {"awb": m2["awb"], "ref": r2}, "status_code": "ZZQ",
                    "ts": int((now - timedelta(hours=1)).timestamp() * 1000), "location": {"hub": "DEL-OKH-02", "city": "New Delhi"},
                    "weight_g": 380, "images": [], "pod": {"method": "OTP", "verified": True}}]}, separators=(",", ":")).encode()
rr = lambda: req("POST", I + "/v1/webhooks/rapidroute", content=batch, headers=rapidroute_headers(CRED["RAPIDROUTE_SECRET"], batch))
answers = many(rr)
print("rapidroute unmapped 20x:", sorted({a.status_code for a in answers}), [a.text[:150] for a in answers[:1]], "raw_refs", len({a.json().get("raw_ref") for a in answers}))
snap = json.dumps({"awb": m3["awb"], "order_ref": r3, "is_return": True, "current_status": "ODD " + TAG, "weight": "0.45 kg",
                   "scans": [{"status": "ODD " + TAG, "date": (now - timedelta(hours=1) + timedelta(hours=5, minutes=30)).strftime("%d-%m-%Y %H:%M:%S"), "location": "Kolkata_Hub"}]}).encode()
dp = lambda: req("POST", I + "/v1/webhooks/desipost", content=snap, headers=desipost_headers(CRED["DESIPOST_API_KEY"]))
answers = many(dp)
print("desipost unmapped 20x:", sorted({a.status_code for a in answers}), [a.text[:150] for a in answers[:1]], "raw_refs", len({a.json().get("raw_ref") for a in answers}))
# an unreadable swiftship body 5x under one id
bad = b'{"event": 1}'
wid2 = "msg_" + uuid.uuid4().hex
answers = many(lambda: req("POST", I + "/v1/webhooks/swiftship", content=bad, headers=swiftship_headers(CRED["SWIFTSHIP_SECRET"], bad, webhook_id=wid2), expect=422), 5)
print("swiftship invalid 5x:", sorted({a.status_code for a in answers}), "raw_refs", len({a.json().get("raw_ref") for a in answers}))

# Idempotency-Key as raw bytes
def raw(key: bytes) -> str:
    payload = json.dumps({"return_id": r1, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 100, "description": "raw " + uuid.uuid4().hex[:6]}).encode()
    head = (b"POST /v1/escalations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + K["seller_portal"].encode() +
            b"\r\nContent-Type: application/json\r\nIdempotency-Key: " + key + b"\r\nContent-Length: " + str(len(payload)).encode() + b"\r\nConnection: close\r\n\r\n")
    s = socket.create_connection(("127.0.0.1", 21101), timeout=20); s.sendall(head + payload)
    out = b""
    while chunk := s.recv(65536): out += chunk
    return out.decode("utf-8", "replace")
for key in ["ключ".encode(), b"   ", b"\xff\xfe", b"a b", b"k" * 300]:
    out = raw(key)
    status = out.split("\r\n", 1)[0]
    print("idem raw", key[:12], status, out.split("\r\n\r\n", 1)[-1][:160])
    if " 5" in status[:13] or "problem+json" not in out and not status.split()[1].startswith("2"):
        FINDINGS.append(("idem raw", key[:20], status))
print("FINDINGS", len(FINDINGS))
