"""The LWA client secrets of our own applications: seeded from the environment, rotated without downtime.

- Every LWA call goes through `with_secrets`: the newest secret first, the previous one on `invalid_client` while
  Amazon still accepts it; both refused → one platform alarm (alarms.py), no store changed.
- `rotate_due` (a daily schedule) asks Amazon for a new secret ahead of the expiry (rotateApplicationClientSecret,
  a grantless call); the new secret arrives as APPLICATION_OAUTH_CLIENT_NEW_SECRET on the SQS queue and
  `read_notifications` (every minute) stores it, keeping the old one until Amazon's overlap ends.
  APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY tells us the expiry (and starts a rotation when it is near).
- Rows are read on every call, so a rotation reaches every web and worker process without a restart.
Sources: Amazon's "Rotating your apps' LWA credentials", the Application Management API use case guide, and
github:amzn/selling-partner-api-samples use-cases/lwa-rotation (the handlers we follow).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from amazon import applications, endpoints, lwa, sqs
from authorizations import alarms, audit, crypto, notices
from authorizations.models import ApplicationCredential, SecretExpiryWarning

log = logging.getLogger(__name__)
T = TypeVar("T")
Kind = ApplicationCredential.Kind
SP_KINDS = (Kind.ORDERS, Kind.LISTINGS)


def _configured(kind: str) -> tuple[str, str]:
    app = settings.AMAZON_ADS_APP if kind == Kind.ADS else settings.AMAZON_SPAPI_APPS[kind]
    return str(app.get("client_id", "")), str(app.get("client_secret", ""))


def credential(kind: str) -> ApplicationCredential:
    """The application's credential row, seeded from the environment the first time (or for a new client id)."""
    client_id, secret = _configured(kind)
    row = ApplicationCredential.objects.filter(kind=kind).first()
    if row is not None and (row.client_id == client_id or not client_id):
        return row
    try:
        with transaction.atomic():
            ApplicationCredential.objects.update_or_create(
                kind=kind,
                defaults={
                    "client_id": client_id,
                    "secret_encrypted": crypto.encrypt(secret) if secret else "",
                    "previous_secret_encrypted": "",
                    "previous_expires_at": None,
                    "secret_expires_at": None,
                },
            )
    except IntegrityError:
        pass  # another process seeded it first
    return ApplicationCredential.objects.get(kind=kind)


def clients(kind: str) -> list[lwa.Client]:
    """The LWA clients to try, newest secret first."""
    row = credential(kind)
    secrets = [s for s in (row.secret, row.previous_secret) if s]
    return [lwa.Client(client_id=row.client_id, client_secret=s) for s in secrets] or [
        lwa.Client(client_id=row.client_id, client_secret="")
    ]


def with_secrets(kind: str, call: Callable[[lwa.Client], T]) -> T:
    """Run an LWA call with the newest secret, falling back to the previous one on invalid_client."""
    last: lwa.LwaError | None = None
    for client in clients(kind):
        try:
            result = call(client)
        except lwa.LwaError as e:
            if e.kind != "invalid_client":
                raise
            last = e
            continue
        alarms.resolve("invalid_client", kind)
        return result
    assert last is not None
    alarms.raise_alarm(
        "invalid_client",
        kind,
        f"Login with Amazon refused the {kind} application's client credentials: {last.message}",
    )
    raise last


# --- rotation --------------------------------------------------------------------------------------------


def request_rotation(kind: str, request: object | None = None) -> None:
    """Ask Amazon for a new secret (it arrives on the queue). Raises AmazonError subclasses on failure."""
    token = with_secrets(
        kind, lambda c: lwa.grantless(endpoints.spapi_token(), c, applications.ROTATION_SCOPE)
    ).access_token
    applications.rotate_client_secret(endpoints.for_region("NA").sp_api, token)
    ApplicationCredential.objects.filter(kind=kind).update(rotation_requested_at=timezone.now())
    audit.record(None, "credentials.rotation_requested", outcome=kind)
    log.info("rotation of the %s application's client secret requested", kind)


def rotate_due() -> int:
    """Daily: rotate every SP-API secret that expires within APP_SECRET_ROTATION_LEAD_DAYS (once a day)."""
    now = timezone.now()
    rotated = 0
    for kind in SP_KINDS:
        row = credential(kind)
        due = row.secret_expires_at is not None and row.secret_expires_at <= now + timedelta(
            days=settings.APP_SECRET_ROTATION_LEAD_DAYS
        )
        recently = row.rotation_requested_at is not None and row.rotation_requested_at > now - timedelta(
            days=1
        )
        if not due or recently:
            continue
        try:
            request_rotation(kind)
            rotated += 1
        except Exception as e:  # noqa: BLE001 - one application's failure must not stop the other's rotation
            log.warning("rotation of the %s secret failed: %s", kind, e)
            audit.record(None, "credentials.rotation_failed", outcome=kind, detail=str(e)[:300])
    return rotated


def store_new_secret(
    kind: str, secret: str, expires_at: datetime | None, previous_valid_until: datetime | None, how: str
) -> None:
    """Make `secret` current; the old one stays usable until `previous_valid_until` (Amazon's overlap)."""
    with transaction.atomic():
        row = ApplicationCredential.objects.select_for_update().get(pk=credential(kind).pk)
        if row.secret == secret:
            return  # a re-delivered notification
        row.previous_secret_encrypted = row.secret_encrypted
        row.previous_expires_at = previous_valid_until
        row.secret_encrypted = crypto.encrypt(secret)
        row.secret_expires_at = expires_at
        row.rotated_at = timezone.now()
        row.save()
        audit.record(
            None,
            "credentials.rotated",
            outcome=kind,
            detail=f"{how}; new secret expires {expires_at:%Y-%m-%d}" if expires_at else how,
        )
    log.info("the %s application's client secret was rotated (%s)", kind, how)


# --- notifications ---------------------------------------------------------------------------------------


def _kind_of(client_id: str) -> str | None:
    for kind in Kind.values:
        if credential(kind).client_id == client_id:
            return kind
    return None


def _when(value: object) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def apply_notification(n: sqs.Notification) -> None:
    if n.type == "APPLICATION_OAUTH_CLIENT_NEW_SECRET":
        body = n.payload.get("applicationOAuthClientNewSecret") or {}
        kind = _kind_of(str(body.get("clientId", "")))
        if kind and body.get("newClientSecret"):
            store_new_secret(
                kind,
                str(body["newClientSecret"]),
                _when(body.get("newClientSecretExpiryTime")),
                _when(body.get("oldClientSecretExpiryTime")),
                "APPLICATION_OAUTH_CLIENT_NEW_SECRET",
            )
    elif n.type == "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY":
        body = n.payload.get("applicationOAuthClientSecretExpiry") or {}
        kind = _kind_of(str(body.get("clientId", "")))
        expires = _when(body.get("clientSecretExpiryTime"))
        if kind and expires:
            ApplicationCredential.objects.filter(kind=kind).update(secret_expires_at=expires)
            audit.record(
                None, "credentials.expiry_announced", outcome=kind, detail=f"expires {expires:%Y-%m-%d}"
            )
            rotate_due()


def read_notifications() -> int:
    """Every minute: handle what Amazon put on the queue (no queue configured: nothing to do)."""
    if not settings.AMAZON_NOTIFICATIONS_QUEUE_URL:
        return 0
    return sqs.drain(settings.AMAZON_NOTIFICATIONS_QUEUE_URL, apply_notification)


# --- expiry warnings -------------------------------------------------------------------------------------


def warn_expiring() -> int:
    """Mail staff at 90, 30 and 7 days before a secret expires, once per threshold, while no rotation succeeded."""
    sent = 0
    for kind in SP_KINDS:
        row = credential(kind)
        days = row.days_to_expiry
        reached = [t for t in settings.APP_SECRET_WARNING_DAYS if days is not None and days <= t]
        if not reached or row.secret_expires_at is None:
            continue
        try:
            with transaction.atomic():
                SecretExpiryWarning.objects.create(
                    credential=row, threshold_days=min(reached), expires_at=row.secret_expires_at
                )
        except IntegrityError:
            continue
        notices.secret_expiring(row, min(reached))
        sent += 1
    return sent
