"""The pair rule on a settled fraud-world database: every hub edge's counts over the whole run
and `custody.pair_shares` of them, with each hub's shared drops, the lot's draws and what the
pair evidence gives it.   python edge_shares.py DATABASE SINCE UNTIL HUB [HUB ...]   (days, ISO;
env: the stack's ports)"""

from __future__ import annotations

import os
import sys
from datetime import date

import asyncio

import asyncpg

from services.fraud.features import custody

db, since, until, hubs = sys.argv[1], date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3]), sys.argv[4:]


async def read() -> list[asyncpg.Record]:
    conn = await asyncpg.connect(
        host="127.0.0.1", port=int(os.environ["DISPUTEDESK_PG_PORT"]), user="postgres",
        password="postgres", database=db,
    )
    try:
        return list(await conn.fetch(
            "SELECT entity_type, entity_id, metric, sum(n) FROM feature_counts "
            "WHERE entity_type IN ('hub_edge', 'hub') AND day BETWEEN $1 AND $2 GROUP BY 1, 2, 3",
            since, until,
        ))
    finally:
        await conn.close()


rows = asyncio.run(read())
edges: dict[str, dict[str, int]] = {}
hub_rows: dict[str, dict[str, int]] = {}
for etype, eid, metric, n in rows:
    (edges if etype == custody.EDGE else hub_rows).setdefault(eid, {})[metric] = int(n)
shares = custody.pair_shares(edges)
for hub in hubs:
    row = hub_rows.get(hub, {})
    print(f"== {hub}: incidents {row.get('incidents')} of {row.get('handled')}, "
          f"shared last {row.get('shared_last', 0)} (lot {row.get('lot_last', 0)}), "
          f"earlier {row.get('shared_earlier', 0)} (lot {row.get('lot_earlier', 0)}), "
          f"shares {shares.get(hub)}, by pairs {custody.by_pairs(row, shares.get(hub, {})).get('incidents')}")
    for eid, e in sorted(edges.items()):
        s, r = custody.edge_hubs(eid)
        if hub in (s, r) and e.get(custody.EDGE_DROPS, 0):
            print(f"   {eid}: {e}")
