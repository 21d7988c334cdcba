"""Statements per event by kind in `bench/consumer_cpu.py run fraud`'s stream: each statement
sent, keyed by its first table and verb, counted. Run from a checkout (cwd) with the stack's
environment: `python stmts.py [out.json]`."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path[0] = str(Path.cwd())
sys.path.insert(1, str(Path.cwd() / "bench"))
import consumer_cpu  # noqa: E402

kinds: Counter[str] = Counter()


def kind_of(sql: str) -> str:
    s = " ".join(sql.split())
    verb = s.split(" ", 1)[0].upper()
    if verb == "WITH":
        verb = "WITH…SELECT"
    m = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", s, re.I)
    return f"{verb} {m.group(1) if m else ''} | {s[:90]}"


@contextmanager
def counting(engine):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    sent = [0]

    def note(conn, cursor, statement, *_):  # type: ignore[no-untyped-def]
        sent[0] += 1
        kinds[kind_of(statement)] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


consumer_cpu._counting = counting
result = asyncio.run(consumer_cpu._measure("fraud"))
events = result["events"]
table = {k: {"n": n, "per_event": round(n / events, 4)} for k, n in kinds.most_common()}
out = {"result": result, "statements": table}
if len(sys.argv) > 1:
    Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
for k, v in table.items():
    print(f"{v['n']:6d} {v['per_event']:.3f}  {k}")
print(json.dumps(result))
