#!/usr/bin/env bash
# run_all.sh LABEL SRC : the four measurements of this change with the code in SRC (a git
# archive of main for "before", the worktree for "after"), one after another, on the 23xxx stack.
set -u
label=$1; src=$2
out=/work/wt/hubrate/bench-results/hubrate-20261207w32
. $out/env.sh
export PYTHONPATH=$src
cd $src
py=/work/wt/hubrate/.venv/bin/python
dd=/work/wt/hubrate/.venv/bin/disputedesk
date -u +"%T start $label"
nice -n 10 $py $out/fw_at_end.py 4242 2026-12-07T05:00:00+00:00 $out/fw-4242-$label > $out/fw-4242-$label.log 2>&1; echo "fw 4242 rc=$?"
nice -n 10 $py $out/fw_at_end.py 3131 2026-12-07T04:00:00+00:00 $out/fw-3131-$label > $out/fw-3131-$label.log 2>&1; echo "fw 3131 rc=$?"
date -u +"%T fw done"
nice -n 10 $dd fraud-eval --direct --ranges dev --seeds 2 --out $out/dev-$label > $out/dev-$label.log 2>&1; echo "dev rc=$?"
date -u +"%T dev done"
nice -n 10 $dd fraud-eval --direct --ranges wide --seeds 2 --out $out/wide-$label > $out/wide-$label.log 2>&1; echo "wide rc=$?"
date -u +"%T end $label"
