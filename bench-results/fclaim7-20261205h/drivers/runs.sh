#!/bin/bash
# usage: runs.sh CODE_DIR OUT_ROOT DB "set:seed set:seed ..."
# Scores each world with the detectors of CODE_DIR (an export), one at a time, through
# `fraud-eval --direct`'s code path (run.py, from bench-results/fclaim6-20261205g).
code=$1; out=$2; db=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
for w in $@; do
  set_=${w%%:*}; seed=${w##*:}
  (cd "$code" && EVAL_DB=$db PYTHONPATH="$code" nice -n 5 /work/wt-fclaim7/.venv/bin/python "$here/run.py" "$set_" "$out/$set_" "$seed")
done
