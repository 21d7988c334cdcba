"""Samples under a frame, split by the next N frames below it (collapsed py-spy stacks).
Usage: python under.py FILE FUNC [DEPTH] [TOP]"""
import re, sys
from collections import Counter
path, func = sys.argv[1], sys.argv[2]
depth = int(sys.argv[3]) if len(sys.argv) > 3 else 1
top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
c, tot, under = Counter(), 0, 0
for line in open(path):
    stack, _, n = line.rstrip().rpartition(" ")
    if not stack: continue
    n = int(n); tot += n
    fr = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")]
    idx = [i for i, f in enumerate(fr) if f.startswith(func + " (")]
    if not idx: continue
    i = idx[0]; under += n
    c[" > ".join(fr[i + 1:i + 1 + depth]) or "(self)"] += n
print(f"total {tot}, under {func} {under}")
for k, v in c.most_common(top): print(f"{v:5d} {100*v/tot:5.1f}%  {k}")
