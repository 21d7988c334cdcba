"""The robust baseline of a claim sign's share (`stats.robust_baseline`, as the seller tests read
`claims_missing_intact` over `claims`) on honest peers alone: each peer's claims drawn as a
category's honest sellers' are (a few to a dozen in a window), each claim carrying the sign at
the true share. What share the baseline keeps, against the truth.

    python sign_baseline.py   (run from the code root)
"""

import random
import statistics
import sys

sys.path.insert(0, ".")
from services.fraud.detectors.stats import Thresholds, robust_baseline  # noqa: E402

t = Thresholds()
rng = random.Random(7)
for share in (0.10, 0.19, 0.30):
    for peers_n, mean_claims in ((8, 5), (15, 5), (30, 8), (60, 12)):
        kept, pooled = [], []
        for _ in range(300):
            peers = []
            for _ in range(peers_n):
                n = max(1, int(rng.expovariate(1 / mean_claims)) + 1)
                k = sum(rng.random() < share for _ in range(n))
                peers.append((k, n))
            b = robust_baseline(peers, t, prior_rate=0.05, spread=False)
            kept.append(b.k / b.n if b.n else 0.0)
            pooled.append(sum(k for k, _ in peers) / sum(n for _, n in peers))
        print(
            f"true share {share:.2f}, {peers_n} peers, ~{mean_claims} claims each: "
            f"kept share median {statistics.median(kept):.3f} "
            f"(10th-90th {sorted(kept)[30]:.3f}-{sorted(kept)[270]:.3f}), "
            f"pooled {statistics.median(pooled):.3f}",
            flush=True,
        )
