# Start/stop an SQS-protocol server on loopback (moto_server, from moto[server] in requirements.txt) that plays
# Amazon's notification queue in the demo and the tests. Source after lib.sh; ensure_venv installs moto first.
# sqs_start exports AWS_SQS_ENDPOINT_URL, AMAZON_NOTIFICATIONS_QUEUE_URL (queue "portal-notifications"), AWS_REGION
# and, when unset, the dummy credentials AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY=testing that boto3 needs.
SQS_QUEUE_NAME="${SQS_QUEUE_NAME:-portal-notifications}"

sqs_start() {
  if [ ! -x "$VENV/bin/moto_server" ]; then
    echo "moto_server is missing from $VENV (pip install -r requirements.txt)" >&2; return 1
  fi
  SQS_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  SQS_DIR=$(mktemp -d /tmp/portal-sqs.XXXXXX)
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_SQS_ENDPOINT_URL="http://127.0.0.1:$SQS_PORT"
  say "Starting the SQS-protocol server (moto) on 127.0.0.1:$SQS_PORT"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$SQS_PORT" >"$SQS_DIR/log" 2>&1 &
  SQS_PID=$!
  export SQS_DIR SQS_PID SQS_PORT
  # Wait until it answers the SQS API, then create the queue (idempotent: CreateQueue returns an existing one).
  local url="" i
  for i in $(seq 1 100); do
    if ! kill -0 "$SQS_PID" 2>/dev/null; then
      echo "moto_server exited; its log:" >&2; cat "$SQS_DIR/log" >&2; return 1
    fi
    if url=$("$PY" - "$SQS_QUEUE_NAME" 2>/dev/null <<'PY'
import os, sys
import boto3
from botocore.config import Config
sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_SQS_ENDPOINT_URL"],
                   config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}))
print(sqs.create_queue(QueueName=sys.argv[1])["QueueUrl"])
PY
    ); then break; fi
    url=""; sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "moto_server did not answer on 127.0.0.1:$SQS_PORT; its log:" >&2; cat "$SQS_DIR/log" >&2
    sqs_stop; return 1
  fi
  export AMAZON_NOTIFICATIONS_QUEUE_URL="$url"
  say "SQS queue $SQS_QUEUE_NAME at $AMAZON_NOTIFICATIONS_QUEUE_URL"
}

sqs_stop() {
  if [ -n "${SQS_PID:-}" ]; then
    kill "$SQS_PID" 2>/dev/null || true
    wait "$SQS_PID" 2>/dev/null || true
    SQS_PID=""
  fi
  if [ -n "${SQS_DIR:-}" ] && [ -d "$SQS_DIR" ]; then rm -rf "$SQS_DIR"; fi
}
