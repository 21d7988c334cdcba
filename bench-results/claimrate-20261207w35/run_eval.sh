#!/usr/bin/env bash
# fraud-eval --direct --ranges ${RANGES:-dev} --seeds ${SEEDS:-2} on a stack of its own (.state/eval,
# ports 21192/21532/21125): WHICH=before runs HEAD 2c47b4e4 (archive in .state/basesrc),
# WHICH=after this worktree with FRAUD_SELLER_LIGHT_PARCELS=true.
W=/work/wt/claimrate
B=$W/bench-results/claimrate-20261207w35
export DISPUTEDESK_STATE_DIR=$W/.state/eval DISPUTEDESK_KAFKA_PORT=21192 DISPUTEDESK_PG_PORT=21532 DISPUTEDESK_SMTP_PORT=21125
R=${RANGES:-dev}; N=${SEEDS:-2}
for which in ${WHICH:-before after}; do
  if [ $which = before ]; then
    (cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc $W/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges $R --seeds $N --out $B/$R-before > $B/$R-before.log 2>&1)
  else
    (cd $W && FRAUD_SELLER_LIGHT_PARCELS=true .venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges $R --seeds $N --out $B/$R-after > $B/$R-after.log 2>&1)
  fi
done
