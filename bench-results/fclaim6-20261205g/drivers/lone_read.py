"""At a world's end (its fraud database left by run.py): each seller of a category against its own
honest population and, where the category has no honest rate of its own, the market's, as
`ClaimInputs.honest_sellers` reads them over the whole world.
usage: python lone_read.py DB CATEGORY"""
import asyncio, sys
import asyncpg
from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import Sequential, Thresholds, sequential_test
db, category = sys.argv[1], sys.argv[2]
S, T, PRIOR = Sequential(alpha=0.01), Thresholds(), claim_abuse.RATES[0][4]
async def read():
    c = await asyncpg.connect(f"postgresql://postgres:postgres@127.0.0.1:22432/{db}")
    try:
        return await c.fetch("SELECT entity_id, metric, sum(n) FROM feature_counts WHERE entity_type='category_seller' AND metric IN ('claims','delivered') GROUP BY 1,2")
    finally:
        await c.close()
rows = asyncio.run(read())
counts = {}
for i, m, n in rows:
    counts.setdefault(i, {})[m] = int(n)
for own_key in sorted(k for k in counts if k.startswith(category + "|")):
    by = {}
    for key, v in counts.items():
        if key != own_key:
            by.setdefault(key.split("|", 1)[0], []).append((v.get("claims", 0), v.get("delivered", 0)))
    bases, conc = claim_abuse.pooled_concentration(by, T, prior_rate=PRIOR)
    mine = counts[own_key]; k, n = mine.get("claims", 0), mine.get("delivered", 0)
    own = claim_abuse.honest_population(bases[category], by[category], conc, T, S, prior_rate=PRIOR) if by.get(category) else None
    market = claim_abuse.market_population(bases, by, conc, T, S, prior_rate=PRIOR, leave_out=category)
    lone = market is not None and (not by.get(category) or claim_abuse.without_honest_peers(bases[category], by[category], market, T, S))
    print(own_key, k, n, "own", own and (round(own.rate, 4), round(own.concentration), round(sequential_test(k, n, own, S).log_bf, 2)),
          "market", market and (round(market.rate, 4), round(market.concentration), round(sequential_test(k, n, market, S).log_bf, 2)), "lone", lone)
