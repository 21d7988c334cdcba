"""An agent's held_by_hub inputs from each candidate onset, offline at a moment."""
import sys
from collections import defaultdict
from datetime import datetime, timedelta
# Run from the repository root: peers_at.py builds the world and its counts.
sys.path.insert(0, "bench-results/fpilfhub-20261206w24")
from peers_at import world, counts_until
from services.fraud.detectors import pilferage
from services.fraud.detectors.stats import Thresholds, binomial_sf, hypergeometric_sf

ranges, seed, *pairs = sys.argv[1:]
gen, w = world(ranges, int(seed))
t = Thresholds()
for agent, when in zip(pairs[::2], pairs[1::2]):
    at = datetime.fromisoformat(when)
    inc = counts_until(w, at)
    since = (at - timedelta(days=56)).date()
    days = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # hub|agent -> day -> [n, k]
    for (et, eid, metric, day), n in inc.counts.items():
        if et == "hub_agent" and since <= day <= at.date() and metric in ("handled", "incidents"):
            days[eid][day][0 if metric == "handled" else 1] += n
    def totals(from_day):
        hubs = defaultdict(dict)
        for pair, dd in days.items():
            h, _, a = pair.partition("|")
            n = sum(v[0] for d, v in dd.items() if d >= from_day)
            k = sum(v[1] for d, v in dd.items() if d >= from_day)
            hubs[h][a] = pilferage.DayCount(n, k)
        return hubs
    whole = totals(since)
    ordinary = pilferage.ordinary_agents_rate(whole, t, 0.03)
    print(agent, when, "ordinary %.4f" % ordinary)
    for onset in [since] + pilferage.onsets(since, at.date(), 7):
        hubs = totals(onset)
        at_hub = {h: ags for h, ags in hubs.items() if agent in ags}
        standing = {h: pilferage.agents_standing_out(whole[h], t) for h in at_hub}
        mates = pilferage.DayCount(
            sum(c.handled for h, ags in at_hub.items() for a, c in ags.items() if a != agent and a not in standing[h]),
            sum(c.incidents for h, ags in at_hub.items() for a, c in ags.items() if a != agent and a not in standing[h]))
        mine = pilferage.DayCount(sum(ags[agent].handled for ags in at_hub.values()), sum(ags[agent].incidents for ags in at_hub.values()))
        pm = binomial_sf(mates.incidents, mates.handled, ordinary) if mates.handled else 1
        ph = hypergeometric_sf(mine.incidents, mine.handled, mine.incidents + mates.incidents, mine.handled + mates.handled) if mine.incidents else 1
        print("  from", onset, "mine %d/%d" % (mine.incidents, mine.handled), "mates %d/%d" % (mates.incidents, mates.handled),
              "p_mates %.3g p_hg %.3g" % (pm, ph), "carried", pilferage.carried_by_hub(mine, mates, ordinary, t) is not None)
