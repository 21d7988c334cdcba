import sys, statistics
rows=[l.split() for l in open(sys.argv[1]) if l[0].isdigit()]
names=["now","other_out","trim5","trim3"]
def cross(v): 
    d=v.split(":")[1]; return None if d=="None" else float(d)
for i,name in enumerate(names):
    col=7+i
    goal=[r for r in rows if r[1]=="agent" and r[3]=="True" and float(r[4])>=2.5 and int(r[5])>=15]
    found=[cross(r[col]) for r in goal if cross(r[col]) is not None]
    planted=[r for r in rows if r[1]=="agent" and r[3]=="True"]
    pf=sum(cross(r[col]) is not None for r in planted)
    ha=[r[2] for r in rows if r[1]=="agent" and r[3]=="False" and cross(r[col]) is not None]
    hh=[r[2] for r in rows if r[1]=="hub" and cross(r[col]) is not None]
    print(name, f"goal {len(found)}/{len(goal)} median {statistics.median(found) if found else None}", f"planted {pf}/{len(planted)}", f"honest agents {len(ha)}/{sum(r[1]=='agent' and r[3]=='False' for r in rows)} {ha}", f"hubs {len(hh)}/{sum(r[1]=='hub' for r in rows)} {hh}")
    print("   goal:", [(r[2], r[4], r[5], r[col]) for r in goal])
