#!/usr/bin/env bash
# run_after2.sh : the change as fixed (.state/after-src): seed 4242 through the stack, and
# fraud-eval --direct dev at the same time (its own eval databases, no Kafka).
set -u
out=/work/wt/hubrate/bench-results/hubrate-20261207w32
src=/work/wt/hubrate/.state/after-src
. $out/env.sh
py=/work/wt/hubrate/.venv/bin/python
url=postgresql+asyncpg://postgres:postgres@127.0.0.1:23432/fworld_fraud
cd $src && export PYTHONPATH=$src
date -u +"%T start after ($(cat $src/COMMIT))"
(nice -n 10 /work/wt/hubrate/.venv/bin/disputedesk fraud-eval --direct --ranges dev --seeds 2 --out $out/dev-after > $out/dev-after.log 2>&1; echo "dev rc=$?") &
nice -n 10 $py $out/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $out/fw-4242-after > $out/fw-4242-after.log 2>&1; echo "fw 4242 rc=$?"
$py $out/alerts_dump.py $url W4242-BLR-HSR-01 W4242-CHN-GUI-03 > $out/alerts-4242-after.txt 2>&1
wait
date -u +"%T end after"
