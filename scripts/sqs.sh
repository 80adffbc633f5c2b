# Start/stop an SQS-protocol server on loopback (moto_server, from requirements-demo.txt: moto's SQS backend and its
# Flask server) that plays Amazon's notification queue in the demo. Source after lib.sh; ensure_venv installs moto
# first. sqs_launch starts the server and the creation of the queue in the background (they run while the database
# is prepared); sqs_ready waits for the queue; sqs_start does both. They export AWS_SQS_ENDPOINT_URL,
# AMAZON_NOTIFICATIONS_QUEUE_URL (queue "portal-notifications"), AWS_REGION and, when unset, the dummy credentials
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY=testing that boto3 needs. sqs_stop stops both.
SQS_QUEUE_NAME="${SQS_QUEUE_NAME:-portal-notifications}"
SQS_PID=""
SQS_CREATE_PID=""
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
  # The queue is created in the background too, as soon as the server answers (CreateQueue returns an existing
  # queue): its URL lands in $SQS_DIR/url.
  "$PY" - "$SQS_QUEUE_NAME" "$SQS_DIR/url" >"$SQS_DIR/create.log" 2>&1 <<'PY' &
import os, sys, time
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_SQS_ENDPOINT_URL"],
                   config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}))
deadline = time.monotonic() + 60
while True:
    try:
        url = sqs.create_queue(QueueName=sys.argv[1])["QueueUrl"]
        break
    except (BotoCoreError, ClientError):
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(url)
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
  SQS_CREATE_PID=$!
  export SQS_DIR SQS_PID SQS_PORT
}

sqs_ready() {
  # Waits for the queue sqs_launch is creating.
  if ! wait "$SQS_CREATE_PID" || [ ! -s "$SQS_DIR/url" ]; then
    echo "moto_server did not answer on 127.0.0.1:$SQS_PORT; its log:" >&2; cat "$SQS_DIR/log" "$SQS_DIR/create.log" >&2
    sqs_stop; return 1
  fi
  export AMAZON_NOTIFICATIONS_QUEUE_URL="$(cat "$SQS_DIR/url")"
  say "SQS queue $SQS_QUEUE_NAME at $AMAZON_NOTIFICATIONS_QUEUE_URL"
}

sqs_start() {
  sqs_launch
  sqs_ready
}

sqs_stop() {
  # TERM, then KILL after 5 s: never left running, never waited on forever.
  if [ -n "${SQS_CREATE_PID:-}" ]; then
    kill -KILL "$SQS_CREATE_PID" 2>/dev/null || true
    wait "$SQS_CREATE_PID" 2>/dev/null || true
    SQS_CREATE_PID=""
  fi
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
