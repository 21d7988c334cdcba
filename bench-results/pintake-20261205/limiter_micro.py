"""CPU of `RateLimiter.spend` in the process while a lease is held (no round trip)."""
import asyncio, sys, time
sys.path.insert(0, ".")
from shared.rate_limit import Limit, RateLimiter, _Lease
async def main():
    lim = RateLimiter("intake", "postgresql+asyncpg://x:y@127.0.0.1:1/z")
    lim._leases["partner:swiftship"] = _Lease(10**9, time.monotonic() + 3600)
    n = 100000
    for _ in range(3):
        t = time.process_time()
        for _ in range(n):
            rate = float(max(1000000, 1))
            await lim.spend("partner:swiftship", Limit(rate, rate), kind="partner", lease_s=0.1)
        print("spend, lease held: %.2f us" % ((time.process_time() - t) / n * 1e6))
asyncio.run(main())
