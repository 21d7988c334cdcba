"""Inclusive shares of all of a py-spy raw profile's samples, for named frames (a sample counted
once per name).   python shares.py PROFILE.txt NAME [NAME ...]"""
import re, sys
FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")
path, names = sys.argv[1], sys.argv[2:]
tot = 0
hits = dict.fromkeys(names, 0)
for line in open(path):
    stack, _, c = line.rstrip().rpartition(" ")
    if not c.isdigit():
        continue
    c = int(c); tot += c
    fr = {(FRAME.match(f.strip()).group(1) if FRAME.match(f.strip()) else f.strip()) for f in stack.split(";")}
    for n in names:
        if n in fr:
            hits[n] += c
print(f"{path}: {tot} samples")
for n in names:
    print(f"  {100 * hits[n] / max(tot, 1):5.1f}%  {n}")
