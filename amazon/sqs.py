"""Amazon's notifications from an SQS queue (the Notifications API's SQS destination), read with boto3.

The same code reads AWS in production and the SQS-protocol server on loopback that plays it in the demo and the
tests (AWS_SQS_ENDPOINT_URL). Messages are deleted only after the caller handled them, so a crash re-delivers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

log = logging.getLogger(__name__)


class QueueError(Exception):
    pass


@dataclass(frozen=True)
class Notification:
    type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]


def _client() -> Any:
    key = (settings.AWS_REGION, settings.AWS_SQS_ENDPOINT_URL)
    if key not in _clients:
        _clients[key] = _new_client()
    return _clients[key]


# One client per process and endpoint: creating one costs tens of milliseconds, and a reader that long-polls in a
# loop would pay it every second. boto3 clients are thread-safe once created.
_clients: dict[tuple[str, str], Any] = {}


def _new_client() -> Any:
    config = Config(
        connect_timeout=settings.HTTP_CONNECT_TIMEOUT,
        read_timeout=settings.HTTP_READ_TIMEOUT,
        retries={"max_attempts": 2},
    )
    return boto3.client(
        "sqs",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.AWS_SQS_ENDPOINT_URL or None,
        config=config,
    )


def parse(body: str) -> Notification | None:
    """A notification as Amazon sends it, or None.

    Two spellings reach the same queue: the application notifications (APPLICATION_OAUTH_CLIENT_NEW_SECRET, …) use
    camelCase keys, notificationType / payload / notificationMetadata (github:amzn/selling-partner-api-samples
    use-cases/lwa-rotation/docs/DEPLOYMENT.md), while the documents under selling-partner-api-models
    schemas/notifications, ORDER_CHANGE among them (OrderChangeNotification.json), capitalize them:
    NotificationType / Payload / NotificationMetadata. The payload and metadata are kept as sent.
    """
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    for kind_key, payload_key, metadata_key in (
        ("notificationType", "payload", "notificationMetadata"),
        ("NotificationType", "Payload", "NotificationMetadata"),
    ):
        kind = doc.get(kind_key)
        if isinstance(kind, str):
            payload = doc.get(payload_key)
            metadata = doc.get(metadata_key)
            return Notification(
                kind,
                payload if isinstance(payload, dict) else {},
                metadata if isinstance(metadata, dict) else {},
            )
    return None


def drain(
    queue_url: str, handle: Callable[[Notification], None], max_batches: int = 10, wait_seconds: int = 0
) -> int:
    """Receive up to `max_batches` × 10 messages, hand each notification to `handle`, delete it afterwards.

    `wait_seconds` (0–20) long-polls the first receive: SQS answers as soon as a message arrives (ReceiveMessage,
    WaitTimeSeconds), so a reader that loops on it sees a notification within moments without spinning.
    A message `handle` raises on stays in the queue and comes back after its visibility timeout; an unreadable one
    is deleted (logged), as it can never be handled. Handled messages are deleted ten at a time.
    """
    client = _client()
    handled = 0
    try:
        for batch in range(max_batches):
            answer = client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait_seconds if batch == 0 else 0,
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            done: list[dict[str, str]] = []
            try:
                for message in messages:
                    notification = parse(message.get("Body", ""))
                    if notification is None:
                        log.warning("unreadable notification %s deleted", message.get("MessageId"))
                    else:
                        handle(notification)
                        handled += 1
                    done.append({"Id": str(len(done)), "ReceiptHandle": message["ReceiptHandle"]})
            finally:
                if done:
                    client.delete_message_batch(QueueUrl=queue_url, Entries=done)
    except (BotoCoreError, ClientError) as e:
        raise QueueError(str(e)) from e
    return handled


def queue_arn(queue_url: str) -> str:
    """The queue's ARN (what a Notifications API destination names), from GetQueueAttributes."""
    try:
        answer = _client().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    except (BotoCoreError, ClientError) as e:
        raise QueueError(str(e)) from e
    arn = answer.get("Attributes", {}).get("QueueArn")
    if not isinstance(arn, str) or not arn:
        raise QueueError("the queue has no ARN")
    return arn
