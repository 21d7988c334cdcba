"""An exact memo of the peers' spread estimates: how many of the stream's calls repeat an earlier
one, and what the repeats cost. Run from a checkout with the stack's environment."""
import asyncio, sys, json, collections, time
from pathlib import Path
sys.path[0] = str(Path.cwd()); sys.path.insert(1, str(Path.cwd() / "bench"))
import consumer_cpu
from services.fraud.detectors import stats
seen = collections.Counter(); spent = collections.Counter()
orig_is, orig_ps = stats.information_spread, stats.peer_spread
def wrap(name, f):
    def g(ps, **kw):
        key = (name, tuple(ps), tuple(sorted(kw.items())))
        t = time.process_time(); r = f(ps, **kw); spent[key] += time.process_time() - t
        seen[key] += 1
        return r
    return g
stats.information_spread = wrap("is", orig_is); stats.peer_spread = wrap("ps", orig_ps)
r = asyncio.run(consumer_cpu._measure("fraud"))
calls = sum(seen.values()); distinct = len(seen)
rep_cost = sum(spent[k] / seen[k] * (seen[k] - 1) for k in seen)
print(json.dumps({"calls": calls, "distinct": distinct, "repeat_cpu_s": round(rep_cost, 3), "all_cpu_s": round(sum(spent.values()), 3), "events": r["events"]}))
