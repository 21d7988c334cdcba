create temp table src as select payload::text as t from outbox where ce_type like '%decided%' or ce_type like '%settled%';
create temp table t_default (id bigserial primary key, payload jsonb);
create temp table t_inline (id bigserial primary key, payload jsonb) with (toast_tuple_target = 8160);
\timing on
insert into t_default (payload) select t::jsonb from src;
insert into t_inline (payload) select t::jsonb from src;
insert into t_default (payload) select t::jsonb from src;
insert into t_inline (payload) select t::jsonb from src;
insert into t_default (payload) select t::jsonb from src;
insert into t_inline (payload) select t::jsonb from src;
\timing off
select pg_column_compression(payload), count(*) from t_inline group by 1;
\timing on
select sum(length(payload::text)) from t_default;
select sum(length(payload::text)) from t_inline;
select sum(length(payload::text)) from t_default;
select sum(length(payload::text)) from t_inline;
