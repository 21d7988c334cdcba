# the stack this measurement ran on (ports of pcpu4)
export DISPUTEDESK_STATE_DIR=/work/wt-pcpu4/.state/bench
export DISPUTEDESK_KAFKA_PORT=26092 DISPUTEDESK_PG_PORT=26432 DISPUTEDESK_SMTP_PORT=26025
export BENCH_E2E_PORT_BASE=26800
