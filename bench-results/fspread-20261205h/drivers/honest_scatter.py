import sys,os
sys.path.insert(0,os.getcwd())
sys.argv=['x']
import importlib.util
spec=importlib.util.spec_from_file_location('ws','bench-results/fspread-20261205h/drivers/world_spread.py')
src=open('bench-results/fspread-20261205h/drivers/world_spread.py').read().replace('\nmain()\n','\n')
ns={}
exec(compile(src,'ws','exec'),ns)
for name,seed in [('dev',101),('dev-alone',102),('dev',103),('dev',104)]:
    by_cat,planted,market=ns['sellers'](name,seed)
    a,b=market.honest.claim_rate_beta
    print(name,seed,'A',round(a+b))
    for c,ss in by_cat.items():
        hon=[v for s,v in ss.items() if s not in planted and v[1]>=5]
        K=sum(k for k,n in hon);N=sum(n for k,n in hon)
        if not hon or K==0: continue
        p=K/N
        Q=sum(n*(k/n-p)**2 for k,n in hon)/(p*(1-p))
        ns_=sorted(n for k,n in hon)
        print(f'  {c:12s} honest {len(hon):3d} p {p:.3f} Q {Q:6.1f} df {len(hon)-1}  n median {ns_[len(ns_)//2]} max {ns_[-1]}')
