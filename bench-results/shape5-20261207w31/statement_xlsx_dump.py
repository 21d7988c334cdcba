"""Dump the statement workbooks' sheet parts (no timestamps) for a before/after comparison."""
import sys, zipfile, io
from datetime import UTC, datetime
from services.reconciliation.disputes import statements as debit
from services.reconciliation.ledger import statements as ledger

lines = [
    {"posted_at": "2026-11-03T10:00:00+00:00", "case_id": "CASE-1", "transaction_id": "T-1", "kind": "DEBIT", "description": "Debit for a lost parcel", "amount": 90_001},
    {"posted_at": "2026-11-04T10:00:00+00:00", "case_id": "CASE-2", "transaction_id": "T-2", "kind": "REVERSAL", "description": "Reversal", "amount": -45_000},
]
m = debit.MonthlyStatement(partner_id="swiftship", month="2026-11", opening=12_345, lines=[{k: v for k, v in l.items() if k != "transaction_id"} for l in lines], contests=[{"x": 1}, {"y": 2}])
s = ledger.Statement(partner_id="swiftship", period_start=datetime(2026, 11, 1, tzinfo=UTC), period_end=datetime(2026, 12, 1, tzinfo=UTC), lines=lines)
for name, body in (("debit", debit.to_xlsx(m)), ("ledger", ledger.to_xlsx(s))):
    z = zipfile.ZipFile(io.BytesIO(body))
    for part in sorted(z.namelist()):
        if part.startswith("docProps"):
            continue
        sys.stdout.write(f"== {name} {part}\n")
        sys.stdout.write(z.read(part).decode() + "\n")
