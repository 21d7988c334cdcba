#!/usr/bin/env bash
# fraud-eval --direct on this branch (after) and on aeadc760 (before: the archive in
# .state/basesrc, PYTHONPATH from there), one after the other: RANGES (dev, wide), seeds 1.
W=/work/wt/claimdrop
B=$W/bench-results/claimdrop-20261207w34
. $B/env.sh
R=${RANGES:-wide}
cd $W && nice -n 10 .venv/bin/disputedesk fraud-eval --direct --ranges $R --seeds 1 --out $B/$R-after > $B/$R-after.log 2>&1
cd $W/.state/basesrc && PYTHONPATH=$W/.state/basesrc nice -n 10 $W/.venv/bin/python -m disputedesk.cli fraud-eval --direct --ranges $R --seeds 1 --out $B/$R-before > $B/$R-before.log 2>&1
