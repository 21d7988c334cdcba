#!/usr/bin/env bash
# The wide pair once dev-after was done (next/w32 from .state/base-src, the rule from
# .state/after-src), one at a time on the eval_* databases.
set -u
W=/work/wt/pilferpair
. $W/.state/env.sh
B=$W/bench-results/pilferpair-20261207w33
PY=$W/.venv/bin/python
before() { (cd $W/.state/base-src && PYTHONPATH=$W/.state/base-src nice -n 10 $PY "$@"); }
after() { (cd $W/.state/after-src && PYTHONPATH=$W/.state/after-src nice -n 10 $PY "$@"); }
date -u
before -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-before > $B/wide-before.log 2>&1; date -u
after -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-after > $B/wide-after.log 2>&1; date -u
