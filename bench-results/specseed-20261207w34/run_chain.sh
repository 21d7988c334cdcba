#!/usr/bin/env bash
# after the run in progress (pid $1): keep its settled databases as sw<seed>_<service>, then the next seeds
cd /work/wt/specseed && . bench-results/specseed-20261207w34/env.sh
B=bench-results/specseed-20261207w34
keep() {  # $1 seed, $2 tag
  for svc in fraud intake; do
    PGPASSWORD=postgres psql -h 127.0.0.1 -p 25432 -U postgres -d postgres -c "DROP DATABASE IF EXISTS sw$1${2}_$svc" -c "CREATE DATABASE sw$1${2}_$svc TEMPLATE fworld_$svc"
  done
}
while kill -0 $1 2>/dev/null; do sleep 5; done
keep ${FIRST:-7373} ${TAG:-}
for s in ${NEXT:-8484}; do
  nice -n 10 .venv/bin/python bench-results/specworld-20261207w32/fw_at_end.py $s ${END:-2026-12-07T14:00:00+00:00} $B/${OUT:-base} > $B/${OUT:-base}-$s.log 2>&1
  keep $s ${TAG:-}
done
