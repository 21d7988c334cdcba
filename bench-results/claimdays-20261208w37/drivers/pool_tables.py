"""Pool the raw per-seed tables of eval_seeds.py runs into one fraud-eval-direct.json report
(`evaluation.report_of`, as fraud-eval does).
    python pool_tables.py OUT.json TABLE.json..."""

import json
import sys

from disputedesk.simulate.evaluation import report_of

tables = [json.load(open(p)) for p in sys.argv[2:]]
tables.sort(key=lambda t: t["_run"]["seed"])
report = report_of([t["_run"]["seed"] for t in tables], tables, seconds=0.0, mode="direct")
open(sys.argv[1], "w").write(json.dumps(report, indent=1, default=str))
