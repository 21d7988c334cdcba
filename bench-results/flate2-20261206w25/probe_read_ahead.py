import asyncio, sys
from collections import Counter
import services.fraud.scoring.service as svc
calls = Counter()
orig_latest = svc.raise_at_latest_claims
orig_ahead = svc.raise_ahead
async def latest(session, scan, facts, cfg, **kw):
    calls["reassessed"] += 1
    return await orig_latest(session, scan, facts, cfg, **kw)
async def ahead(session, a, found, esc, subject):
    calls["read_ahead"] += 1
    if found:
        calls["alert_worthy"] += 1
        print("ALERT-WORTHY", [ (f.entity_id, f.code) for f in found], a.alert_at, flush=True)
    return await orig_ahead(session, a, found, esc, subject)
svc.raise_at_latest_claims = latest
svc.raise_ahead = ahead
import bench.fraud_batching as fb
sys.argv = ["x", "--seed", sys.argv[1], "--days", "35", "--batches", sys.argv[2], "--out", f"/tmp/flate2-probe-{sys.argv[1]}.json"]
asyncio.run(fb.main())
print("CALLS", dict(calls))
