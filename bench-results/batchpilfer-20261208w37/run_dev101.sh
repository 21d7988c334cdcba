#!/usr/bin/env bash
# fraud-eval --direct --ranges dev --seeds 1 (world 101) on this worktree's test stack (18xxx;
# eval_* databases): the base (1c2b7078's archive in .state/basesrc) then this branch, back to
# back in one session. Argument: a suffix for the output folders (a second pair).
W=/work/wt/batchpilfer
B=$W/bench-results/batchpilfer-20261208w37
S=${1:-}
. $B/env.sh
cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc $W/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 1 --out $B/dev-before$S > $B/dev-before$S.log 2>&1
cd $W && .venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 1 --out $B/dev-after$S > $B/dev-after$S.log 2>&1
