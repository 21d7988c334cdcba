#!/usr/bin/env bash
# Each hub's highest pilferage finding over a fraud-world run's assessments (fraud's own
# reasons: code, count / trials, peers, concentration, log BF), read-only.
#   bash hub_peaks.sh PGPORT
PGPASSWORD=postgres psql -h 127.0.0.1 -p "$1" -U postgres -d fworld_fraud -c "
with f as (select a.event_time, r->'numbers'->>'entity' hub, r->>'code' code, (r->'numbers'->>'log_bayes_factor')::float lbf,
                  r->'numbers'->>'count' k, r->'numbers'->>'trials' n, r->'numbers'->>'peer_rate' peer,
                  r->'numbers'->>'peer_concentration' conc, r->'numbers'->>'history_count' hk, r->'numbers'->>'history_trials' hn
           from assessments a, jsonb_array_elements(a.reasons::jsonb) r
           where r->>'code' like 'HUB_PILFERAGE%' and r->'numbers' ? 'log_bayes_factor')
select distinct on (hub) hub, code, lbf, k, n, peer, conc, hk, hn, event_time from f order by hub, lbf desc"
