# Start/stop an SQS-protocol server on loopback (moto_server, from requirements-demo.txt: moto's SQS backend and its
# Flask server) that plays Amazon's notification queue in the demo. Source after lib.sh; ensure_venv installs moto
# first. sqs_launch starts it in the background (it warms up while the database is prepared); sqs_ready waits for it
# and creates the queue; sqs_start does both. They export AWS_SQS_ENDPOINT_URL, AMAZON_NOTIFICATIONS_QUEUE_URL (queue
# "portal-notifications"), AWS_REGION and, when unset, the dummy credentials
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY=testing that boto3 needs.
SQS_QUEUE_NAME="${SQS_QUEUE_NAME:-portal-notifications}"
SQS_PID=""
SQS_DIR=""

sqs_launch() {
  if [ ! -x "$VENV/bin/moto_server" ]; then
    echo "moto_server is missing from $VENV (pip install -r requirements-demo.txt)" >&2; return 1
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
}

sqs_ready() {
  # Wait (up to 30 s) until its port takes connections, then create the queue (CreateQueue returns an existing one).
  local i url=""
  for i in $(seq 1 300); do
    if ! kill -0 "$SQS_PID" 2>/dev/null; then
      echo "moto_server exited; its log:" >&2; cat "$SQS_DIR/log" >&2; return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$SQS_PORT") 2>/dev/null; then break; fi
    sleep 0.1
  done
  if url=$("$PY" - "$SQS_QUEUE_NAME" <<'PY'
import os, sys
import boto3
from botocore.config import Config
sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_SQS_ENDPOINT_URL"],
                   config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3}))
print(sqs.create_queue(QueueName=sys.argv[1])["QueueUrl"])
PY
  ); then
    export AMAZON_NOTIFICATIONS_QUEUE_URL="$url"
    say "SQS queue $SQS_QUEUE_NAME at $AMAZON_NOTIFICATIONS_QUEUE_URL"
  else
    echo "moto_server did not answer on 127.0.0.1:$SQS_PORT; its log:" >&2; cat "$SQS_DIR/log" >&2
    sqs_stop; return 1
  fi
}

sqs_start() {
  sqs_launch
  sqs_ready
}

sqs_stop() {
  # TERM, then KILL after 5 s: never left running, never waited on forever.
  if [ -n "${SQS_PID:-}" ]; then
    kill -TERM "$SQS_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$SQS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SQS_PID" 2>/dev/null || true
    wait "$SQS_PID" 2>/dev/null || true
    SQS_PID=""
  fi
  if [ -n "${SQS_DIR:-}" ] && [ -d "$SQS_DIR" ]; then rm -rf "$SQS_DIR"; fi
  SQS_DIR=""
}
