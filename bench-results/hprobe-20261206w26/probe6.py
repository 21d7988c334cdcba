"""Error amplification: bodies whose refusal lists one error per item or key."""
from common import *
S = json.load(open("seeded.json")); ids = S["ids"]
r1 = list(ids)[0]; e1 = ids[r1]["esc"]
def timed(label, method, url, role, content, ctype="application/json"):
    t = time.monotonic()
    r = req(method, url, role, content=content, headers={"content-type": ctype})
    dt = time.monotonic() - t
    print(f"{label}: {r.status_code} {dt:.2f}s {len(r.content)} bytes; errors={len(r.json().get('errors', [])) if r.headers.get('content-type','').endswith('json') else '-'}")
# 60k unknown keys in a 1 MB body
body = {"return_id": r1, "seller_id": "S-DEMO-1", "claim_type": "DAMAGED", "claimed_amount": 1, "description": "x"}
body.update({f"k{i}": 1 for i in range(80000)})
raw = json.dumps(body, separators=(",", ":")).encode(); print("size", len(raw))
timed("80k unknown keys /v1/escalations", "POST", I + "/v1/escalations", "seller_portal", raw[: 1024 * 1024 - 10] if len(raw) > 1024*1024 else raw)
# 100k bad evidence items
items = ",".join(["1"] * 150000)
raw = ('{"evidence":[' + items + ']}').encode(); print("size", len(raw))
timed("150k bad evidence items", "POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", raw)
# each item an object missing every field
raw = ('{"evidence":[' + ",".join(["{}"] * 150000) + ']}').encode(); print("size", len(raw))
timed("150k empty evidence items", "POST", I + f"/v1/escalations/{e1}/evidence", "seller_portal", raw)
# a policy draft with many changes
raw = ('{"based_on":"sop-v1","changes":{' + ",".join(f'"c{i}":1' for i in range(70000)) + '}}').encode(); print("size", len(raw))
timed("70k policy changes", "POST", R + "/v1/policies", "ops_manager", raw)
# labels / watchlist: arrays
for port_url, role in [(N + "/v1/suppressions", "ops_manager"), (F + "/v1/watchlist", "ops_agent"), (F + "/v1/labels", "ops_agent"), (R + f"/v1/cases/X/notes", "ops_agent"), (I + "/v1/returns", "marketplace")]:
    raw = ("[" + ",".join(["{}"] * 150000) + "]").encode()
    timed(f"150k array {port_url}", "POST", port_url, role, raw)
    raw = ('{' + ",".join(f'"k{i}":[{{}}]' for i in range(60000)) + '}').encode()
    timed(f"60k unknown keys {port_url}", "POST", port_url, role, raw)
print("findings", len(FINDINGS))
