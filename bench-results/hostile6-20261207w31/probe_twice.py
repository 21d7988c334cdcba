import json, sys
sys.path.insert(0, '/tmp/h6p')
from common import req, docs
ROLE_KEY = {'admin':'DISPUTEDESK_KEY_ADMIN','ops_manager':'DISPUTEDESK_KEY_OPS_MANAGER','ops_agent':'DISPUTEDESK_KEY_OPS_AGENT','finance':'DISPUTEDESK_KEY_FINANCE','marketplace':'DISPUTEDESK_KEY_MARKETPLACE','seller_portal':'DISPUTEDESK_KEY_SELLER_PORTAL'}
sys.path.insert(0,'/work/wt/hostile6')
from tests.integration.test_hostile_sweep import OPERATIONS
bad = []
n = 0
for op in OPERATIONS:
    key = ROLE_KEY.get(op.roles[0] if op.roles else 'admin', 'DISPUTEDESK_KEY_ADMIN')
    path = op.path
    for p in op.path_params:
        path = path.replace('{'+p+'}', {'partner_id':'swiftship','month':'2026-11','version':'sop-v1'}.get(p, 'X-1'))
    if isinstance(op.example, dict) and op.example:
        k, v = next(iter(op.example.items()))
        body = json.dumps(op.example)
        twice = body[:-1] + ', ' + json.dumps(k) + ': ' + json.dumps(v) + '}'
        st, txt = req(op.service, op.method, path, key, twice.encode())
        n += 1
        if st < 400 or st >= 500 or k not in txt.decode(errors='replace'):
            bad.append((op.id, 'body', k, st, txt[:150]))
    for q, schema in op.query.items():
        val = {'integer':'5','boolean':'true','number':'1'}.get(schema.get('type'), '2026-11-01T00:00:00Z' if 'date-time' in repr(schema) else 'a')
        st, txt = req(op.service, 'GET' if op.method=='GET' else op.method, f'{path}?{q}={val}&{q}={val}', key, json.dumps(op.example).encode() if op.example is not None else None)
        n += 1
        if st < 400 or st >= 500:
            bad.append((op.id, 'query', q, st, txt[:150]))
print('probed', n)
for b in bad: print(b)
