#!/usr/bin/env bash
# The measurement sequence of this change, base = main adee26da (/tmp/pcpu5-base), cut = this
# branch (/tmp/pcpu5-cut), each a `git archive` with the worktree's .venv:
# e2e x0.5 cut, base; intake_ab (feed, escalation, swiftship, /healthz) base against cut;
# e2e x0.5 base, cut. usage: ab.sh
here=/work/wt/pcpu5/bench-results/pcpu5-20261205w21
export MULT=${MULT:-0.5}
bash $here/run_one.sh /tmp/pcpu5-cut cut-1
bash $here/run_one.sh /tmp/pcpu5-base base-1
export DISPUTEDESK_STATE_DIR=/work/wt/pcpu5/.state/bench DISPUTEDESK_KAFKA_PORT=23192 \
  DISPUTEDESK_PG_PORT=23532 DISPUTEDESK_SMTP_PORT=23125
echo "=== ab $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/runs.log
(cd /tmp/pcpu5-cut && .venv/bin/python -m disputedesk.cli stack up > /dev/null 2>&1)
(cd /tmp/pcpu5-cut && PYTHONPATH=/tmp/pcpu5-cut BENCH_AB_HEALTHZ=1 BENCH_AB_ROUNDS=3 \
  BENCH_AB_REQUESTS=400 BENCH_AB_TARGETS=feed,escalation,swiftship \
  BENCH_AB_VARIANTS='base=/tmp/pcpu5-base;cut=/tmp/pcpu5-cut' \
  nice -n 5 .venv/bin/python bench/intake_ab.py > $here/ab-1.json 2> $here/ab-1.log)
(cd /tmp/pcpu5-cut && .venv/bin/python -m disputedesk.cli stack down > /dev/null 2>&1)
echo "=== end ab $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $here/runs.log
bash $here/run_one.sh /tmp/pcpu5-base base-2
bash $here/run_one.sh /tmp/pcpu5-cut cut-2
