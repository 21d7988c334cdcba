#!/usr/bin/env bash
# intake_ab, base = main ba1c5cdf (/tmp/pcpu6-base) against cut = this branch (/tmp/pcpu6-cut),
# each a `git archive`, served side by side and alternated round by round, on a bench stack of
# its own (.state/bench, ports 24192/24532/24125: no test pipeline reads its topics); the
# driver and the bare endpoint from the worktree. Bring the stack down after the last run.
# usage: [CUT=DIR] ab.sh LABEL TARGETS [ROUNDS] [REQUESTS] [PROFILE=1]
# ab-1: cut = 34735db0..ca0611ef (the escalation's call; the keyed feed still transactional)
# ab-2 (with PROFILE=1), ab-3: CUT=/tmp/pcpu6-cut2 = 214e2c02 (the keyed feed's call too)
here=/work/wt/pcpu6/bench-results/pcpu6-20261206w22; label=$1; targets=$2
rounds=${3:-3}; requests=${4:-400}
export DISPUTEDESK_STATE_DIR=/work/wt/pcpu6/.state/bench DISPUTEDESK_KAFKA_PORT=24192 \
  DISPUTEDESK_PG_PORT=24532 DISPUTEDESK_SMTP_PORT=24125
profile=(); [ "${5:-0}" = 1 ] && profile=(BENCH_AB_PROFILE=$here/profile-$label)
echo "=== $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/runs.log
(cd /work/wt/pcpu6 && env "${profile[@]}" BENCH_AB_HEALTHZ=1 BENCH_AB_ROUNDS=$rounds \
  BENCH_AB_REQUESTS=$requests BENCH_AB_TARGETS=$targets \
  BENCH_AB_VARIANTS="base=/tmp/pcpu6-base;cut=${CUT:-/tmp/pcpu6-cut}" \
  nice -n 5 .venv/bin/python bench/intake_ab.py > $here/$label.json 2> $here/$label.log)
echo "=== end $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/runs.log
