#!/usr/bin/env bash
# 4242 after, from an archive of the product change (.state/aftersrc, git archive of 4a8c90cc),
# once the before run (pid $1) has finished: the worktree moves on meanwhile.
W=/work/wt/claimdrop
B=$W/bench-results/claimdrop-20261207w34
. $B/env.sh
while kill -0 $1 2>/dev/null; do sleep 5; done
cd $W/.state/aftersrc && PYTHONPATH=$W/.state/aftersrc nice -n 10 $W/.venv/bin/python $W/bench-results/specworld-20261207w32/fw_at_end.py 4242 2026-12-07T14:00:00+00:00 $B/after > $B/after-4242.log 2>&1
