"""The claim abusers of a dev-alone world that sell alone in their category: python alone.py SEED..."""
import sys
from disputedesk.simulate.generator import _Generator
from disputedesk.simulate.marketplace import ALONE_CATEGORY
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
_, ranges = RANGE_SETS["dev-alone"]
for seed in map(int, sys.argv[1:]):
    g = _Generator(draw_market(seed, ranges=ranges), seed, f"s{seed}")
    print(seed, sorted(s.seller_id for s in g.sellers if s.category.name == ALONE_CATEGORY))
