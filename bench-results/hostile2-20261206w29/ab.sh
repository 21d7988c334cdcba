#!/bin/bash
# Intake's webhook A/B: main (base, `git archive main` under /tmp/h2-base) against this branch
# (after), alternated round by round by bench/intake_ab.py, on this worktree's test stack.
# $1 = output name; VARIANTS overrides the order.
cd /work/wt/hostile2
export DISPUTEDESK_STATE_DIR=$PWD/.state/test DISPUTEDESK_KAFKA_PORT=32092 DISPUTEDESK_PG_PORT=32432 DISPUTEDESK_SMTP_PORT=32025 BENCH_E2E_PORT_BASE=32800
export BENCH_AB_ROUNDS=${ROUNDS:-3} BENCH_AB_REQUESTS=${REQUESTS:-400}
export BENCH_AB_TARGETS=${TARGETS:-swiftship,rapidroute}
export BENCH_AB_VARIANTS="${VARIANTS:-base=/tmp/h2-base;after=.}"
OUT=bench-results/hostile2-20261206w29
uptime > $OUT/$1.load
nice -n 5 .venv/bin/python bench/intake_ab.py > $OUT/$1.json 2> $OUT/$1.err
uptime >> $OUT/$1.load
