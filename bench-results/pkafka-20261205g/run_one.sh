#!/usr/bin/env bash
# One e2e run (×1, one replica, even mix) from checkout $1, results under label $2, on this
# branch's bench stack (Kafka 26092), brought up from that checkout (its broker settings) and
# down after. The broker is sampled meanwhile: requests by API and CPU per thread through JMX
# (BrokerMeter.java, every 2 s), CPU per native thread (threads.py, every second).
# The state folder is named through a symlink (/tmp/pkb-state -> .state/bench), meant to keep
# "kafka" out of the stack's command lines (the e2e benchmark called any process with the word
# the broker); it did not help: PostgreSQL runs from this worktree's virtualenv (wt-pkafka), so
# in every run here the e2e's Kafka column is Kafka + PostgreSQL. The broker's own CPU is the
# samplers' (analyze.py); bench/e2e/cpu.py now finds the broker by its main class.
# usage: run_one.sh CHECKOUT LABEL
dir=$1; label=$2
out=/work/wt-pkafka/bench-results/pkafka-20261205g
export DISPUTEDESK_STATE_DIR=/tmp/pkb-state DISPUTEDESK_KAFKA_PORT=26092 \
  DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025 BENCH_E2E_PORT_BASE=26800
echo "=== $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $out/runs.log
(cd $dir && .venv/bin/python -m disputedesk.cli stack up > /dev/null 2>&1)
kpid=$(cat $DISPUTEDESK_STATE_DIR/kafka/kafka.pid)
rm -f $out/broker-$label.jsonl $out/threads-$label.jsonl
(cd $out && exec java -cp . BrokerMeter $kpid $out/broker-$label.jsonl 5000) & meter=$!
python3 $out/threads.py $kpid $out/threads-$label.jsonl & sampler=$!
(cd $dir && PYTHONPATH=$dir KEEP_BENCH_STACK=1 BENCH_E2E_MULTIPLIERS=1 BENCH_E2E_MIX=even \
  BENCH_E2E_REPLICAS=1 nice -n 5 bash scripts/bench.sh e2e > $out/$label.log 2>&1)
kill $meter $sampler
cp $dir/bench-results/e2e.json $out/e2e-$label.json
grep -E "accepted|idle:|request errors" $out/$label.log | tee -a $out/runs.log
(cd /work/wt-pkafka && .venv/bin/python -m bench.e2e_hops --json $out/hops-$label.json > $out/hops-$label.txt 2>&1)
(cd $dir && .venv/bin/python -m disputedesk.cli stack down >/dev/null 2>&1)
echo "=== end $label $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $out/runs.log
