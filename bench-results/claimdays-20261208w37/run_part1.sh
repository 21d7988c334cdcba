#!/usr/bin/env bash
# Part 1: fraud-eval --direct on dev worlds 101-104, FRAUD_SELLER_LIGHT_PARCELS off and on, same
# tree, same session. The machine was loaded (load 9-18 on 2 cores, shared with three other
# runs), so the four (setting, worlds) pairs ran side by side, each on its own stack (its own
# eval_* databases): drivers/eval_seeds.py keeps each seed's raw table, pool_tables.py pools
# them as fraud-eval does.
W=/work/wt/claimdays
B=$W/bench-results/claimdays-20261208w37
cd $W
run() {  # env-file setting out seeds...
  local envf=$1 on=$2 out=$3; shift 3
  ( . $B/$envf; FRAUD_SELLER_LIGHT_PARCELS=$on PYTHONPATH=$W .venv/bin/python $B/drivers/eval_seeds.py $B/$out "$@" > $B/$out.log 2>&1 ) &
}
run env.sh false p1-off-a 101 102
run env-on.sh true p1-on-a 101 102
run env-trace.sh false p1-off-b 103 104
run env-on2.sh true p1-on-b 103 104
wait
