import re,sys
for p in sys.argv[1:]:
    rows=[l for l in open(p) if re.match(r"D\d+ ",l)]
    def stats(filt):
        n=lines=runs=0
        for l in rows:
            m=re.match(r"D\d+ (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)(.*)",l)
            if not m or not filt(m.group(1)+" "+m.group(4)): continue
            n+=1; lines+=int(m.group(3))-int(m.group(2))+1
            r=re.search(r"\+(\d+) more runs?",m.group(7)); runs+=1+(int(r.group(1)) if r else 0)
        return n,lines,runs
    print(p, "all(pairs,lines of longest run,runs)", stats(lambda s: True), "routers", stats(lambda s: "router.py" in s), "non-migrations", stats(lambda s: "migrations" not in s))
