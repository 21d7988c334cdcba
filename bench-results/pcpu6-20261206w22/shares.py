"""Shares of a collapsed py-spy profile (.txt or .txt.gz) by what the sampled stack was serving:
the escalation's route, the feed's, the partner webhook's, the outbox relay, and within the
escalation's and the feed's samples SQLAlchemy's and asyncpg's.
usage: python3 shares.py profile-ab-2/base.txt.gz profile-ab-2/cut.txt.gz"""

import gzip
import sys

BUCKETS = {
    "escalation route": "escalations/router.py",
    "feed route": "returns/router.py",
    "webhook": "partners/",
    "outbox relay": "outbox",
    "sqlalchemy (anywhere)": "sqlalchemy/",
    "idempotency.py": "idempotency.py",
}

for path in sys.argv[1:]:
    opener = gzip.open if path.endswith(".gz") else open
    total = 0
    counts = dict.fromkeys(BUCKETS, 0)
    with opener(path, "rt") as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            total += int(n)
            for name, needle in BUCKETS.items():
                counts[name] += int(n) * (needle in stack)
    shares = ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in counts.items())
    print(f"{path}: {total} samples; {shares}")
