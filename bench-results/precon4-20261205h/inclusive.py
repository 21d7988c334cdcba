import sys, collections, re
path=sys.argv[1]; pat=sys.argv[2] if len(sys.argv)>2 else None
inc=collections.Counter(); tot=0
for line in open(path):
    line=line.rstrip('\n')
    if not line: continue
    stack,_,n=line.rpartition(' '); n=int(n); tot+=n
    frames=stack.split(';')
    if pat and not any(re.search(pat,f) for f in frames): continue
    seen=set()
    for f in frames:
        key=re.sub(r':\d+\)',')',f)
        if key in seen: continue
        seen.add(key); inc[key]+=n
print('total',tot)
for k,v in inc.most_common(int(sys.argv[3]) if len(sys.argv)>3 else 80):
    print(f"{v:6d} {100*v/tot:5.1f}% {k}")
