"""Why an agent's alert was not held as its hub's (held_by_hub), offline at a moment."""
import sys
from collections import defaultdict
from datetime import datetime, timedelta
# Run from the repository root: peers_at.py builds the world and its counts.
sys.path.insert(0, "bench-results/fpilfhub-20261206w24")
from peers_at import world, counts_until, hub_rows
from services.fraud.detectors import pilferage
from services.fraud.detectors.stats import Thresholds, binomial_sf, hypergeometric_sf

ranges, seed, *pairs = sys.argv[1:]
gen, w = world(ranges, int(seed))
t = Thresholds()
for agent, when in zip(pairs[::2], pairs[1::2]):
    at = datetime.fromisoformat(when)
    inc = counts_until(w, at)
    all_hubs = defaultdict(dict)
    for pair, r in hub_rows(inc, at, "hub_agent").items():
        hub, _, a = pair.partition("|")
        all_hubs[hub][a] = pilferage.DayCount(r.get("handled", 0), r.get("incidents", 0))
    agents = {a: pilferage.DayCount(r.get("handled", 0), r.get("incidents", 0)) for a, r in hub_rows(inc, at, "agent").items()}
    std, ref = pilferage.standardised(agents, all_hubs, t)
    at_hub = {h: ags for h, ags in all_hubs.items() if agent in ags}
    standing = {h: pilferage.agents_standing_out(ags, t) for h, ags in at_hub.items()}
    mates = pilferage.DayCount(
        sum(c.handled for h, ags in at_hub.items() for a, c in ags.items() if a != agent and a not in standing[h]),
        sum(c.incidents for h, ags in at_hub.items() for a, c in ags.items() if a != agent and a not in standing[h]))
    own = [ags[agent] for ags in at_hub.values()]
    mine = pilferage.DayCount(sum(c.handled for c in own), sum(c.incidents for c in own))
    ordinary = pilferage.ordinary_agents_rate(all_hubs, t, ref)
    p_mates = binomial_sf(mates.incidents, mates.handled, ordinary)
    p_hg = hypergeometric_sf(mine.incidents, mine.handled, mine.incidents + mates.incidents, mine.handled + mates.handled)
    print(agent, when, "hubs", {h: {a: (c.incidents, c.handled) for a, c in ags.items()} for h, ags in at_hub.items()})
    print("  standing", standing, "mine", mine, "mates", mates, "ordinary %.4f" % ordinary,
          "p_mates_vs_ordinary %.3g" % p_mates, "p_agent_vs_mates %.3g" % p_hg, "std", std.get(agent), "ref %.4f" % ref,
          "carried", pilferage.carried_by_hub(mine, mates, ordinary, t))
