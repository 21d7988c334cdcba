# stats_probe.py: does PostgreSQL report a pooled backend's commits before it ends? (four connections, 100 autocommitted SELECT 1 each, 30 ms apart; xact_commit read at 0.5, 5, 12, 25 s and after closing)
import asyncio, asyncpg, time
DSN="postgresql://postgres:postgres@127.0.0.1:26432/"
async def main():
    a = await asyncpg.connect(DSN+"postgres")
    await a.execute("DROP DATABASE IF EXISTS probe_z"); await a.execute("CREATE DATABASE probe_z")
    q="select xact_commit from pg_stat_database where datname='probe_z'"
    async def n():
        await a.execute("select pg_stat_clear_snapshot()")
        return await a.fetchval(q)
    conns = [await asyncpg.connect(DSN+"probe_z") for _ in range(4)]
    async def work(c):
        for i in range(100):
            await c.execute("select 1"); await asyncio.sleep(0.03)
    await asyncio.gather(*(work(c) for c in conns))
    t=time.monotonic()
    for s in (0.5, 5, 12, 25):
        await asyncio.sleep(s - (time.monotonic()-t)); print(s, await n())
    for c in conns: await c.close()
    await asyncio.sleep(0.5); print("closed", await n())
    await a.execute("DROP DATABASE probe_z")
asyncio.run(main())
