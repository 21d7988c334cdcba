"""The rows a `consumer_cpu.py run decisions` left in its database, made comparable across runs:
every case's row, timeline, outbox rows, ledger transactions and entries, and timers, keyed by the
seeded return's number. Random ids (the return's suffix, case ids, UUIDs) and wall-clock times
(those of the run: seeding, deciding) are replaced by stable names or `<t>`; everything else is
compared as stored (jsonb as PostgreSQL returns it, keys sorted).

    python dump_rows.py DATABASE_URL > rows.json"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

_CASE = re.compile(r"CASE-[0-9A-F]{12}")
_ESC = re.compile(r"ESC-[0-9A-F]{12}")
_RET = re.compile(r"RET-BENCH-(\d{6})-[0-9a-f]{6}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


def _norm(value: Any, cases: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _norm(v, cases) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_norm(v, cases) for v in value]
    if isinstance(value, (datetime, date)):
        text = value.isoformat()
        return "<t>" if text >= "2026-12-04" else text
    if isinstance(value, UUID):
        return "<uuid>"
    if isinstance(value, str):
        if value.startswith("{") or value.startswith("["):
            try:
                return _norm(json.loads(value), cases)
            except ValueError:
                pass
        value = _CASE.sub(lambda m: cases.get(m.group(0), "CASE@?"), value)
        if value.startswith("sc1."):
            return "<sealed>"  # a seller's sealed address: a fresh nonce each run
        value = _RET.sub(r"RET-\1", value)
        value = _ESC.sub("ESC-<id>", value)
        value = _UUID.sub("<uuid>", value)
        # Times of the run (now, now + a window) as text; the seed's fixed times stay.
        return _ISO.sub(lambda m: m.group(0) if m.group(0) < "2026-12-04" else "<t>", value)
    return value


async def main(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    cases = {
        r["case_id"]: "CASE@" + _RET.sub(r"\1", r["return_id"])
        for r in await conn.fetch("SELECT case_id, return_id FROM cases")
    }
    out: dict[str, Any] = {}
    for name, sql in {
        "cases": "SELECT * FROM cases",
        "timeline": "SELECT * FROM case_timeline ORDER BY case_id, case_version, id",
        "outbox": "SELECT ce_type, ce_source, ce_subject, topic, key, payload, ce_time, "
        "traceparent FROM outbox ORDER BY ce_subject, id",
        "ledger_transactions": "SELECT * FROM ledger_transactions ORDER BY case_id, posted_at",
        "ledger_entries": "SELECT e.*, t.kind AS tx_kind FROM ledger_entries e JOIN "
        "ledger_transactions t USING (transaction_id) ORDER BY e.case_id, e.account, e.amount",
        "timers": "SELECT * FROM timers ORDER BY case_id, kind, due_at",
    }.items():
        rows = [_norm(dict(r), cases) for r in await conn.fetch(sql)]
        for r in rows:
            r.pop("id", None)
        out[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    await conn.close()
    print(json.dumps(out, sort_keys=True, indent=1, default=str))


asyncio.run(main(sys.argv[1]))
