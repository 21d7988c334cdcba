#!/usr/bin/env bash
# the stack runs after the change: 5151, 6262 and 4242, world end fixed at 2026-12-07T05:00Z;
# each seed's fraud and intake databases kept as sw<seed>a_* for tracing
cd /work/wt/specworld && . bench-results/specworld-20261207w32/env.sh
B=bench-results/specworld-20261207w32
for s in ${SEEDS:-5151 6262 4242}; do
  nice -n 10 .venv/bin/python $B/fw_at_end.py $s 2026-12-07T05:00:00+00:00 $B/after > $B/after-$s.log 2>&1
  for d in fraud intake; do
    PGPASSWORD=postgres psql -h 127.0.0.1 -p 25432 -U postgres -d postgres -c "drop database if exists sw${s}a_$d" -c "create database sw${s}a_$d template fworld_$d" >> $B/after-$s.log 2>&1
  done
done
