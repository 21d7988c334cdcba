#!/usr/bin/env bash
# The spec-written seeds through the stack (port base 21800), world end fixed at specseed's
# (2026-12-07T14:00Z): before (HEAD 2c47b4e4 as an archive in .state/basesrc, PYTHONPATH from
# there) for SEEDS_BEFORE, then after (this worktree, FRAUD_SELLER_LIGHT_PARCELS=true) for
# SEEDS_AFTER. One run at a time: a run needs the stack to itself.
W=/work/wt/claimrate
B=$W/bench-results/claimrate-20261207w35
. $B/env.sh
END=2026-12-07T14:00:00+00:00
for s in ${SEEDS_BEFORE-7373 8484}; do
  (cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc nice -n 10 $W/.venv/bin/python $B/fw_at_end.py $s $END $B/world-before > $B/world-before-$s.log 2>&1)
done
for s in ${SEEDS_AFTER-}; do
  (cd $W && FRAUD_SELLER_LIGHT_PARCELS=true nice -n 10 .venv/bin/python $B/fw_at_end.py $s $END $B/world-after > $B/world-after-$s.log 2>&1)
done
