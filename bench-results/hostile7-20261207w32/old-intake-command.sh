cd /work/wt/hostile7
export DISPUTEDESK_STATE_DIR=/work/wt/hostile7/.state/test
set -a; . .state/test/stack.env; . .state/test/dev-credentials.env; set +a
export DISPUTEDESK_KEYRING_FILE=/work/wt/hostile7/.state/test/keyring.json
# main's command for a service (supervisor.ServiceSpec.command before this branch): no proxy-header option
exec nice -n 10 .venv/bin/python -m uvicorn services.intake.app:create_app --factory --http shared.http_protocol:ProblemHttpProtocol --no-access-log --host 127.0.0.1 --port 26101
