# The bench stack of this measurement (its own state and ports).
export DISPUTEDESK_STATE_DIR=/work/wt/rrelay/.state/bench DISPUTEDESK_KAFKA_PORT=33192
export DISPUTEDESK_PG_PORT=33532 DISPUTEDESK_SMTP_PORT=33125 LOG_LEVEL=WARNING
