#!/usr/bin/env bash
# the two fresh seeds through the stack (--port-base 25100), world end fixed so a before and an
# after run replay the same world; runs specworld-20261207w32/fw_at_end.py from where it stands
cd /work/wt/specseed && . bench-results/specseed-20261207w34/env.sh
B=bench-results/specseed-20261207w34
for s in ${SEEDS:-7373 8484}; do
  nice -n 10 .venv/bin/python bench-results/specworld-20261207w32/fw_at_end.py $s ${END:-2026-12-07T14:00:00+00:00} $B/${OUT:-base} > $B/${OUT:-base}-$s.log 2>&1
done
