"""Where handle_batch's own time goes in a cProfile (cprofile-base.prof), by library: tottime
summed per group, the event loop's waits (epoll) apart. python shares.py FILE.prof"""
import collections
import pstats
import sys

s = pstats.Stats(sys.argv[1])
groups: collections.Counter[str] = collections.Counter()
for (f, _l, n), (_cc, _nc, tt, _ct, _callers) in s.stats.items():  # type: ignore[attr-defined]
    if "sqlalchemy/orm" in f:
        g = "SQLAlchemy ORM (attributes, loading, states)"
    elif "sqlalchemy" in f:
        g = "SQLAlchemy Core and engine"
    elif "asyncpg" in f:
        g = "asyncpg (parameter encoding in C, counted in its caller)"
    elif "pydantic" in f or "pydantic" in n:
        g = "pydantic (validation, serialisation)"
    elif "epoll" in n:
        g = "waiting (epoll)"
    elif "abc" in f or "abc" in n:
        g = "ABC isinstance checks (asyncpg's array encoder)"
    elif f.endswith("enum.py"):
        g = "enum lookups"
    elif "asyncio" in f:
        g = "asyncio"
    elif "services/reconciliation" in f:
        g = "reconciliation's own Python"
    elif "shared/" in f:
        g = "shared/ (unit of work, outbox, tracing, consumer)"
    else:
        g = "other (builtins, uuid, contextvars, ...)"
    groups[g] += tt
busy = sum(v for k, v in groups.items() if k != "waiting (epoll)")
print(f"handle_batch's time, profiled: {sum(groups.values()):.3f} s, of it not waiting {busy:.3f} s")
for k, v in groups.most_common():
    share = "" if k == "waiting (epoll)" else f"{100 * v / busy:5.1f} % of the non-waiting"
    print(f"{v:7.3f} s  {share:28s} {k}")
