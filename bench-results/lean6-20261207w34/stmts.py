"""stmts.py LOG [TOP]: a PostgreSQL log (log_statement=all) split into the runs of kinds.sh (each
starts with CREATE DATABASE bench_intake_ab_cut); per run, the statements sent to that database,
first 110 characters, counted"""
import re, sys, collections
entries, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    if re.match(r"^\d{4}-\d\d-\d\d ", line):
        if cur: entries.append(cur)
        cur = line.rstrip("\n")
    elif cur is not None:
        cur += " " + line.strip()
if cur: entries.append(cur)
runs = []
for e in entries:
    if re.search(r"statement: CREATE DATABASE \"?bench_intake_ab_cut", e, re.I):
        runs.append(collections.Counter())
        continue
    if not runs or "@bench_intake_ab_cut " not in e:
        continue
    m = re.search(r"LOG:  (?:statement|execute [^:]*): (.*)", e)
    if m:
        runs[-1][re.sub(r"\s+", " ", m.group(1))[:110]] += 1
for i, c in enumerate(runs):
    print(f"== run {i+1}: {sum(c.values())} statements")
    for s, n in c.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 25):
        print(f"{n:6d} {s}")
