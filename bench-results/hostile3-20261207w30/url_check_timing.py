"""url_errors per request, main's shared/validation.py against this branch's (min of 7 x 20,000).

Run from the worktree: git show main:shared/validation.py > /tmp/h3_main_validation.py
then .venv/bin/python bench-results/hostile3-20261207w30/url_check_timing.py"""

import importlib.util
import timeit

import shared.validation as branch

spec = importlib.util.spec_from_file_location("mainval", "/tmp/h3_main_validation.py")
assert spec is not None and spec.loader is not None
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)

for query in (b"", b"limit=20&state=OPEN"):
    scope = {"type": "http", "path": "/v1/cases/C-1234567890/decision", "query_string": query}
    for name, module in (("main", main), ("branch", branch)):
        best = min(timeit.repeat(lambda: module.url_errors(scope), number=20000, repeat=7))
        print(f"{name:6} query={query!r:24} {best / 20000 * 1e6:.2f} us")
