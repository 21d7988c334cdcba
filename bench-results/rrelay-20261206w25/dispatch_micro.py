"""The runner's per-event wrapper alone (A/B: PYTHONPATH=<code> python dispatch_micro.py LABEL)."""
import asyncio, sys, time, uuid
from datetime import UTC, datetime
from shared.envelope import Envelope
from shared.events import ReturnInitiated
from shared.kafka.consumer import EventHandlers, HandlerContext
tp = "00-0af7651916cd43dd8448eb211c80319c-%016x-01"
ev = ReturnInitiated(return_id="RET-1", order_id="O-1", seller_id="S-1", buyer_id="B-1", category="toys",
    item_value=1000, qc_required=False, partner_id="swiftship", awb="SS1", initiated_at=datetime(2026, 11, 26, tzinfo=UTC))
h = EventHandlers()
@h.on(ReturnInitiated)
async def noop(e, ctx): pass
async def main():
    n = 20000
    ctxs = [HandlerContext(None, Envelope(ev, source="t", traceparent=tp % (i + 1)), "t", "bench") for i in range(n)]
    best = 1e9
    for _ in range(5):
        t = time.process_time()
        for c in ctxs:
            await h.dispatch(c)
        best = min(best, (time.process_time() - t) / n * 1e6)
    print(sys.argv[1], round(best, 2), "us per event")
asyncio.run(main())
