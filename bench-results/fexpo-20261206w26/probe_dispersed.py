import random, math
from services.fraud.detectors import pilferage
from tests.unit.test_fraud_pilferage_exposure import log_bf, T
import sys
POOLED=pilferage._part_rates_without; MED=pilferage._medians_without
from collections import Counter
def net(rng, per=360, rate=0.0375):
    rows={}
    for h in range(4):
        k=sum(rng.random()<rate for _ in range(per))
        rows[f"O-{h}"]={"handled":per,"incidents":k,"handled_only":per,"incidents_only":k}
    for h in range(6):
        o=rows.setdefault(f"T-{(h+1)%6}",Counter()); d=rows.setdefault(f"T-{h}",Counter())
        for _ in range(400):
            lost=rng.random()<rate
            o.update({"handled":1,"handled_earlier":1}); d.update({"handled":1,"handled_last":1,"incidents":lost,"incidents_last":lost})
    return {h:dict(r) for h,r in rows.items()}
rng=random.Random(17); res={"median":[], "pooled":[]}; disp=[]
for _ in range(int(sys.argv[1])):
    rows=net(rng); o=[f"O-{h}" for h in range(4)]; ks=[rows[h]["incidents"] for h in o]
    m=sum(ks)/4; chi=sum((k-m)**2 for k in ks)/max(m,1e-9); disp.append(chi)
    top=max(o,key=lambda h:rows[h]["incidents"])
    for name,fn in (("median",MED),("pooled",POOLED)):
        pilferage._part_rates_without=fn; res[name].append(log_bf(rows,top,True))
for lab,sel in (("all",lambda c:True),("chi2>=10",lambda c:c>=10)):
    idx=[i for i,c in enumerate(disp) if sel(c)]
    for name in res:
        b=[res[name][i] for i in idx]
        print(lab,len(idx),name,"mean",round(sum(b)/len(b),2),"max",round(max(b),2),">=3",sum(x>=3 for x in b))
