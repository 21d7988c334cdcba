"""exposure_of before (read from git at 6c15b8b7) and now, on the same random networks."""
import random, subprocess, time, types, sys
sys.path.insert(0, '.')
source = subprocess.run(["git", "show", "6c15b8b7:services/fraud/detectors/pilferage.py"], check=True, capture_output=True, text=True).stdout
old = types.ModuleType("pilf_old"); sys.modules["pilf_old"] = old
exec(compile(source, "pilferage_before.py", "exec"), old.__dict__)
from services.fraud.detectors import pilferage as new
from services.fraud.detectors.stats import Thresholds
T = Thresholds()
rnd = random.Random(5)
worst = 0.0
for trial in range(300):
    H = rnd.randint(1, 40)
    hubs = {}
    for h in range(H):
        row = {}
        tot_k = tot_n = 0
        for p in new.PARTS:
            n = rnd.choice([0, rnd.randint(0, 400)])
            k = rnd.randint(0, max(n // 10, 0) + rnd.choice([0, 0, 5]))
            row[f"handled_{p}"] = n; row[f"incidents_{p}"] = k; tot_k += k; tot_n += n
        row["handled"] = tot_n + rnd.choice([0, 0, rnd.randint(0, 50)])
        row["incidents"] = tot_k
        hubs[f"H{h}"] = row
    a = old.exposure_of(hubs, T); b = new.exposure_of(hubs, T)
    for h in hubs:
        for x, y in ((a[h].scale, b[h].scale), (a[h].rel_var, b[h].rel_var)):
            d = abs(x - y) / max(abs(x), 1e-12)
            if x == 0 and y == 0: d = 0
            worst = max(worst, d)
print("worst relative difference", worst)
for H in (100, 400, 1600):
    hubs = {f"H{h}": {**{f"handled_{p}": rnd.randint(0, 300) for p in new.PARTS}, **{f"incidents_{p}": rnd.randint(0, 9) for p in new.PARTS}} for h in range(H)}
    for r in hubs.values():
        r["handled"] = sum(r[f"handled_{p}"] for p in new.PARTS); r["incidents"] = sum(r[f"incidents_{p}"] for p in new.PARTS)
    t0 = time.perf_counter(); old.exposure_of(hubs, T); t1 = time.perf_counter(); new.exposure_of(hubs, T); t2 = time.perf_counter()
    print(H, "hubs: old", round((t1-t0)*1000, 1), "ms, new", round((t2-t1)*1000, 1), "ms, ratio", round((t1-t0)/(t2-t1), 1))
