import asyncio, json, os, sys
from dataclasses import replace
from pathlib import Path

async def main():
    from disputedesk.simulate.evaluation import prepare_stack
    from disputedesk.simulate.generator import generate
    from disputedesk.simulate.ranges import RANGE_SETS, draw_market
    import bench.fraud_batching as fb
    from disputedesk.simulate import direct
    state = Path(os.environ["DISPUTEDESK_STATE_DIR"]).resolve()
    _, _, prepare = await asyncio.to_thread(prepare_stack, state)
    seed, days, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    market = draw_market(seed, RANGE_SETS["dev"][1]); market = replace(market, days=min(days, market.days))
    world = generate(market, seed)
    url = os.environ["FRAUD_DATABASE_URL"]
    res = {}
    for shape in ((50, 0.0, None), (50, 2.0, 3), (400, 0.0, 40)):
        await asyncio.to_thread(prepare)
        r = await fb._score(world, url, *shape)
        r.pop("seconds")
        res[str(shape)] = r
    await asyncio.to_thread(prepare)
    t = await direct.score_directly(world, url)
    t["_run"].pop("seconds", None)
    res["direct"] = t
    Path(out).write_text(json.dumps(res, sort_keys=True, default=str))
    print(fb.__file__, len(world.actions))

asyncio.run(main())
