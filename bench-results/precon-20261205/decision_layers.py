"""py-spy raw stacks of `consumer_cpu.py run decisions`, the decision phase only (stacks under
`_measure_decisions` and not under the seed), by layer: each busy sample is charged to the first
layer one of whose frames it holds; SQLAlchemy/asyncpg counted across layers."""
import json, sys
LAYERS = [
    ("the batch's facts up front (insert, lock, read)", ("(services/reconciliation/facts/batch.py:2", "prepare (services/reconciliation/facts/batch.py", "lock_returns")),
    ("load_facts", ("load_facts",)),
    ("decision record", ("decision_record",)),
    ("emit: event model", ("__init__ (pydantic/main.py",)),
    ("emit/outbox/timeline rows (rest)", ("(services/reconciliation/cases/timeline.py",)),
    ("ledger lines", ("ledger/",)),
    ("rules and verdict (SOP, explanation)", ("policy/", "verdict_for")),
    ("case rows' changes (write_changes)", ("write_changes",)),
    ("timers (write_timers)", ("write_timers",)),
    ("array inserts (ledger, timeline, outbox)", ("BatchView.write",)),
    ("other handler Python", ("handle_batch",)),
    ("commit", ("commit",)),
]
def main(path):
    counts = {n: 0 for n, _ in LAYERS}; counts["other"] = 0
    sql = busy = 0
    for line in open(path):
        stack, _, n = line.rstrip().rpartition(" ")
        if not n.isdigit(): continue
        n = int(n)
        if "_measure_decisions" not in stack or "_seed_ready_cases" in stack: continue
        frames = stack.split(";")
        if "base_events.py" in frames[-1] or "select (selectors.py" in frames[-1]: continue
        busy += n
        for name, keys in LAYERS:
            if any(k in f for f in frames for k in keys):
                # emit's event model: only pydantic __init__ under emit
                if name == "emit: event model" and not any("emit (services/reconciliation/cases/timeline.py" in f for f in frames):
                    continue
                counts[name] += n; break
        else: counts["other"] += n
        if any("sqlalchemy/" in f or "asyncpg/" in f for f in frames): sql += n
    return {"busy": busy, "layers": {k: round(v / busy, 3) for k, v in counts.items()}, "inside SQLAlchemy/asyncpg": round(sql / busy, 3)}
print(json.dumps({p: main(p) for p in sys.argv[1:]}, indent=1))
