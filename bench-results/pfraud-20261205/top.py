"""Shares of py-spy raw samples: those with a frame containing UNDER and none containing
`_find_and_load` (imports), own time by function and inclusive time by function."""
import collections
import sys

path, under, nown = sys.argv[1], sys.argv[2], int(sys.argv[3])
own: collections.Counter[str] = collections.Counter()
incl: collections.Counter[str] = collections.Counter()
total = 0
for line in open(path):
    line = line.rstrip()
    if not line:
        continue
    stack, _, n_ = line.rpartition(" ")
    n = int(n_)
    frames = stack.split(";")
    if not any(under in f for f in frames) or any("_find_and_load" in f for f in frames):
        continue
    total += n
    f = frames[-1]
    own[f.split(" (")[0] + " [" + f.split("(")[-1].split(":")[0].split("/")[-1] + "]"] += n
    seen = set()
    for f in frames:
        name = f.split(" (")[0]
        if name not in seen:
            seen.add(name)
            incl[name] += n
print("samples", total)
print("--own")
for k, v in own.most_common(nown):
    print(f"{100 * v / total:5.1f}% {k}")
print("--inclusive")
for k, v in incl.most_common(150):
    print(f"{100 * v / total:5.1f}% {k}")
