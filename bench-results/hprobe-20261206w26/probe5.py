from common import *
import re
s = httpx.Client(base_url=C, timeout=10)
def jar(r):
    for h in r.headers.get_list("set-cookie"):
        n, v = h.split(";")[0].split("=", 1); s.cookies.set(n, v)
r = s.get("/sign-in"); jar(r); tok = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
s.cookies.clear(); jar(r)
r = s.post("/sign-in", data={"key": K["ops_manager"], "csrf_token": tok}); print("sign-in", r.status_code, r.headers.get("location")); s.cookies.clear(); jar(r)
r = s.get("/"); print("queue", r.status_code, len(r.text))
paths = re.findall(r'href="(/[^"]*)"', r.text); print(sorted(set(paths))[:30])
for p in sorted(set(paths)):
    for q in ["", "?limit=-1", "?cursor=%00", "?q=%ff", "?status=<x>", "?" + "a=" + "b" * 7000]:
        r = s.get(p + q)
        if r.status_code >= 500 or r.elapsed.total_seconds() > 2 or "Traceback" in r.text:
            print("!!", p + q[:40], r.status_code, r.text[:200])
print("done")
