#!/usr/bin/env bash
# The dev before run on the main test stack (21xxx; eval_* databases and eval-credentials, apart
# from the world run's), from HEAD 2c47b4e4's archive in .state/basesrc, beside the after run on
# .state/eval (run_eval.sh WHICH=after).
W=/work/wt/claimrate
B=$W/bench-results/claimrate-20261207w35
. $B/env.sh
cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc $W/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges dev --seeds ${SEEDS:-2} --out $B/dev-before > $B/dev-before.log 2>&1
