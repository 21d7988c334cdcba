#!/usr/bin/env bash
# fraud-eval --direct --ranges dev --seeds 2 (worlds 101-102) on the main test stack (21xxx; eval_*
# databases), the setting on (this worktree) then off (HEAD 2c47b4e4's archive in .state/basesrc).
W=/work/wt/claimrate
B=$W/bench-results/claimrate-20261207w35
. $B/env.sh
cd $W && FRAUD_SELLER_LIGHT_PARCELS=true .venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev2-after > $B/dev2-after.log 2>&1
cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc $W/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges dev --seeds 2 --out $B/dev2-before > $B/dev2-before.log 2>&1
