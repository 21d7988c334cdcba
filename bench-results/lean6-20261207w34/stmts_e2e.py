"""stmts_e2e.py LOG DB FROM TO [TOP]: statements sent to database DB between the times FROM and
TO (HH:MM:SS, UTC) of a PostgreSQL log (log_statement=all), first 110 characters, counted; the
transactions committed (COMMIT, and statements outside BEGIN … COMMIT) per backend"""
import collections, re, sys
path, db, lo, hi = sys.argv[1:5]
top = int(sys.argv[5]) if len(sys.argv) > 5 else 30
entries, cur = [], None
for line in open(path, errors="replace"):
    if re.match(r"^\d{4}-\d\d-\d\d ", line):
        if cur: entries.append(cur)
        cur = line.rstrip("\n")
    elif cur is not None:
        cur += " " + line.strip()
if cur: entries.append(cur)
c = collections.Counter(); intx = collections.defaultdict(bool); autocommit = 0; commits = 0
for e in entries:
    t = e[11:19]
    if not (lo <= t <= hi) or f"@{db} " not in e:
        continue
    m = re.search(r"\[(\d+)\].*LOG:  (?:statement|execute [^:]*): (.*)", e)
    if not m:
        continue
    pid, sql = m.group(1), re.sub(r"\s+", " ", m.group(2)).strip()
    c[sql[:110]] += 1
    word = sql.split(" ")[0].upper().rstrip(";")
    if word in ("BEGIN", "START"):
        intx[pid] = True
    elif word in ("COMMIT", "END"):
        intx[pid] = False; commits += 1
    elif word == "ROLLBACK":
        intx[pid] = False
    elif not intx[pid]:
        autocommit += 1
print(f"statements {sum(c.values())}; COMMITs {commits}; statements outside a transaction {autocommit}")
for s, n in c.most_common(top):
    print(f"{n:6d} {s}")
