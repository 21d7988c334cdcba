# A third stack for the setting-on run of Part 1, so it runs beside the off run (the test stack).
export DISPUTEDESK_STATE_DIR=/work/wt/claimdays/.state/on DISPUTEDESK_KAFKA_PORT=19292 DISPUTEDESK_PG_PORT=19632 DISPUTEDESK_SMTP_PORT=19225
