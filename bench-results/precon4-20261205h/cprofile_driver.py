"""cProfile around reconciliation's `handle_batch` alone (the seed excluded) during
`bench/consumer_cpu.py run decisions`: exact call counts per decision (times inflated by the
profiler). Run from a checkout's root: python cprofile_driver.py OUT.prof"""
import cProfile
import runpy
import sys

import services.reconciliation.cases.handlers as h

out = sys.argv[1]
prof = cProfile.Profile()
orig = h.handle_batch


async def wrapped(handlers, contexts):
    prof.enable()
    try:
        return await orig(handlers, contexts)
    finally:
        prof.disable()


h.handle_batch = wrapped
sys.argv = ["bench/consumer_cpu.py", "run", "decisions"]
try:
    runpy.run_path("bench/consumer_cpu.py", run_name="__main__")
finally:
    prof.dump_stats(out)
