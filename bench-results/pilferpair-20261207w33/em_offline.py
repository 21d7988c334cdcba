"""A plain EM of the additive edge model (a sending and a receiving rate a hub, no leave-out),
on the unit tests' made-up networks; run from .state/after-src (d4c549c1):
    cd .state/after-src && PYTHONPATH=. ../../.venv/bin/python ../../bench-results/pilferpair-20261207w33/em_offline.py"""
from tests.unit.test_fraud_pilferage_custody_pairs import network, edge
from services.fraud.features.custody import edge_hubs
P=10.0
def em(edges, rounds=30):
    rows={e:(*edge_hubs(e), r['edge_drops'], r['edge_handled']) for e,r in edges.items()}
    td=sum(r[2] for r in rows.values()); tn=sum(r[3] for r in rows.values())
    half=td/tn/2
    t={e:0.5 for e,r in rows.items() if r[2]>0}
    for _ in range(rounds):
        sd={};sn={};rd={};rn={}
        for e,(s,r,d,n) in rows.items():
            sn[s]=sn.get(s,0)+n; rn[r]=rn.get(r,0)+n
            if e in t:
                sd[s]=sd.get(s,0)+(1-t[e])*d; rd[r]=rd.get(r,0)+t[e]*d
        a={h:(sd.get(h,0)+P)/(sn[h]+P/half) for h in sn}
        b={h:(rd.get(h,0)+P)/(rn[h]+P/half) for h in rn}
        t={e:b[rows[e][1]]/(a[rows[e][0]]+b[rows[e][1]]) for e in t}
    return t
t=em(network(**{f'S{s}_R0': edge(200, 12) for s in range(6)}))
print('pilf R0', round(t['S0>R0'],3), 'R1', round(t['S1>R1'],3))
t=em(network(S0_R0=edge(200,12))); print('one bad edge', round(t['S0>R0'],3), round(t['S1>R0'],3), round(t['S0>R1'],3))
t=em(network(**{f'S0_R{r}': edge(200, 12) for r in range(6)})); print('pilf sender', round(1-t['S0>R0'],3), round(t['S1>R1'],3))
t=em({'A>B':edge(200,12)}); print('alone', t)
