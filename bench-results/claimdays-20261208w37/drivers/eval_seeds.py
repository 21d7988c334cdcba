"""`fraud-eval --direct --ranges dev` on chosen dev seeds (the CLI takes only the first N), each
seed's raw table kept, so runs of different seeds on different stacks can be pooled after
(`pool_tables.py`). The stack is the DISPUTEDESK_* environment's (its eval_* databases).
    python eval_seeds.py OUT SEED..."""

import asyncio
import json
import os
import sys
from pathlib import Path

from disputedesk.simulate import direct
from disputedesk.simulate.ranges import RANGE_SETS, draw_market

_, drawn_from = RANGE_SETS["dev"]


def progress(seed: int, table: dict) -> None:
    (OUT / f"table-{seed}.json").write_text(json.dumps(table, default=str))
    print(f"seed {seed} done: {table['_run']}", flush=True)


OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
seeds = [int(s) for s in sys.argv[2:]]
asyncio.run(
    direct.evaluate_directly(
        seeds,
        lambda seed: draw_market(seed, drawn_from),
        out_dir=OUT,
        state_dir=Path(os.environ["DISPUTEDESK_STATE_DIR"]),
        progress=progress,
    )
)
