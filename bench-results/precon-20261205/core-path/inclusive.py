"""Inclusive and self shares of a py-spy raw profile of `consumer_cpu.py run decisions`: busy samples
under `handle_batch` only. `python inclusive.py profile-base.txt.gz [TOP]`."""
import sys, collections, gzip
path = sys.argv[1]; top = int(sys.argv[2]) if len(sys.argv) > 2 else 60
incl = collections.Counter(); selfc = collections.Counter(); busy = 0
for line in (gzip.open(path, 'rt') if path.endswith('.gz') else open(path)):
    stack, _, n = line.rstrip().rpartition(" ")
    if not n.isdigit(): continue
    n = int(n)
    if "handle_batch (" not in stack: continue
    frames = stack.split(";")
    if "base_events.py" in frames[-1] or "select (selectors.py" in frames[-1]: continue
    busy += n
    seen = set()
    for f in frames:
        k = f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].replace("/work/wt-precon/","").replace("/tmp/precon-base/","").split("site-packages/")[-1] if " (" in f else f
        if k in seen: continue
        seen.add(k); incl[k] += n
    selfc[frames[-1]] += n
print("busy", busy)
for k, v in incl.most_common(top): print(f"{100*v/busy:5.1f} {k}")
print("--- self")
for k, v in selfc.most_common(25): print(f"{100*v/busy:5.1f} {k}")
