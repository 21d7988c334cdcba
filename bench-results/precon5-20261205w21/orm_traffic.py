"""What the ORM's attribute traffic costs a decision: 84 reads and 21 writes of a Case (the
counts cProfile gives per decision), on an ORM Case against a plain slots object with the same
attributes. Run from a checkout's root."""
import sys, time
sys.path.insert(0, '.')
from datetime import datetime, UTC
from services.reconciliation.models import Case

names = [c.name for c in Case.__table__.c]
Plain = type("Plain", (), {"__slots__": tuple(names)})

def fill(obj):
    for n in names:
        setattr(obj, n, None)
    obj.state = "OPEN"; obj.version = 3; obj.case_id = "CASE-1"; obj.return_id = "RET-1"
    return obj

READS = ["state", "version", "case_id", "return_id", "seller_id", "partner_id", "claim_type", "origin",
         "seller_contact", "claimed_amount", "primary_escalation_id", "sla_started_at"] * 7
WRITES = ["version", "state", "waiting_for", "reason_code", "updated_at"] * 4 + ["payout"]

def work(obj, now):
    for n in READS:
        getattr(obj, n)
    for n in WRITES:
        setattr(obj, n, now)

def run(objs, now, rounds=3):
    best = 1e9
    for _ in range(rounds):
        t = time.process_time()
        for o in objs:
            work(o, now)
        best = min(best, time.process_time() - t)
    return best / len(objs) * 1e6

now = datetime.now(UTC)
orm = [fill(Case()) for _ in range(2000)]
plain = [fill(Plain()) for _ in range(2000)]
for _ in range(3):
    print(f"ORM Case {run(orm, now):.1f} µs/decision, plain slots {run(plain, now):.1f} µs/decision")
