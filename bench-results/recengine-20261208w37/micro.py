"""The decision path's own CPU inside `bench/consumer_cpu.py run decisions`: the process CPU
(`time.process_time`) spent in `reevaluate` (the facts, the SOP, the decision, its events and
ledger lines: no statement is sent there in a batch) and in the batch's writes
(`BatchView.write`), per decision, beside the run's whole figure.
Usage (from a code checkout DIR): python micro.py DIR  (BENCH_CPU_DECISIONS cases, default 1000)"""
from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time

code = sys.argv[1]
sys.path[0] = code
os.environ.setdefault("BENCH_CPU_DECISIONS", "1000")
from bench import consumer_cpu  # noqa: E402
from services.reconciliation.cases import reactions  # noqa: E402
from services.reconciliation.facts import batch  # noqa: E402

spent = {"reevaluate": 0.0, "write": 0.0, "reevaluate_calls": 0}
measuring = [False]


def timed(name, fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        began = time.process_time()
        try:
            return await fn(*args, **kwargs)
        finally:
            if measuring[0]:
                spent[name] += time.process_time() - began
                if name == "reevaluate":
                    spent["reevaluate_calls"] += 1
    return wrapper


reactions.reevaluate = timed("reevaluate", reactions.reevaluate)
batch.BatchView.write = timed("write", batch.BatchView.write)
# Only the measured phase: the seed opens its cases outside any batch (no `BatchView.write`,
# and `reevaluate` is not how a case opens); counted from the first batch on.
original_batch = consumer_cpu._measure_decisions


async def main():
    from services.reconciliation.cases import handlers as h

    inner = h.handlers.batch_handler

    async def counted(contexts):
        measuring[0] = True
        try:
            return await inner(contexts)
        finally:
            measuring[0] = False

    h.handlers.batch_handler = counted
    return await consumer_cpu._measure("decisions")


result = asyncio.run(main())
n = int(os.environ["BENCH_CPU_DECISIONS"])
result["reevaluate_cpu_us_per_decision"] = round(1e6 * spent["reevaluate"] / n, 1)
result["batch_write_cpu_us_per_decision"] = round(1e6 * spent["write"] / n, 1)
result["reevaluate_calls"] = spent["reevaluate_calls"]
print(json.dumps(result))
