"""Inclusive sample counts per frame from py-spy's raw (collapsed) output; frames of the repo only
unless ALL=1. Usage: python incl.py FILE [N] [FILTER]"""
import os, re, sys
from collections import Counter
path = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
flt = sys.argv[3] if len(sys.argv) > 3 else None
incl, total = Counter(), 0
for line in open(path):
    stack, _, count = line.rstrip().rpartition(" ")
    if not stack: continue
    c = int(count); total += c
    frames = set(re.sub(r":\d+\)", ")", f) if os.environ.get("FUNC") else f for f in stack.split(";"))
    for f in frames:
        if os.environ.get("ALL") or re.search(r"\((shared|services|bench)/", f):
            if flt is None or flt in f: incl[f] += c
print("total", total)
for f, c in incl.most_common(n):
    print(f"{c:6d} {100*c/total:5.1f}%  {f}")
