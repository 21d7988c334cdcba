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
