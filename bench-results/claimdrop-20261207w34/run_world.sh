#!/usr/bin/env bash
# The seeds through the stack (--port-base 25100) with the world's end fixed at specseed's
# (2026-12-07T14:00Z) so they replay specseed's base runs: after (this branch) for SEEDS_AFTER,
# and before (aeadc760, an archive in .state/basesrc run with PYTHONPATH from there) for
# SEEDS_BEFORE. One run at a time: a run needs the stack to itself.
W=/work/wt/claimdrop
cd $W && . bench-results/claimdrop-20261207w34/env.sh
B=$W/bench-results/claimdrop-20261207w34
FW=$W/bench-results/specworld-20261207w32/fw_at_end.py
END=2026-12-07T14:00:00+00:00
for s in ${SEEDS_AFTER:-7373 8484}; do
  nice -n 10 .venv/bin/python $FW $s $END $B/after > $B/after-$s.log 2>&1
done
for s in ${SEEDS_BEFORE:-4242}; do
  (cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc nice -n 10 $W/.venv/bin/python $FW $s $END $B/base > $B/base-$s.log 2>&1)
done
for s in ${SEEDS_LAST:-4242}; do
  nice -n 10 .venv/bin/python $FW $s $END $B/after > $B/after-$s.log 2>&1
done
