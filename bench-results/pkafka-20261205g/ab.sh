#!/usr/bin/env bash
# Alternate main at 93cf2ef (/tmp/pkafka-base), the consumer's commit cadence and fetch wait
# alone (ce0dfec, /tmp/pkafka-client) and the branch's head (/tmp/pkafka-after):
# e2e x1, one replica, even mix (run_one.sh). usage: ab.sh LABEL...
here=$(dirname "$0")
for label in "$@"; do
  case $label in base*) dir=/tmp/pkafka-base ;; client*) dir=/tmp/pkafka-client ;; *) dir=/tmp/pkafka-after ;; esac
  bash $here/run_one.sh $dir $label
done
