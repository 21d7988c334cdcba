import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient
async def main():
    a = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1]); await a.start()
    gs = await a.list_consumer_groups()
    for g in gs:
        gid = g[0]
        if 'fraud' not in gid: continue
        offs = await a.list_consumer_group_offsets(gid)
        for tp, m in sorted(offs.items()):
            print(gid, tp.topic, tp.partition, m.offset, m.metadata)
    await a.close()
asyncio.run(main())
