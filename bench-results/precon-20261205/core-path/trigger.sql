create temp table a (id bigserial primary key, v int);
create temp table b (id bigserial primary key, v int);
create temp table c (id bigserial primary key, v int);
create trigger a_notify after insert on a for each row execute function disputedesk_notify_channel('x');
create or replace function pg_temp.notify_if_rows() returns trigger language plpgsql as $$
begin
  if exists (select 1 from new_rows) then perform pg_notify(TG_ARGV[0], ''); end if;
  return null;
end $$;
create trigger c_notify after insert on c referencing new table as new_rows for each statement execute function pg_temp.notify_if_rows('x');
\timing on
begin; insert into a (v) select g from generate_series(1,20000) g; commit;
begin; insert into b (v) select g from generate_series(1,20000) g; commit;
begin; insert into c (v) select g from generate_series(1,20000) g; commit;
begin; insert into a (v) select g from generate_series(1,20000) g; commit;
begin; insert into b (v) select g from generate_series(1,20000) g; commit;
begin; insert into c (v) select g from generate_series(1,20000) g; commit;
