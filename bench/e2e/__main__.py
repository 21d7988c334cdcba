"""`python -m bench.e2e`: one end-to-end run, its table, chart and bench-results/e2e.json."""

from __future__ import annotations

import json

from bench.e2e import RESULTS, main

if __name__ == "__main__":
    outcome = main()
    (RESULTS / "e2e.json").write_text(json.dumps(outcome, indent=2, default=str))
    print(f"wrote {RESULTS / 'e2e.json'}")
