"""Incidents (and parcels) a hub running steadily at `ratio` times the honest mean needs before
the sequential test reaches its alert (a Bayes factor of 200), against honest hubs of mean `p`
and concentration a + b, read exactly as they are. Expected counts, no noise."""
import math
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_log_bf

S = Sequential(alpha=5e-3)
print("p      a+b   ratio  incidents/parcels at the alert")
for p in (0.02, 0.03):
    for ab in (150, 350, 600, 1000):
        row = []
        for ratio in (2.5, 3.0, 3.5):
            got = None
            for n in range(10, 5000, 5):
                k = ratio * p * n
                kk = math.floor(k)
                if kk >= 5 and sequential_log_bf(kk, n, PeerSpread(p, ab), S) >= math.log(200):
                    got = (kk, n)
                    break
            row.append(f"{ratio}x: {got[0]}/{got[1]}" if got else f"{ratio}x: never")
        print(f"{p:.0%}  {ab:5d}  " + "  ".join(row))
