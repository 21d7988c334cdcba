"""Run one service and count event-loop callbacks by what they run (idle profiling)."""
import asyncio, asyncio.events, collections, sys, threading, time, json, os

counts = collections.Counter()
orig = asyncio.events.Handle._run

def describe(cb):
    # a Task's step: name the coroutine
    self_ = getattr(cb, "__self__", None)
    if isinstance(self_, asyncio.Task):
        coro = self_.get_coro()
        frame = getattr(coro, "cr_frame", None)
        # innermost awaited coroutine
        c = coro
        chain = []
        while c is not None and len(chain) < 8:
            chain.append(getattr(c, "__qualname__", type(c).__name__))
            c = getattr(c, "cr_await", None) or getattr(c, "gi_yieldfrom", None)
        return "task:" + ">".join(chain)
    return getattr(cb, "__qualname__", repr(cb))

def _run(self):
    counts[describe(self._callback)] += 1
    return orig(self)

asyncio.events.Handle._run = _run

def dump():
    time.sleep(float(os.environ.get("COUNT_AFTER", 30)))
    counts.clear()
    t = float(os.environ.get("COUNT_FOR", 30))
    time.sleep(t)
    snap = dict(counts)
    with open(f"/tmp/idle/handles-{sys.argv[1]}.json", "w") as f:
        json.dump(sorted(((v / t, k) for k, v in snap.items()), reverse=True), f, indent=0)

threading.Thread(target=dump, daemon=True).start()
import uvicorn
from shared.http_protocol import HTTP_PROTOCOL
uvicorn.run(f"services.{sys.argv[1]}.app:create_app", factory=True, http=HTTP_PROTOCOL, host="127.0.0.1", port=int(sys.argv[2]), log_config=None, access_log=False, loop="asyncio")
