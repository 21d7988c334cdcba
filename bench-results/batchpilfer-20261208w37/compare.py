"""exposure_of before (services/fraud/detectors/pilferage.py at 1c2b7078, read from git) against
the kept, patched `HubExposures` now: the same numbers on random networks changed a few hubs at
a time (every figure compared with ==), and the per-event cost at 100, 400 and 1,600 hubs in one
process: what a scored event naming a hub paid before (a fresh `exposure_of` of the window's
hubs), and now (the changed hubs patched, then its own hub's exposure; and, where the hubs'
peers are read afresh, every hub's)."""

import random
import subprocess
import sys
import time
import types

sys.path.insert(0, ".")
source = subprocess.run(
    ["git", "show", "1c2b7078:services/fraud/detectors/pilferage.py"],
    check=True,
    capture_output=True,
    text=True,
).stdout
old = types.ModuleType("pilf_old")
sys.modules["pilf_old"] = old
exec(compile(source, "pilferage_before.py", "exec"), old.__dict__)
from services.fraud.detectors import pilferage as new  # noqa: E402
from services.fraud.detectors.stats import Thresholds  # noqa: E402

T = Thresholds()
rnd = random.Random(8)


def random_row(r: random.Random) -> dict[str, int]:
    row: dict[str, int] = {}
    tot_k = tot_n = 0
    for p in new.PARTS:
        n = r.choice([0, r.randint(0, 400), r.randint(0, 5)])
        k = r.randint(0, max(n // 10, 0) + r.choice([0, 0, 5]))
        row[f"handled_{p}"] = n
        row[f"incidents_{p}"] = k
        tot_k += k
        tot_n += n
    row["handled"] = tot_n + r.choice([0, 0, r.randint(0, 50)])
    row["incidents"] = tot_k
    return row


def bump(row: dict[str, int], r: random.Random) -> None:
    """One scan's increments: a parcel in one part, sometimes an incident."""
    p = r.choice(new.PARTS)
    row[f"handled_{p}"] = row.get(f"handled_{p}", 0) + 1
    row["handled"] = row.get("handled", 0) + 1
    if r.random() < 0.1:
        row[f"incidents_{p}"] = row.get(f"incidents_{p}", 0) + 1
        row["incidents"] = row.get("incidents", 0) + 1


checked = differing = 0
for trial in range(400):
    hubs = {f"H{h}": random_row(rnd) for h in range(rnd.randint(1, 40))}
    table = new.HubExposures.of(hubs)
    for step in range(25):
        # A few hubs change (one new now and then), as a batch's scans add to them.
        for _ in range(rnd.randint(1, 3)):
            if rnd.random() < 0.1:
                hub = f"N{trial}-{step}"
                hubs[hub] = {}
            else:
                hub = rnd.choice(list(hubs))
            bump(hubs[hub], rnd)
            table.update(hub, hubs[hub])
        before = old.exposure_of(hubs, T)
        now = table.all(T)
        assert list(before) == list(now)
        for hub in hubs:
            checked += 1
            # Two modules, two Exposure classes: compared by their figures.
            figures = (before[hub].scale, before[hub].rel_var)
            one = table.exposure(hub, T)
            assert one is not None
            if figures != (now[hub].scale, now[hub].rel_var) or figures != (one.scale, one.rel_var):
                differing += 1
print(
    f"{checked} hub exposures compared after patches: {differing} differ (== on scale and rel_var)"
)

print(
    "hubs | before: exposure_of per event ms | now: patch + own hub ms | now: patch + every hub ms | ratios"
)
for H in (100, 400, 1600):
    hubs = {f"H{h}": random_row(rnd) for h in range(H)}
    table = new.HubExposures.of(hubs)
    events = 200 if H < 1600 else 60
    seq = [rnd.choice(list(hubs)) for _ in range(events)]
    t0 = time.perf_counter()
    for hub in seq:
        bump(hubs[hub], rnd)
        old.exposure_of(hubs, T)[hub]
    t1 = time.perf_counter()
    for hub in seq:
        bump(hubs[hub], rnd)
        table.update(hub, hubs[hub])
        table.exposure(hub, T)
    t2 = time.perf_counter()
    for hub in seq:
        bump(hubs[hub], rnd)
        table.update(hub, hubs[hub])
        table.exposure(hub, T)
        table.all(T)
    t3 = time.perf_counter()
    b, o, a = ((x - y) * 1000 / events for x, y in ((t1, t0), (t2, t1), (t3, t2)))
    print(f"{H} | {b:.2f} | {o:.3f} | {a:.2f} | x{b / o:.0f} own, x{b / a:.1f} every hub")
