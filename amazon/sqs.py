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
    """A notification as Amazon sends it (notificationType, payload, notificationMetadata), or None."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("notificationType"), str):
        return None
    payload = doc.get("payload")
    metadata = doc.get("notificationMetadata")
    return Notification(
        doc["notificationType"],
        payload if isinstance(payload, dict) else {},
        metadata if isinstance(metadata, dict) else {},
    )


def drain(queue_url: str, handle: Callable[[Notification], None], max_batches: int = 10) -> int:
    """Receive up to `max_batches` × 10 messages, hand each notification to `handle`, delete it afterwards.

    A message `handle` raises on stays in the queue and comes back after its visibility timeout; an unreadable one
    is deleted (logged), as it can never be handled.
    """
    client = _client()
    handled = 0
    try:
        for _ in range(max_batches):
            answer = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = answer.get("Messages", [])
            if not messages:
                break
            for message in messages:
                notification = parse(message.get("Body", ""))
                if notification is None:
                    log.warning("unreadable notification %s deleted", message.get("MessageId"))
                else:
                    handle(notification)
                    handled += 1
                client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except (BotoCoreError, ClientError) as e:
        raise QueueError(str(e)) from e
    return handled
