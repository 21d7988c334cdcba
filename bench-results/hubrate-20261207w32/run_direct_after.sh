#!/usr/bin/env bash
# run_direct_after.sh : fraud-eval --direct with the change, once run_all.sh's before-runs have
# left the stack's eval databases.
set -u
out=/work/wt/hubrate/bench-results/hubrate-20261207w32
src=/work/wt/hubrate/.state/after-src
. $out/env.sh
until grep -q "end before" $out/run-before.log; do sleep 10; done
cd $src && export PYTHONPATH=$src
dd=/work/wt/hubrate/.venv/bin/disputedesk
date -u +"%T start direct after"
nice -n 10 $dd fraud-eval --direct --ranges dev --seeds 2 --out $out/dev-after > $out/dev-after.log 2>&1; echo "dev rc=$?"
nice -n 10 $dd fraud-eval --direct --ranges wide --seeds 2 --out $out/wide-after > $out/wide-after.log 2>&1; echo "wide rc=$?"
date -u +"%T end direct after"
