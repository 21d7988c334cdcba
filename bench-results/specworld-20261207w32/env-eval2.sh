# a second stack for fraud-eval --direct after the change, beside the one the fraud-world runs use
export DISPUTEDESK_STATE_DIR=/work/wt/specworld/.state/eval2 DISPUTEDESK_KAFKA_PORT=28592 DISPUTEDESK_PG_PORT=28532 DISPUTEDESK_SMTP_PORT=28525
