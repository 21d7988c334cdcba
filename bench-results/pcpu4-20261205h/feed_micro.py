"""pcpu4: the feed entry's database work alone, in one process, the two paths alternated:
`txn` = what main does (the request's session: BEGIN, the return's lock, the storing statement,
COMMIT), `call` = this change (`store_new_return_alone` on a pooled connection's driver, no
transaction). Reports this process's CPU (process_time) per entry and PostgreSQL's (the
server's backends, as bench/intake_ab.py reads it), best and median of ROUNDS alternations.
    DISPUTEDESK_PG_PORT=... python feed_micro.py [ROUNDS] [N]"""
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench import intake as bench_intake
from bench.reconciliation import _postgres_cpu_s
from disputedesk.stack import Stack
from services.intake.history import service as history
from services.intake.returns import repository
from services.intake.returns.schemas import ReturnIn
from shared.db import make_engine, make_sessionmaker
from shared.events import ReturnInitiated
from shared.migrations import upgrade
from shared.pooled import driver_connection

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 6
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300


def entry(i: int, tag: str) -> tuple[ReturnIn, dict[str, object], repository.Owner]:
    rid = f"RET-MICRO-{tag}-{i:06d}"
    data = ReturnIn(
        return_id=rid, order_id=f"O-{rid}", seller_id="S-1", buyer_id=f"B-{rid}",
        category="home", item_value=249900, qc_required=False, partner_id="swiftship",
        awb=f"AWB-{rid}", initiated_at=datetime.now(UTC) - timedelta(days=3),
    )
    now = datetime.now(UTC)
    rec = history.recorded_columns(
        ReturnInitiated(**data.model_dump()), occurred_at=now, recorded_at=now, ce_id=uuid.uuid4()
    )
    return data, rec, repository.Owner(data.seller_id, data.partner_id, data.awb)


async def main() -> None:
    stack = Stack.from_env()
    env = dict(stack.up())
    url = await bench_intake._fresh_database(env["INTAKE_DATABASE_URL"], "bench_pcpu4_feed_micro")
    await asyncio.to_thread(upgrade, "intake", url)
    engine = make_engine(url, pool_size=4)
    sessions = make_sessionmaker(engine)
    pg = stack.postgres.process()

    async def txn(items):
        for data, rec, owner in items:
            async with sessions() as session, session.begin():
                await repository.lock_return_id(session, data.return_id)
                await repository.store_new_return(
                    session, owner=owner, return_id=data.return_id, recorded=rec
                )

    async def call(items):
        for data, rec, owner in items:
            async with driver_connection(engine) as conn:
                assert await repository.store_new_return_alone(
                    conn, owner=owner, return_id=data.return_id, recorded=rec
                )

    results = {"txn": [], "call": []}
    pg_results = {"txn": [], "call": []}
    await txn([entry(i, "WARMT") for i in range(50)])
    await call([entry(i, "WARMC") for i in range(50)])
    for r in range(ROUNDS):
        order = [("txn", txn), ("call", call)] if r % 2 == 0 else [("call", call), ("txn", txn)]
        for name, fn in order:
            items = [entry(i, f"{name}{r}") for i in range(N)]
            p0, g0 = time.process_time(), _postgres_cpu_s(pg)
            await fn(items)
            p1, g1 = time.process_time(), _postgres_cpu_s(pg)
            results[name].append((p1 - p0) / N * 1000)
            if g0 is not None and g1 is not None:
                pg_results[name].append((g1 - g0) / N * 1000)
    await engine.dispose()
    print("load", os.getloadavg())
    for name in ("txn", "call"):
        xs, gs = results[name], pg_results[name]
        print(f"{name}: process ms/entry best {min(xs):.3f} median {statistics.median(xs):.3f} "
              f"all {[round(x, 3) for x in xs]}"
              + (f"; postgres median {statistics.median(gs):.3f}" if gs else ""))


asyncio.run(main())
