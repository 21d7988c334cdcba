"""The rate limiter's and `authenticate`'s shares of a collapsed py-spy profile (.txt or .txt.gz).
usage: python3 shares.py profile-ab-feed/base.txt.gz profile-ab-feed/cut.txt.gz"""

import gzip
import sys

for path in sys.argv[1:]:
    opener = gzip.open if path.endswith(".gz") else open
    total = limiter = auth = 0
    with opener(path, "rt") as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            total += int(n)
            limiter += int(n) * ("rate_limit.py" in stack)
            auth += int(n) * ("auth.py" in stack)
    print(f"{path}: {total} samples, limiter {100 * limiter / total:.1f} %,"
          f" authenticate {100 * auth / total:.1f} %")
