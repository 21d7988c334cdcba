#!/usr/bin/env bash
# run_fw.sh : the stack runs (fixed world ends), one at a time, nothing else on the stack's
# Kafka meanwhile: 4242 and 3131 with the change (.state/after-src), 3131 on main again
# (.state/main-src; its first run shared the stack's topics with an integration test).
set -u
out=/work/wt/hubrate/bench-results/hubrate-20261207w32
. $out/env.sh
py=/work/wt/hubrate/.venv/bin/python
url=postgresql+asyncpg://postgres:postgres@127.0.0.1:23432/fworld_fraud
one() {  # label src seed end hubs...
  local label=$1 src=$2 seed=$3 end=$4; shift 4
  date -u +"%T start $seed $label"
  (cd $src && PYTHONPATH=$src nice -n 10 $py $out/fw_at_end.py $seed $end $out/fw-$seed-$label > $out/fw-$seed-$label.log 2>&1); echo "fw $seed $label rc=$?"
  (cd $src && PYTHONPATH=$src $py $out/alerts_dump.py $url "$@" > $out/alerts-$seed-$label.txt 2>&1)
}
one after /work/wt/hubrate/.state/after-src 4242 2026-12-07T05:00:00+00:00 W4242-BLR-HSR-01 W4242-CHN-GUI-03
one after /work/wt/hubrate/.state/after-src 3131 2026-12-07T04:00:00+00:00 W3131-BLR-WFD-02 W3131-DEL-DWK-02 W3131-GGN-UDY-03
one before /work/wt/hubrate/.state/main-src 3131 2026-12-07T04:00:00+00:00 W3131-BLR-WFD-02 W3131-DEL-DWK-02 W3131-GGN-UDY-03
date -u +"%T fw done"
