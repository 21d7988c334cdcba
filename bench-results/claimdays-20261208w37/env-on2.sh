# A fourth stack (Part 1, worlds 103-104 with the setting on).
export DISPUTEDESK_STATE_DIR=/work/wt/claimdays/.state/on2 DISPUTEDESK_KAFKA_PORT=19392 DISPUTEDESK_PG_PORT=19732 DISPUTEDESK_SMTP_PORT=19325
