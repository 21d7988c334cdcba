#!/usr/bin/env bash
# the two fresh seeds through the stack, world end fixed at 2026-12-07T05:00Z
cd /work/wt/specworld && . bench-results/specworld-20261207w32/env.sh
B=bench-results/specworld-20261207w32
for s in ${SEEDS:-5151 6262}; do
  nice -n 10 .venv/bin/python $B/fw_at_end.py $s 2026-12-07T05:00:00+00:00 $B/${OUT:-base} > $B/${OUT:-base}-$s.log 2>&1
done
