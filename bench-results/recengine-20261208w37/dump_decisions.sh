#!/usr/bin/env bash
# dump_decisions.sh OUT : the decision run's cases, timeline, outbox and ledger rows of the
# bench_cpu_decisions database, with ids, random suffixes and times masked and rows sorted, so
# two codes' runs compare with diff.
set -euo pipefail
q() { psql -qAt -h 127.0.0.1 -p "${DISPUTEDESK_PG_PORT:-21432}" -U postgres bench_cpu_decisions -c "$1"; }
{
  q "SELECT 'case', r.item_value, c.state, c.payout, c.reason_code, c.waiting_for, c.version, c.decision::text FROM cases c JOIN returns r USING (return_id)"
  q "SELECT 'timeline', c.version, t.case_version, t.kind, t.actor, t.reason, t.data::text FROM case_timeline t JOIN cases c USING (case_id)"
  q "SELECT 'outbox', ce_type, topic, payload::text FROM outbox"
  q "SELECT 'ledger', t.kind, t.policy_version, t.description, e.account_type, e.amount FROM ledger_entries e JOIN ledger_transactions t USING (transaction_id)"
} | sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(\+00:00|Z)?/<time>/g; s/sc1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/<sealed>/g; s/RET-BENCH-[0-9]{6}-[0-9a-f]{6}/<ret>/g; s/CASE-[0-9A-F]{12}/<case>/g; s/(ESC|SEL|BUY|ORD|AWB|PRT|SCAN|EVT)[-A-Za-z0-9_]*/\1-<id>/g' | sort > "$1"
wc -l "$1"
