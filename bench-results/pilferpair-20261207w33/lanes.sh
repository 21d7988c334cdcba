#!/usr/bin/env bash
# Two lanes that share no database: direct runs (eval_* databases) and fraud-world runs
# (fworld_* databases). "before" imports next/w32's code from a git archive of the base
# (.state/base-src, run from there); "after" runs this branch's code.
#   lanes.sh before-direct | before-world | after-direct | after-world [WAIT_PID]
set -u
W=/work/wt/pilferpair
. $W/.state/env.sh
B=$W/bench-results/pilferpair-20261207w33
PY=$W/.venv/bin/python
before() { (cd $W/.state/base-src && PYTHONPATH=$W/.state/base-src nice -n 10 $PY "$@"); }
after() { (cd $W && nice -n 10 $PY "$@"); }
[ -n "${2:-}" ] && while kill -0 "$2" 2>/dev/null; do sleep 5; done
date -u
case "$1" in
  before-direct)
    before -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev-before > $B/dev-before.log 2>&1; date -u
    before -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-before > $B/wide-before.log 2>&1; date -u ;;
  before-world)
    before $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-before > $B/fw-4242-before.log 2>&1; date -u ;;
  after-direct)
    after -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev-after > $B/dev-after.log 2>&1; date -u
    after -m disputedesk.cli fraud-eval --direct --ranges wide --seeds 2 --out $B/wide-after > $B/wide-after.log 2>&1; date -u ;;
  after-world)
    after $B/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $B/fw-4242-after > $B/fw-4242-after.log 2>&1; date -u ;;
esac
