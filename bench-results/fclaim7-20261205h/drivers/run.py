"""Score range-set seeds one at a time through `evaluate_directly` (the code path of
`fraud-eval --direct --ranges NAME --seeds N`), each world into its own folder, on a fraud
database of its own (EVAL_DB) so that two runners can share one stack. Keeps each world's
alerts and HIGH escalations beside its table (extra.json).

usage: EVAL_DB=eval_fraud_a python run.py RANGESET OUTDIR SEED...
"""
import asyncio, functools, json, os, sys
from pathlib import Path

import disputedesk.simulate.direct as direct
import disputedesk.simulate.evaluation as evaluation
from disputedesk.simulate.direct import evaluate_directly
from disputedesk.simulate.evaluation import score_world
from disputedesk.simulate.ranges import RANGE_SETS, draw_market

name, out, seeds = sys.argv[1], Path(sys.argv[2]), [int(s) for s in sys.argv[3:]]
_, ranges = RANGE_SETS[name]
DB = os.environ.get("EVAL_DB", "eval_fraud")
current = {}


def keeping(world, assessments, alerts):
    table = score_world(world, assessments, alerts)
    t = world.truth
    fraud = {f"{e[0]}:{e[1]}" for ents in t.entities.values() for e in ents}
    rows = [dict(pattern=a.pattern, etype=a.entity_type, eid=a.entity_id, status=a.status,
                 at=str(a.event_time), planted=f"{a.entity_type}:{a.entity_id}" in fraud,
                 evidence=a.evidence) for a in alerts]
    look = {k: sorted(f"{e[0]}:{e[1]}" for e in v) for k, v in t.lookalikes.items()}
    highs = [dict(return_id=a.return_id, reasons=a.reasons, band=a.band, rev=a.revision)
             for a in assessments if a.band == "HIGH" and a.subject_type == "escalation"]
    current["extra"] = dict(alerts=rows, lookalikes=look, fraud=sorted(fraud), highs=highs,
                            relevant={"|".join(k): v for k, v in t.relevant.items()
                                      if k[0] == "claim_abuse"})
    return table


orig = evaluation.prepare_stack


def prepare_own(state_dir):
    from disputedesk.stack import Stack
    from shared.migrations import upgrade
    environ = dict(os.environ)
    environ.setdefault("DISPUTEDESK_STATE_DIR", str(state_dir))
    stack = Stack.from_env(environ)
    env, secrets, _ = orig(state_dir)
    url = stack.postgres.database_url(DB)
    env["FRAUD_DATABASE_URL"] = url
    os.environ["FRAUD_DATABASE_URL"] = url

    def prep():
        stack.postgres.drop_database(DB)
        stack.postgres.create_database(DB)
        asyncio.run(evaluation._no_sync_commit(url, DB))
        upgrade("fraud", url)
    return env, secrets, prep


evaluation.prepare_stack = prepare_own
direct.score_world = keeping
pristine = dict(os.environ)
for seed in seeds:
    os.environ.clear(); os.environ.update(pristine)
    d = out / str(seed)
    if (d / "fraud-eval-direct.json").exists() or (d / "claimed").exists():
        continue
    d.mkdir(parents=True, exist_ok=True); (d / "claimed").write_text(DB)
    asyncio.run(evaluate_directly([seed], functools.partial(draw_market, ranges=ranges), out_dir=d,
        state_dir=Path(os.environ["DISPUTEDESK_STATE_DIR"]).resolve(),
        progress=lambda s, t: print("seed", s, t["_run"], flush=True)))
    (d / "extra.json").write_text(json.dumps(current["extra"], default=str))
