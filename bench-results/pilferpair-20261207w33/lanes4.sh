#!/usr/bin/env bash
# wide-after alongside wide-before (time): the rule's archive with only the evaluation's database
# names changed (eval_* -> evalp_*, disputedesk/simulate/evaluation.py lines 757-768), so the two
# runs share no database; the fraud code scored is d4c549c1's.
set -u
W=/work/wt/pilferpair
. $W/.state/env.sh
B=$W/bench-results/pilferpair-20261207w33
PY=$W/.venv/bin/python
date -u
(cd $W/.state/after-src-wide && PYTHONPATH=$W/.state/after-src-wide nice -n 10 $PY -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-after > $B/wide-after.log 2>&1); date -u
