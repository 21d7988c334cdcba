#!/usr/bin/env bash
# intake_ab on the feed and escalations only, base (main adee26da) against cut (this branch),
# 4 rounds x 400 at concurrency 16, py-spy profiles per variant. usage: ab-feed.sh LABEL
here=/work/wt/pcpu5/bench-results/pcpu5-20261205w21; label=$1
export DISPUTEDESK_STATE_DIR=/work/wt/pcpu5/.state/bench DISPUTEDESK_KAFKA_PORT=23192 \
  DISPUTEDESK_PG_PORT=23532 DISPUTEDESK_SMTP_PORT=23125
echo "=== $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/runs.log
(cd /tmp/pcpu5-cut && .venv/bin/python -m disputedesk.cli stack up > /dev/null 2>&1)
(cd /tmp/pcpu5-cut && PYTHONPATH=/tmp/pcpu5-cut BENCH_AB_ROUNDS=4 BENCH_AB_REQUESTS=400 \
  BENCH_AB_TARGETS=feed,escalation BENCH_AB_PROFILE=$here/profile-$label \
  BENCH_AB_VARIANTS='base=/tmp/pcpu5-base;cut=/tmp/pcpu5-cut' \
  nice -n 5 .venv/bin/python bench/intake_ab.py > $here/$label.json 2> $here/$label.log)
(cd /tmp/pcpu5-cut && .venv/bin/python -m disputedesk.cli stack down > /dev/null 2>&1)
echo "=== end $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/runs.log
