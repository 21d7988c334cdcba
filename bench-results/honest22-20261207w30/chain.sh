#!/usr/bin/env bash
# The matched runs, one at a time (fraud-eval --direct uses one eval_fraud database).
B=/work/wt/honest22/bench-results/honest22-20261207w30
while ! grep -q '^real' $B/base-dev.log; do sleep 5; done
(time $B/eval.sh /tmp/h22new $B/new-dev --ranges dev --seeds 2) > $B/new-dev.log 2>&1
(time $B/eval.sh /tmp/h22base $B/base-heldout --ranges held-out --seeds 4) > $B/base-heldout.log 2>&1
(time $B/eval.sh /tmp/h22new $B/new-heldout --ranges held-out --seeds 4) > $B/new-heldout.log 2>&1
