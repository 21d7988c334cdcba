#!/usr/bin/env bash
# When fraud handled the terminal scans of the journeys that ended on days FROM..TO (wall time of
# their first assessment), by incident and claimed: claimed journeys go ahead with their claim.
#   bash trace_order.sh PGPORT FROM_DAY TO_DAY
port=$1 from=$2 to=$3
PGPASSWORD=postgres psql -h 127.0.0.1 -p "$port" -U postgres -d fworld_fraud -c "
select r.incident, r.escalation_id is not null as claimed, count(*),
       min(s.assessed_at)::time as first, percentile_cont(0.5) within group (order by s.assessed_at::time) as median,
       max(s.assessed_at)::time as last
from return_facts r join assessments s on s.return_id = r.return_id and s.event_time = r.terminal_at
     and s.revision = 0 and s.subject_type like '%shipment%'
where r.terminal_at >= '$from' and r.terminal_at < '$to' group by 1, 2 order by 1, 2"
