#!/usr/bin/env bash
# run_after.sh SRC : the four measurements with the code in SRC (a git archive of the change),
# the stack runs waiting for run_all.sh's before-runs to leave the stack's world databases,
# the direct evaluations for its eval databases (one eval_fraud per stack).
set -u
src=$1; label=after
out=/work/wt/hubrate/bench-results/hubrate-20261207w32
. $out/env.sh
export PYTHONPATH=$src
cd $src
py=/work/wt/hubrate/.venv/bin/python
dd=/work/wt/hubrate/.venv/bin/disputedesk
url=postgresql+asyncpg://postgres:postgres@127.0.0.1:23432/fworld_fraud
until grep -q "fw done" $out/run-before.log; do sleep 10; done
$py $out/alerts_dump.py $url W3131-BLR-WFD-02 W3131-DEL-DWK-02 W3131-GGN-UDY-03 > $out/alerts-3131-before.txt 2>&1
date -u +"%T start $label ($(cat $src/COMMIT))"
nice -n 10 $py $out/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $out/fw-4242-$label > $out/fw-4242-$label.log 2>&1; echo "fw 4242 rc=$?"
$py $out/alerts_dump.py $url W4242-BLR-HSR-01 W4242-CHN-GUI-03 > $out/alerts-4242-$label.txt 2>&1
nice -n 10 $py $out/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $out/fw-3131-$label > $out/fw-3131-$label.log 2>&1; echo "fw 3131 rc=$?"
$py $out/alerts_dump.py $url W3131-BLR-WFD-02 W3131-DEL-DWK-02 W3131-GGN-UDY-03 > $out/alerts-3131-$label.txt 2>&1
date -u +"%T fw done"
until grep -q "end before" $out/run-before.log; do sleep 10; done
nice -n 10 $dd fraud-eval --direct --ranges dev --seeds 2 --out $out/dev-$label > $out/dev-$label.log 2>&1; echo "dev rc=$?"
date -u +"%T dev done"
nice -n 10 $dd fraud-eval --direct --ranges wide --seeds 2 --out $out/wide-$label > $out/wide-$label.log 2>&1; echo "wide rc=$?"
date -u +"%T end $label"
