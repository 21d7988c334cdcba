import sys, collections, re
path=sys.argv[1]; target=sys.argv[2]
kids=collections.Counter(); tot=0; selfn=0
for line in open(path):
    line=line.rstrip('\n')
    if not line: continue
    stack,_,n=line.rpartition(' '); n=int(n)
    frames=[re.sub(r':\d+\)',')',f) for f in stack.split(';')]
    idx=[i for i,f in enumerate(frames) if f.startswith(target)]
    if not idx: continue
    i=idx[0]; tot+=n
    # next non-asyncio/greenlet/sqlalchemy-util frame
    j=i+1
    while j<len(frames) and re.search(r'greenlet|concurrency.py|asyncio/|contextlib',frames[j]): j+=1
    if j>=len(frames): selfn+=n
    else: kids[frames[j]]+=n
print(target,'total',tot,'self',selfn)
for k,v in kids.most_common(25): print(f"{v:6d} {100*v/tot:5.1f}% {k}")
