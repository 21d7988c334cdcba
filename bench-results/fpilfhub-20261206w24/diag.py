"""The pilferage findings an entity carried over a kept replay (`PILF_KEEP=1 pilf_replay.py`):
each change of its stored risk, with its pilferage reasons.

    python diag.py LABEL SEED ENTITY_ID [ENTITY_ID ...] [--every N]
"""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from disputedesk.stack import Stack
from services.fraud.models import EntityRiskHistory


async def main() -> None:
    label, seed, *ids = sys.argv[1:]
    every = 1
    if "--every" in ids:
        i = ids.index("--every")
        every = int(ids[i + 1])
        ids = ids[:i] + ids[i + 2 :]
    stack = Stack.from_env(dict(os.environ))
    engine = create_async_engine(stack.postgres.database_url(f"pilf_{label}_{seed}"))
    async with engine.connect() as conn:
        for eid in ids:
            rows = (
                await conn.execute(
                    select(
                        EntityRiskHistory.as_of, EntityRiskHistory.band, EntityRiskHistory.reasons
                    )
                    .where(EntityRiskHistory.entity_id == eid)
                    .order_by(EntityRiskHistory.as_of, EntityRiskHistory.id)
                )
            ).all()
            print(f"== {eid}: {len(rows)} rows")
            for j, (at, band, reasons) in enumerate(rows):
                if j % every and j != len(rows) - 1:
                    continue
                for r in reasons:
                    if "PILFERAGE" in str(r.get("code", "")):
                        print(
                            f"  {at:%m-%d %H:%M} {band} {r.get('code')} c={r.get('contribution')}"
                            f" {str(r.get('detail'))[:400]}"
                        )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
