#!/bin/bash
# usage: runs.sh CODE_DIR OUT_ROOT DB "set:seed set:seed ..."
# Scores each world with the detectors of CODE_DIR (an export or the worktree), one at a time.
code=$1; out=$2; db=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
for w in $@; do
  set_=${w%%:*}; seed=${w##*:}
  (cd "$code" && EVAL_DB=$db PYTHONPATH="$code" nice -n 5 /work/wt-fclaim6/.venv/bin/python "$here/run.py" "$set_" "$out/$set_" "$seed")
done
