-- What each statement class cost PostgreSQL in one engine run (pg_stat_statements, reset before
-- the run): time in the executor and planner, rows, WAL, blocks dirtied.
select round(total_exec_time::numeric, 1) as exec_ms,
       round(total_plan_time::numeric, 1) as plan_ms,
       calls, rows,
       wal_records, wal_fpi, pg_size_pretty(wal_bytes) as wal,
       shared_blks_dirtied as dirtied, shared_blks_hit + shared_blks_read as blks,
       left(regexp_replace(query, '\s+', ' ', 'g'), 110) as query
from pg_stat_statements
where dbid = (select oid from pg_database where datname = :'db')
order by total_exec_time desc
limit 25;
