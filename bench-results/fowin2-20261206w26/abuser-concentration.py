"""Simulated abusers at 3x a 10 % category, a fifth of their orders of two or three items, read
item by item and by orders (`claim_abuse.OrderTrials`): one claiming each item on its own draw,
one claiming every item of its multi-item orders and no single-item order. Run from the
worktree's root: .venv/bin/python bench-results/fowin2-20261206w26/abuser-concentration.py"""
import random, sys
sys.path.insert(0, '.')
from services.fraud.detectors.claim_abuse import OrderItem, OrderTrials, min_deliveries
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_log_bf
from datetime import UTC, datetime
S = Sequential(alpha=1e-2); T0 = datetime(2026,6,1,tzinfo=UTC)
spread = PeerSpread(0.1, 300); guard = min_deliveries(0.1, 1.0)
def first_alert(rng, strategy, by_orders, multi_share=0.2, orders=150):
    items=[]; k=n=0
    for o in range(orders):
        size = rng.choice((2,3)) if rng.random() < multi_share else 1
        if strategy == "spread":
            claimed=[rng.random()<0.3 for _ in range(size)]
        else:  # concentrate: every multi-item order fully claimed; singles at the rate left
            # total claim rate 0.3: multi items are ~ms*2.5/(1+1.5ms) of items
            frac_multi = multi_share*2.5/(1-multi_share+multi_share*2.5)
            single_rate = max(0.3 - frac_multi, 0)/(1-frac_multi)
            claimed=[True]*size if size>1 else [rng.random()<single_rate]
        for j,c in enumerate(claimed):
            items.append(OrderItem(f"{o}-{j}", f"o{o}", "c", T0, c)); n+=1; k+=c
            if c and k>=5 and n>=guard:
                rk, rn = OrderTrials.of(items).read(k,n) if by_orders else (k,n)
                if sequential_log_bf(rk,rn,spread,S)>=4.61: return n
    return None
for strategy in ("spread","concentrate"):
  for by in (False, True):
    rng=random.Random(5); res=[first_alert(rng,strategy,by) for _ in range(200)]
    found=[r for r in res if r]; found.sort()
    print(strategy, "by orders" if by else "by items", len(found), "/200 found; median deliveries", found[len(found)//2] if found else None)
