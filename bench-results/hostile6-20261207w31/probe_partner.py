import json, urllib.request, urllib.error, uuid
env = dict(l.strip().split('=',1) for l in open('/work/wt/hostile6/.state/test/dev-credentials.env') if '=' in l and not l.startswith('#'))
P = {'intake':26101,'reconciliation':26102,'fraud':26103,'notifications':26104}
def req(svc, method, path, key, body=None, headers=None):
    h = {'Authorization': f'Bearer {env[key]}'}
    h.update(headers or {})
    data=None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode(); h['content-type']='application/json'
    h.setdefault('Idempotency-Key', str(uuid.uuid4())) if method!='GET' else None
    r = urllib.request.Request(f'http://127.0.0.1:{P[svc]}{path}', data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(r) as resp: return resp.status, resp.read()[:300]
    except urllib.error.HTTPError as e: return e.code, e.read()[:300]
docs = {s: json.load(urllib.request.urlopen(f'http://127.0.0.1:{p}/openapi.json')) for s,p in P.items()}
def example(svc, method, path):
    op = docs[svc]['paths'][path][method.lower()]
    c = (op.get('requestBody') or {}).get('content',{}).get('application/json',{})
    return c.get('example')
cases = [
 ('intake','GET','/v1/admin/partners/{p}/status-mappings','DISPUTEDESK_KEY_ADMIN',None),
 ('intake','POST','/v1/admin/partners/{p}/status-mappings','DISPUTEDESK_KEY_ADMIN','ex'),
 ('intake','POST','/v1/admin/partners/{p}/secrets','DISPUTEDESK_KEY_ADMIN','ex'),
 ('intake','GET','/v1/admin/unmapped-statuses?partner_id={p}','DISPUTEDESK_KEY_ADMIN',None),
 ('reconciliation','GET','/v1/cases?partner_id={p}','DISPUTEDESK_KEY_OPS_AGENT',None),
 ('reconciliation','GET','/v1/ledger/partners/{p}/statement?period_start=2026-11-01T00:00:00Z&period_end=2026-11-08T00:00:00Z','DISPUTEDESK_KEY_FINANCE',None),
 ('reconciliation','PUT','/v1/partner-endpoints/{p}','DISPUTEDESK_KEY_ADMIN','ex'),
 ('reconciliation','POST','/v1/partner-endpoints/{p}/enabled','DISPUTEDESK_KEY_ADMIN','ex'),
 ('reconciliation','GET','/v1/partner-notices?partner_id={p}','DISPUTEDESK_KEY_FINANCE',None),
 ('reconciliation','GET','/v1/partner-statements/{p}/2026-11','DISPUTEDESK_KEY_FINANCE',None),
 ('reconciliation','POST','/v1/partner-statements/{p}/2026-11/issue','DISPUTEDESK_KEY_FINANCE','ex'),
 ('fraud','GET','/v1/risk/hub/{p}','DISPUTEDESK_KEY_OPS_AGENT',None),
]
for svc, m, tmpl, key, body in cases:
    raw = tmpl.split('?')[0].replace('{p}','{partner_id}').replace('2026-11','{month}')
    ex = example(svc, m, raw) if body=='ex' else None
    for p in ('swiftship','SwiftShip'):
        b = ex
        if body=='ex' and b is None: b = {}
        st, txt = req(svc, m, tmpl.replace('{p}', p), key, b)
        print(f'{svc:14} {m:4} {tmpl[:60]:60} {p:10} {st} {txt[:140]!r}')
