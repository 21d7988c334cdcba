"""`fraud-eval --direct --ranges SET` on chosen seeds of the set (the CLI takes the first n only):
the same drawn worlds, the same report.   python direct_seeds.py SET OUT SEED..."""
import asyncio
import os
import sys
from pathlib import Path

from disputedesk.simulate.direct import evaluate_directly
from disputedesk.simulate.ranges import RANGE_SETS, draw_market

name, out, seeds = sys.argv[1], Path(sys.argv[2]), [int(s) for s in sys.argv[3:]]
_, drawn_from = RANGE_SETS[name]
state = Path(os.environ.get("DISPUTEDESK_STATE_DIR", ".state/eval")).resolve()
asyncio.run(evaluate_directly(seeds, lambda s: draw_market(s, drawn_from), out_dir=out, state_dir=state,
                              progress=lambda s, t: print(f"seed {s} done", flush=True)))
