"""CPU of reading the honest sellers for a shop's claims (`scoring.claim_abuse.honest_sellers_of`,
the whole records' spread kept by its standardising rates as `ClaimInputs.honest_sellers` keeps
it) at SHOPS shops (`market.py`): SELLERS shops of several categories, each scored on CLAIMS
claims in one consumer batch (its categories in turn, as a seller alert's re-assessment or a
shop's burst of events reads them). The tree under test is the one `PYTHONPATH` picks; where
`honest_sellers_of` keeps the seller's honest market (`markets`), one dict is the batch's.

usage: PYTHONPATH=<tree>:bench-results/ftell-20261205w21 python per_claim_cpu.py SHOPS SELLERS CLAIMS
prints: the digest of every read (identical across trees: the same honest sellers), first claim of a seller, its later claims, all claims (mean CPU seconds per claim)."""

import hashlib
import inspect
import sys
import time

from market import market
from services.fraud.scoring import claim_abuse as scoring
from services.fraud.scoring.base import default_config

shops, sellers, claims = (int(a) for a in sys.argv[1:4])
cfg = default_config()
T, SEQ = cfg.thresholds, cfg.sequential
everyone = market(shops)
keeps = "markets" in inspect.signature(scoring.honest_sellers_of).parameters
by_seller: dict[str, list[str]] = {}
for key in everyone:
    name, _, who = key.partition("|")
    by_seller.setdefault(who, []).append(name)
chosen = [who for who, cats in by_seller.items() if len(cats) >= 2][:sellers]
whole_kept: dict[object, float] = {}
markets: dict[object, object] = {}


def whole(bases):  # type: ignore[no-untyped-def]
    key = scoring._standardising_rates(bases)
    if key not in whole_kept:
        whole_kept[key] = scoring.whole_records_spread(everyone, bases, T)
    return whole_kept[key]


first: list[float] = []
later: list[float] = []
results = []
for who in chosen:
    cats = by_seller[who]
    for i in range(claims):
        category = cats[i % len(cats)]
        extra = {"markets": markets} if keeps else {}
        t0 = time.process_time()
        read = scoring.honest_sellers_of(
            everyone, category, f"{category}|{who}", who, T, SEQ, whole, **extra
        )
        (first if i == 0 else later).append(time.process_time() - t0)
        results.append((who, category, read))


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


print(
    f"tree={'kept' if keeps else 'per-claim'} shops={shops} sellers={len(chosen)} "
    f"claims={claims} first={mean(first):.3f} later={mean(later):.3f} "
    f"all={mean(first + later):.3f} digest={hashlib.sha256(repr(results).encode()).hexdigest()[:12]}"
)
