"""Probe (not part of the suite): ten copies of a seller's appeal at once, no Idempotency-Key,
on a decided claim and on a claim awaiting evidence; counts the answers, the appeals stored,
the timeline's answers and the emails in the SMTP sink. Run it as a test file:
`KEEP_TEST_STACK=1 nice -n 10 bash scripts/test.sh bench-results/appealrepeat-20261207w32/probe_appeal_copies.py -q -s -p no:randomly`"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from tests.conftest import Harness
from tests.integration.test_appeal_repeats import COPIES, _appeals, _copies, _settled_count
from tests.support.scenario import case_of, mails_saying
from tests.support.stories import filed_case

SUBJECTS = ("We have your appeal", "is already with a manager", "no decision to appeal yet")


async def _count(harness: Harness, pipeline: dict[str, Any], rid: str, codes: list[int]) -> dict[str, Any]:
    assert await _settled_count(pipeline, rid, COPIES)
    await asyncio.sleep(5)  # the emails of the last copies
    case = await case_of(harness, pipeline["reconciliation"], rid, lambda c: True)
    kinds = Counter(t["kind"] for t in case["timeline"])
    return {
        "answers": dict(Counter(codes)),
        "appeals_stored": await _appeals(pipeline, rid),
        "timeline": {k: kinds[k] for k in ("CaseAppealed", "APPEAL_REPEATED", "APPEAL_IGNORED")},
        "emails": {s: len(await asyncio.to_thread(mails_saying, harness, rid, s)) for s in SUBJECTS},
    }


async def test_probe(harness: Harness, pipeline: dict[str, Any]) -> None:
    intake = pipeline["intake"]
    out = {}
    for name, kw in (
        ("decided", {}),
        ("awaiting_evidence", {"evidence": [], "until": lambda c: c["state"] == "AWAITING_EVIDENCE"}),
    ):
        filed = await filed_case(harness, pipeline, **kw)
        paths = [f"/v1/escalations/{filed.escalation_id}/appeal", f"/v1/returns/{filed.rid}/appeal"]
        codes = await _copies(harness, intake, paths, "The buyer broke it; pay in full.")
        out[name] = await _count(harness, pipeline, filed.rid, codes)
    print("PROBE " + json.dumps(out, sort_keys=True))
