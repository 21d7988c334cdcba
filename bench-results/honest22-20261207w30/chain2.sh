#!/usr/bin/env bash
# After the first after-run (the alert state in the baseline's key): the committed code on dev,
# then held-out 9001-9002 before and after (what time allowed).
B=/work/wt/honest22/bench-results/honest22-20261207w30
while ! grep -q '^real' $B/new-dev.log; do sleep 5; done
mv $B/new-dev $B/keyed-dev; mv $B/new-dev.log $B/keyed-dev.log
(time $B/eval.sh /tmp/h22new2 $B/new-dev --ranges dev --seeds 2) > $B/new-dev.log 2>&1
(time $B/eval.sh /tmp/h22base $B/base-heldout --ranges held-out --seeds 2) > $B/base-heldout.log 2>&1
(time $B/eval.sh /tmp/h22new2 $B/new-heldout --ranges held-out --seeds 2) > $B/new-heldout.log 2>&1
