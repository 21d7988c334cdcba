import random, math, statistics
from collections import Counter
from services.fraud.detectors import pilferage
from tests.unit.test_fraud_pilferage_exposure import log_bf, T
POOLED_OTHERS=pilferage._part_rates_without
def net(rng, n_only=4, per=360, rate=0.0375):
    rows={}
    for h in range(n_only):
        k=sum(rng.random()<rate for _ in range(per))
        rows[f"O-{h}"]={"handled":per,"incidents":k,"handled_only":per,"incidents_only":k}
    for h in range(6):
        o=rows.setdefault(f"T-{(h+1)%6}",Counter()); d=rows.setdefault(f"T-{h}",Counter())
        for _ in range(400):
            lost=rng.random()<rate
            o.update({"handled":1,"handled_earlier":1}); d.update({"handled":1,"handled_last":1,"incidents":lost,"incidents_last":lost})
    return {h:dict(r) for h,r in rows.items()}
N=300
def run(label):
    rng=random.Random(5); corr=[]; hot=0; sp=[]; bfs=[]
    for _ in range(N):
        rows=net(rng)
        sc=pilferage.exposure_scales(rows,T)
        o=[h for h in rows if h.startswith("O")]
        own=[rows[h]["incidents"] for h in o]; s=[sc[h] for h in o]
        corr.append(statistics.correlation(own,s) if len(set(own))>1 and len(set(s))>1 else 0)
        sp.append(max(s)/min(s))
        top=max(o,key=lambda h:rows[h]["incidents"])
        b=log_bf(rows,top,True); hot+=b; bfs.append(b)
    print(label,"corr",round(statistics.mean(corr),2),"scale max/min",round(statistics.mean(sp),2),"mean",round(hot/N,2),"q90",round(sorted(bfs)[int(.9*N)],2),"max",round(max(bfs),2),">=3:",sum(b>=3 for b in bfs),">=0:",sum(b>=0 for b in bfs),"of",N)
run("after")
pilferage._part_rates_without=pilferage._medians_without
run("before")
def with_self(cells, default):
    if sum(1 for _,n in cells.values() if n>0)-1>=5: return pilferage._medians_without(cells, default)
    K=sum(k for k,n in cells.values() if n>0); Nn=sum(n for _,n in cells.values() if n>0)
    return {h:(max(K/Nn,1e-4) if Nn else default) for h in cells}
pilferage._part_rates_without=with_self
run("pooled-with-self")
# power: a pilferer at 3x among the four
def power(label, fn):
    pilferage._part_rates_without=fn
    rng=random.Random(9); hits=0; tot=0
    for _ in range(150):
        rows=net(rng)
        k=sum(rng.random()<0.0375*3 for _ in range(360)); rows["O-0"]={"handled":360,"incidents":k,"handled_only":360,"incidents_only":k}
        b=log_bf(rows,"O-0",True); tot+=b; hits+=b>=math.log(1000)
    print(label,"pilferer 3x: mean logBF",round(tot/150,2),"alerted",hits,"of 150")
import importlib
orig=pilferage._medians_without
power("before(median)",orig)
power("pooled-others",POOLED_OTHERS)
power("pooled-with-self",with_self)
