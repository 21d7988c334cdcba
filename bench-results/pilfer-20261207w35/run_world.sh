#!/usr/bin/env bash
# seeds through the stack (world end fixed), each settled fraud/intake database kept as
# pf<seed><TAG>_<service> for offline reading
. /work/wt/pilfer/bench-results/pilfer-20261207w35/env.sh
B=bench-results/pilfer-20261207w35
for s in ${SEEDS:-7373 8484}; do
  nice -n 10 .venv/bin/python $B/fw_at_end.py $s ${END:-2026-12-07T14:00:00+00:00} $B/${OUT:-base} > $B/${OUT:-base}-$s.log 2>&1
  for svc in fraud intake; do
    PGPASSWORD=postgres psql -h 127.0.0.1 -p 23432 -U postgres -d postgres -c "DROP DATABASE IF EXISTS pf$s${TAG:-}_$svc" -c "CREATE DATABASE pf$s${TAG:-}_$svc TEMPLATE fworld_$svc" >> $B/${OUT:-base}-$s.log 2>&1
  done
done
