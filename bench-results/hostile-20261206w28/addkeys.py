"""Add probe keys to the run's keyring: a second seller portal key and a warehouse-bound agent."""
import json, sys
from shared.auth import hash_key
path = sys.argv[1]
d = json.load(open(path))
have = {k["client_id"] for k in d["keys"]}
extra = [
    ("probe-portal-2-key-aaaaaaaaaaaaaaaaaaaa", {"client_id": "portal:S-DEMO-2", "roles": ["seller_portal"], "seller_id": "S-DEMO-2"}),
    ("probe-warehouse-key-bbbbbbbbbbbbbbbbbbb", {"client_id": "wh.ana", "roles": ["ops_agent"], "seller_id": None, "team": "warehouse"}),
]
for raw, e in extra:
    if e["client_id"] not in have:
        d["keys"].append({"key_hash": hash_key(raw), **e})
json.dump(d, open(path, "w"), indent=2)
print("ok")
