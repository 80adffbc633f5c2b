"""Amazon's LWA client-secret rotation: the Application Management API and the notifications it sends.

- `rotate_client_secret` plays rotateApplicationClientSecret, POST /applications/2023-11-30/clientSecret
  (github:amzn/selling-partner-api-models models/application-management-api-model/application_2023-11-30.json): a
  grantless operation, authorized by an access token of the client_credentials grant with the scope
  sellingpartnerapi::client_credential:rotation (sandbox.services.check_grantless_token). It answers 204 without a
  body; the new secret only travels in the APPLICATION_OAUTH_CLIENT_NEW_SECRET notification to the developer's SQS
  queue ("Application Management API use case guide": "a new client secret is created ... The new credential is
  sent to your preregistered SQS queue along with the expiry time for the old credentials").
- The new secret lives 180 days and the old one keeps working for seven more days ("Rotating your apps' LWA
  credentials": "Your old credentials expire seven days after you generate new credentials").
- `announce_secret_expiry` sends APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY, which Amazon sends ahead of the deadline
  (90 days before it, says the rotation guide) and which the lwa-rotation sample reacts to by rotating.

Notifications are shaped as the samples of github:amzn/selling-partner-api-samples use-cases/lwa-rotation/docs/
DEPLOYMENT.md (the notification schemas under selling-partner-api-models schemas/notifications have none for these
two types): notificationVersion, notificationType, payloadVersion, eventTime, payload, notificationMetadata
{applicationId, subscriptionId, publishTime, notificationId}. They go to settings.SANDBOX_NOTIFICATIONS_QUEUE_URL
with boto3 (settings.AWS_SQS_ENDPOINT_URL, settings.AWS_REGION; credentials from boto3's environment).
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import clock, ratelimit, services
from sandbox.models import SandboxApplication
from sandbox.spapi import error_response

OPERATION = "rotateApplicationClientSecret"
NEW_SECRET = "APPLICATION_OAUTH_CLIENT_NEW_SECRET"
SECRET_EXPIRY = "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY"
# The only reason in Amazon's samples (DEPLOYMENT.md, auth-lifecycle-management/QuickStart.md).
PERIODIC_ROTATION = "PERIODIC_ROTATION"
NOTIFICATION_VERSION = "1.0"
PAYLOAD_VERSION = "2023-11-30"
MAX_DAYS_LEFT = 180  # a secret never has more than its 180 days left
# application_2023-11-30.json, 400: the answer when no queue is registered for the new secret.
NOT_ENROLLED = (
    "Application is not enrolled for rotation notification. Please update application notification preference in "
    "Developer console."
)
DENIED = "Access to requested resource is denied."


class NotificationError(Exception):
    """The notification could not be sent (no queue configured, or the queue refused it)."""


def amazon_time(at: datetime) -> str:
    """2024-01-10T22:09:17.456Z, as in Amazon's notifications."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def new_client_secret() -> str:
    # Amazon's secrets look like amzn1.oa2-cs.v1.<64 hex digits> (the samples elide the digits).
    return "amzn1.oa2-cs.v1." + secrets.token_hex(32)


def notification(
    application: SandboxApplication, kind: str, payload: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """One notification, as Amazon's samples show it. subscriptionId is stable per application and type."""
    return {
        "notificationVersion": NOTIFICATION_VERSION,
        "notificationType": kind,
        "payloadVersion": PAYLOAD_VERSION,
        "eventTime": amazon_time(at),
        "payload": payload,
        "notificationMetadata": {
            "applicationId": application.application_id,
            "subscriptionId": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:{application.application_id}:{kind}")
            ),
            "publishTime": amazon_time(at),
            "notificationId": str(uuid.uuid4()),
        },
    }


def _sqs() -> Any:
    config = Config(
        connect_timeout=settings.HTTP_CONNECT_TIMEOUT,
        read_timeout=settings.HTTP_READ_TIMEOUT,
        retries={"max_attempts": 2},
    )
    # A session per call: boto3's default session is not thread-safe, and this runs in web threads.
    return boto3.session.Session().client(
        "sqs",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.AWS_SQS_ENDPOINT_URL or None,
        config=config,
    )


def send(message: dict[str, Any]) -> None:
    """Deliver a notification to settings.SANDBOX_NOTIFICATIONS_QUEUE_URL; NotificationError when it cannot."""
    queue_url = settings.SANDBOX_NOTIFICATIONS_QUEUE_URL
    if not queue_url:
        raise NotificationError("No notification queue: set SANDBOX_NOTIFICATIONS_QUEUE_URL.")
    try:
        _sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
    except (BotoCoreError, ClientError) as exc:
        raise NotificationError(f"The notification queue refused the message: {exc}") from exc


SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries (Amazon SQS API Reference, SendMessageBatch)


def send_batch(messages: list[dict[str, Any]]) -> None:
    """Deliver many notifications to settings.SANDBOX_NOTIFICATIONS_QUEUE_URL, ten per SendMessageBatch call;
    NotificationError when there is no queue or any entry is refused (the ones before it may have been sent)."""
    if not messages:
        return
    queue_url = settings.SANDBOX_NOTIFICATIONS_QUEUE_URL
    if not queue_url:
        raise NotificationError("No notification queue: set SANDBOX_NOTIFICATIONS_QUEUE_URL.")
    client = _sqs()
    for start in range(0, len(messages), SQS_BATCH):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(message)}
            for n, message in enumerate(messages[start : start + SQS_BATCH])
        ]
        try:
            answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            raise NotificationError(f"The notification queue refused the messages: {exc}") from exc
        failed = answer.get("Failed") or []
        if failed:
            raise NotificationError(
                f"The notification queue refused {len(failed)} of {len(entries)} messages."
            )


def _spapi_application(application_id_or_client_id: str | SandboxApplication) -> SandboxApplication:
    if isinstance(application_id_or_client_id, SandboxApplication):
        application = application_id_or_client_id
    else:
        found = services.find_application(application_id_or_client_id)
        if found is None:
            raise LookupError(f"No sandbox application {application_id_or_client_id!r}.")
        application = found
    if application.kind != SandboxApplication.Kind.SP:
        # Ads clients rotate their secrets in the LWA console, not through the SP-API.
        raise LookupError(f"{application.name} is not an SP-API application.")
    return application


def clean_days_left(value: int | str | None) -> int | None:
    """days_left as typed or passed: None (keep the expiry), or a whole number from 0 to 180."""
    rule = f"Days left must be a whole number from 0 to {MAX_DAYS_LEFT}."
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 3:
            raise ValueError(rule)
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS_LEFT:
        raise ValueError(rule)
    return value


def announce_secret_expiry(
    application_id_or_client_id: str | SandboxApplication, days_left: int | str | None = None
) -> dict[str, Any]:
    """Send APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY for the application's current secret; returns the message.

    days_left=None announces the stored expiry; a number first moves the current secret's expiry to that many days
    from now (as if the secret had aged), the way to get a notification within a client's rotation threshold."""
    application = _spapi_application(application_id_or_client_id)
    days = clean_days_left(days_left)
    at = clock.now()
    if days is not None:
        SandboxApplication.objects.filter(pk=application.pk).update(
            secret_expires_at=at + timedelta(days=days)
        )
        application.refresh_from_db()
    payload = {
        "applicationOAuthClientSecretExpiry": {
            "clientId": application.client_id,
            "clientSecretExpiryTime": amazon_time(services.secret_expiry(application)),
            "clientSecretExpiryReason": PERIODIC_ROTATION,
        }
    }
    message = notification(application, SECRET_EXPIRY, payload, at)
    send(message)
    return message


class RotationRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _rotation_allowed(application: SandboxApplication, at: datetime) -> bool:
    """The usage plan (rate 0.0167, burst 1): with a burst of 1 the bucket is empty right after a rotation and full
    again after 1/rate seconds, so the time of the last rotation is its whole state."""
    plan = ratelimit.PLANS[OPERATION]
    last = application.secret_rotated_at
    return last is None or max(0.0, (at - last).total_seconds()) * plan.rate >= 1.0


def rotate(application_id_or_client_id: str | SandboxApplication) -> dict[str, Any]:
    """Rotate the secret and send APPLICATION_OAUTH_CLIENT_NEW_SECRET; returns the message. RotationRefused (429)
    within the usage plan, (400) without a queue; NotificationError when the queue refuses (nothing changed)."""
    application = _spapi_application(application_id_or_client_id)
    if not settings.SANDBOX_NOTIFICATIONS_QUEUE_URL:
        raise RotationRefused(400, "InvalidInput", NOT_ENROLLED)
    at = clock.now()
    current_expiry = services.secret_expiry(application)
    if not _rotation_allowed(application, at):
        raise RotationRefused(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    before = {
        "client_secret": application.client_secret,
        "secret_expires_at": current_expiry,
        "previous_client_secret": application.previous_client_secret,
        "previous_secret_expires_at": application.previous_secret_expires_at,
        "secret_rotated_at": application.secret_rotated_at,
    }
    secret, new_expiry, old_expiry = (
        new_client_secret(),
        at + services.SECRET_VALIDITY,
        at + services.SECRET_OVERLAP,
    )
    after = {
        "client_secret": secret,
        "secret_expires_at": new_expiry,
        "previous_client_secret": application.client_secret,
        "previous_secret_expires_at": old_expiry,
        "secret_rotated_at": at,
    }
    # Compare-and-swap: of two rotations racing, one wins and the other is over the quota (burst 1).
    if not SandboxApplication.objects.filter(pk=application.pk, **before).update(**after):
        raise RotationRefused(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    payload = {
        "applicationOAuthClientNewSecret": {
            "clientId": application.client_id,
            "newClientSecret": secret,
            "newClientSecretExpiryTime": amazon_time(new_expiry),
            "oldClientSecretExpiryTime": amazon_time(old_expiry),
        }
    }
    message = notification(application, NEW_SECRET, payload, at)
    try:
        # Sent after the commit, so whoever reads the message can use the new secret at once.
        send(message)
    except NotificationError:
        # Nobody would ever learn the new secret: undo the rotation (unless something changed the row since).
        SandboxApplication.objects.filter(pk=application.pk, **after).update(**before)
        raise
    return message


def _rate_header(response: HttpResponse) -> HttpResponse:
    # As sandbox/spapi.py: the rate applied per real second (scaled with the virtual clock).
    plan = ratelimit.PLANS[OPERATION]
    scale = clock.config().time_scale
    response["x-amzn-RateLimit-Limit"] = f"{plan.rate * scale:g}" if scale > 0 else plan.header
    return response


@csrf_exempt
def rotate_client_secret(request: HttpRequest, region: str) -> HttpResponse:
    """POST {sandbox}/<region>/sp/applications/2023-11-30/clientSecret → 204, or Amazon's ErrorList."""
    try:
        application = services.check_grantless_token(
            request.headers.get("x-amz-access-token", ""), services.ROTATION_SCOPE, clock.now()
        )
    except services.AccessDenied as denied:
        return error_response(403, "Unauthorized", DENIED, denied.details)
    if request.method != "POST":
        return _rate_header(error_response(405, "MethodNotAllowed", "Method not allowed."))
    try:
        rotate(application)
    except LookupError:
        return error_response(403, "Unauthorized", DENIED)
    except RotationRefused as refused:
        response = error_response(refused.status, refused.code, refused.message)
        return response if refused.status == 429 else _rate_header(response)
    except NotificationError:
        return error_response(500, "InternalFailure", "We encountered an internal error. Please try again.")
    done = HttpResponse(status=204)
    done["x-amzn-RequestId"] = str(uuid.uuid4())
    return _rate_header(done)
