"""disputedesk fraud-world --seed SEED through the stack (--port-base 23100), its assessments
scored twice: with main's world labels (a planted seller's ordinary claim without its return's
pilferage) and this branch's. One run, so the pair differs in the labels alone.

usage: python fw_two_labels.py SEED OUT_DIR MAIN_WORLD_PY   (env: the stack's state and ports)"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import disputedesk.fraudworld.runner as runner
from disputedesk.fraudworld.score import table
from disputedesk.fraudworld.world import build_world

seed, out, main_py = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
out.mkdir(parents=True, exist_ok=True)
spec = importlib.util.spec_from_file_location("main_world", main_py)
assert spec and spec.loader
main_world = importlib.util.module_from_spec(spec)
sys.modules["main_world"] = main_world
spec.loader.exec_module(main_world)

world = build_world(seed)
old = main_world.build_world(seed, end=world.end)
before = copy.deepcopy(world)
old_claims = {r.return_id: r.claim for r in old.returns}
moved: Counter[str] = Counter()
for r in before.returns:
    o = old_claims[r.return_id]
    assert (o is None) == (r.claim is None), r.return_id
    if r.claim is not None and o is not None:
        assert r.claim.amount == o.amount and r.claim.claim_type == o.claim_type
        if r.claim.patterns != o.patterns:
            moved["+".join(sorted(r.claim.patterns - o.patterns))] += 1
            assert r.claim.patterns - o.patterns == {"pilferage"}, r.return_id
        r.claim.patterns = set(o.patterns)
print(f"labels moved by this branch: {dict(moved)}", flush=True)

original = runner.score


async def both(w: Any, sent: Any, reader: Any, *, say: Any) -> dict[str, Any]:
    main_result = await original(before, sent, reader, say=say)
    (out / f"seed-{seed}-main-labels.json").write_text(
        json.dumps(runner._plain(main_result), indent=2, default=str) + "\n"
    )
    (out / f"seed-{seed}-main-labels.md").write_text(
        f"# seed {seed}, main's labels\n\n{table(main_result)}\n"
    )
    return await original(w, sent, reader, say=say)


runner.score = both  # type: ignore[assignment]
report = asyncio.run(runner.WorldRun(world, port_base=23100, settle_timeout_s=1800.0).run())
(out / f"seed-{seed}.json").write_text(
    json.dumps(runner._plain(report), indent=2, default=str) + "\n"
)
(out / f"seed-{seed}.md").write_text(f"# seed {seed}, this branch's labels\n\n{report['table']}\n")
print(report["table"])
