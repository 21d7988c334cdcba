"""Add probe keys to the run's keyring: a second seller, a second agent, a manager whose key we hold."""
import json, sys
from shared.auth import hash_key
path = sys.argv[1]
d = json.load(open(path))
have = {k["client_id"] for k in d["keys"]}
extra = [
    ("probe-portal-2-key-aaaaaaaaaaaaaaaaaaaa", {"client_id": "portal:S-DEMO-2", "roles": ["seller_portal"], "seller_id": "S-DEMO-2"}),
    ("probe-agent-2-key-cccccccccccccccccccccc", {"client_id": "agent.bo", "roles": ["ops_agent"], "seller_id": None}),
    ("probe-manager-2-key-dddddddddddddddddddd", {"client_id": "manager.zoe", "roles": ["ops_manager"], "seller_id": None}),
    ("probe-warehouse-key-bbbbbbbbbbbbbbbbbbb", {"client_id": "wh.ana", "roles": ["ops_agent"], "seller_id": None, "team": "warehouse"}),
    ("probe-adminmgr-key-eeeeeeeeeeeeeeeeeeeee", {"client_id": "admin.mgr", "roles": ["admin", "ops_manager"], "seller_id": None}),
]
for raw, e in extra:
    if e["client_id"] not in have:
        d["keys"].append({"key_hash": hash_key(raw), **e})
json.dump(d, open(path, "w"), indent=2)
print("ok")
