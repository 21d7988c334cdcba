"""QC agents and hubs of the 48 worlds replayed (bench.qc_replay) with the peers trimmed at a Bayes factor of 20 (now), 5 or 3, or without the agents planted for pilferage/collusion (an oracle of their alerts). Run from the repo: PYTHONPATH=. .venv/bin/python bench-results/fqc-20261205/peers_trim_replay.py 101 … 108 201 … 240; summary: peers_trim_summary.py FILE."""
import functools, math, sys
from bench import qc_replay as q
from services.fraud.detectors import stats
from services.fraud.detectors.stats import robust_baseline, sequential_test
from services.fraud.scoring.base import default_config
from disputedesk.simulate.generator import generate
from disputedesk.simulate.ranges import draw_market

ORIG = stats.Sequential

def run(seed):
    config = default_config(); t, s = config.thresholds, config.sequential
    alert = math.log(1 / s.alpha)
    world = generate(draw_market(seed), seed); truth = world.truth
    start = min(a.at for a in world.actions); end = max(a.at for a in world.actions)
    other = {e for p in ("pilferage", "collusion") for (ty, e) in truth.entities.get(p, set()) if ty == "agent"}
    out = []
    for etype in ("agent", "hub"):
        records, named = q.qc_records(world, etype)
        ne = q._named_elsewhere(named)
        for eid in sorted(records):
            key = ("qc_contradiction", etype, eid)
            first = truth.first_event.get(key)
            row = [seed, etype, eid, key in truth.realized, round(truth.realized.get(key, 0.0), 2), truth.relevant.get(key, 0), eid in other]
            looks = [at for at, kind, _ in records[eid] if kind == "contra"] + [end]
            for variant in ("now", "other_out", "trim5", "trim3"):
                stats.Sequential = functools.partial(ORIG, alpha_medium={"trim5": 0.2, "trim3": 1/3}.get(variant, 0.05))
                best, crossed = -math.inf, None
                for look in looks:
                    k, n = q.counts(eid, records[eid], look, ne)
                    if k < s.min_events: continue
                    peers = [q.counts(o, records[o], look, ne) for o in records if o != eid and not (variant == "other_out" and etype == "agent" and o in other)]
                    spread = robust_baseline(peers, t, prior_rate=q.PRIOR_RATE, leave_out=True).spread
                    lb = sequential_test(k, n, spread, s).log_bf
                    best = max(best, lb)
                    if crossed is None and lb >= alert: crossed = look
                stats.Sequential = ORIG
                row.append(f"{round(best,2)}:{q._days(first or start, crossed)}")
            out.append(row)
    return out

for seed in sys.argv[1:]:
    for r in run(int(seed)):
        print(*r, flush=True)
