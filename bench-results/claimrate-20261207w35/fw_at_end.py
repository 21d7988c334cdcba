"""disputedesk fraud-world --seed SEED through the stack (--port-base 21800) with the world's end
fixed, so a before and an after run replay the same world against the same counters' days
(`build_world`'s default end is the hour less two hours). A copy of
bench-results/hubs3131-20261207w31/fw_at_end.py with this worktree's port base.
    python fw_at_end.py SEED END_ISO OUT_DIR   (env: the stack's state and ports, env.sh)"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

import disputedesk.fraudworld.runner as runner
from disputedesk.fraudworld.world import build_world

seed, end, out = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
world = build_world(seed, end=end)
report = asyncio.run(runner.WorldRun(world, port_base=21800, settle_timeout_s=1800.0).run())
(out / f"seed-{seed}.json").write_text(json.dumps(runner._plain(report), indent=2, default=str) + "\n")
(out / f"seed-{seed}.md").write_text(f"# seed {seed}, end {end.isoformat()}\n\n{report['table']}\n")
print(report["table"])
