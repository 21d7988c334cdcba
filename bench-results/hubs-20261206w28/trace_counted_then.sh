#!/usr/bin/env bash
# A hub's journeys by the UTC day they ended (return_facts naming the hub), as fraud held them
# when it scored a given moment (the terminal scan's first assessment committed before AT) and
# as they end up, from a fraud-world run's fraud database. Read-only.
#   bash trace_counted_then.sh PGPORT HUB 'AT (wall, UTC)' FROM_DAY TO_DAY
port=$1 hub=$2 at=$3 from=$4 to=$5
PGPASSWORD=postgres psql -h 127.0.0.1 -p "$port" -U postgres -d fworld_fraud -c "
with h as (select r.return_id, r.terminal_at, r.incident, r.escalation_id is not null claimed
           from return_facts r where r.hubs @> '[\"$hub\"]'),
a as (select h.*, (select min(assessed_at) from assessments s where s.return_id = h.return_id
                   and s.event_time = h.terminal_at and s.revision = 0) processed from h)
select terminal_at::date as day, count(*) as ended, count(*) filter (where incident) as incidents,
       count(*) filter (where incident and claimed) as claimed_incidents,
       count(*) filter (where processed < '$at') as ended_counted_then,
       count(*) filter (where incident and processed < '$at') as incidents_counted_then
from a where terminal_at >= '$from' and terminal_at < '$to' group by 1 order by 1"
