# A second stack for the trace (its own eval_* databases), so it runs beside run_part1.sh.
export DISPUTEDESK_STATE_DIR=/work/wt/claimdays/.state/trace DISPUTEDESK_KAFKA_PORT=19192 DISPUTEDESK_PG_PORT=19532 DISPUTEDESK_SMTP_PORT=19125
