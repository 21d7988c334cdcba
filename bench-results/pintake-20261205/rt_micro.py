"""Client-side CPU of one asyncpg fetchrow: SELECT 1 against the webhook's one-request statement
as it was at ba2ae09 (run with CHECKOUT=<checkout of ba2ae09>; the DSN of a migrated intake
database as the argument). Scans of unannounced returns: the statement runs whole, writes
nothing."""
import asyncio, os, time, json, uuid, datetime, sys
sys.path.insert(0, os.environ.get("CHECKOUT", "."))
import asyncpg
from services.intake.partners import repository as r
from shared.db import json_text

DSN = sys.argv[1]

def params():
    now = datetime.datetime.now(datetime.timezone.utc)
    rid = uuid.uuid4()
    row = {"event_id": uuid.uuid4(), "partner_id": "swiftship", "partner_event_id": str(uuid.uuid4()),
           "return_id": "RET-NOPE-" + uuid.uuid4().hex[:8], "event_type": "picked_up", "occurred_at": now,
           "raw_ref": rid, "payload": {"a": 1, "b": "x" * 300}, "recorded_at": now, "ce_type": "t",
           "ce_source": "s", "ce_time": now, "ce_subject": "x", "topic": "t", "key": "k",
           "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01", "awb": "AWB1", "ordinal": 0}
    p = {"rows": json_text([row]), "raw_id": rid, "partner_id": "swiftship", "received_at": now,
         "headers": json_text({"h": "v" * 100}), "body": b"x" * 600, "outcomes": json_text([{"verdict": "a", "detail": None}] * 2)}
    return [p[n] for n in r._RECORD_OWNED_ORDER]

async def main():
    c = await asyncpg.connect(DSN)
    for label, sql, mk in [("select1", "SELECT 1", lambda: []), ("webhook", r._RECORD_OWNED_SQL, params),
                           ("select1", "SELECT 1", lambda: []), ("webhook", r._RECORD_OWNED_SQL, params)]:
        args = [mk() for _ in range(2000)]
        for a in args[:50]: await c.fetchrow(sql, *a)
        t = time.process_time(); w = time.perf_counter()
        for a in args: await c.fetchrow(sql, *a)
        print(label, "cpu us/call %.1f" % ((time.process_time() - t) / len(args) * 1e6), "wall us %.1f" % ((time.perf_counter() - w) / len(args) * 1e6))
asyncio.run(main())
