"""The django-q2 job that tells Amazon a package shipped: `confirm(package_id)`, one confirmShipment call.

The skeleton of every paced job (sync/paced.py): the store's orders grant (confirmShipment is an Orders API
operation), a token of the shared confirmShipment bucket (sync/ratelimit.py PLANS: 2/s, burst 10, ordersV0.json),
one renewed access token on a 403. A package is claimed first (a conditional UPDATE, like a webhook delivery): two
workers handed the same package never both send it, and only the one whose send Amazon accepted marks it confirmed,
so `shipment.confirmed` is sent once per accepted send.

Outcomes: confirmed; failed with Amazon's problem in words (shipping/words.py) and what to do; waiting to retry
(429, 5xx, no answer, our own bucket empty) with a back-off, re-enqueued at that time (shipping/jobs.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from amazon import endpoints, shipments
from authorizations import credentials
from authorizations.models import Authorization, Capability
from shipping import jobs
from shipping.actions import as_amazon_package
from shipping.models import Package
from shipping.signals import package_settled
from sync import grants, paced

log = logging.getLogger(__name__)
# Longer than a task may run (django-q2's timeout): a worker killed mid-send frees the package after it.
LEASE = timedelta(seconds=settings.Q_CLUSTER["timeout"] + 60)
MAX_ATTEMPTS = 12  # failed sends in a row before the package is failed ("attempts"): about a day of back-off
BACKOFF_CAP_SECONDS = 3600
DUE = (Package.Status.PENDING, Package.Status.WAITING_RETRY)
SWEEP_QUIET = timedelta(minutes=1)


class NotAuthorized(Exception):
    """LWA refused the orders grant's refresh token (grants.Grant's `refused`)."""


def _refused(e: credentials.VerificationError) -> Exception:
    return NotAuthorized(e.reason)


def claim(package_id: int) -> str:
    """Take the package for this worker: its claim, or "" when it is not due or another worker holds it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        Package.objects.filter(pk=package_id, status__in=DUE)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim=token, claimed_until=now + LEASE)
    )
    return token if taken else ""


def confirm(package_id: int) -> str:
    """Send one package to Amazon; returns what became of it (confirmed, failed, waiting_retry, edited, not_due)."""
    token = claim(package_id)
    if not token:
        return "not_due"
    package = Package.objects.select_related("order__store").prefetch_related("items").get(pk=package_id)
    order = package.order
    auth = (
        Authorization.objects.select_related("store")
        .filter(store=order.store, capability=Capability.ORDERS)
        .first()
    )
    if auth is None or not grants.runnable(auth):
        return _settle(package, token, Package.Status.FAILED, "not_authorized")
    grant = grants.Grant(auth, Capability.ORDERS, _refused)
    pacer = paced.Pacer(
        grant, shipments.OPERATION, budget=settings.SYNC_TASK_BUDGET_SECONDS, recheck_every=None
    )
    base = endpoints.for_region(order.store.region).sp_api
    amazon_package = as_amazon_package(package)
    try:
        pacer.call(
            lambda access_token: shipments.confirm_shipment(
                base, access_token, order.amazon_order_id, order.marketplace_id, amazon_package
            )
        )
    except paced.Later as later:
        return _retry(package, token, later.after, "throttled", "", counted=False)
    except (paced.Ended, NotAuthorized):
        return _settle(package, token, Package.Status.FAILED, "not_authorized")
    except shipments.ShipmentError as e:
        # Amazon's message names fields, never the buyer; kept short for the page.
        log.info("confirmShipment of package %s: %s %s (%s)", package.pk, e.status, e.code, e.problem)
        if e.retryable:
            wait = pacer.throttle_wait if e.kind == "throttled" else _backoff(package.attempts)
            return _retry(package, token, wait, e.problem, e.message)
        return _settle(package, token, Package.Status.FAILED, e.problem, e.message)
    return _settle(package, token, Package.Status.CONFIRMED)


def sweep(limit: int = 500) -> int:
    """Every minute: enqueue the packages that are due but have no job in sight (its task lost, its worker killed
    and its claim lapsed, its retry's schedule gone). Quiet for a minute first, so a fresh package's own task runs."""
    now = timezone.now()
    quiet = now - SWEEP_QUIET
    due = list(
        Package.objects.filter(status__in=DUE, updated_at__lt=quiet)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=quiet))
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    for package_id in due:
        jobs.enqueue_confirmation(package_id)
    return len(due)


def _backoff(attempts: int) -> float:
    return float(min(settings.SYNC_RETRY_BASE_SECONDS * 2**attempts, BACKOFF_CAP_SECONDS))


def _retry(
    package: Package, token: str, wait: float, problem: str, message: str, *, counted: bool = True
) -> str:
    if counted and package.attempts + 1 >= MAX_ATTEMPTS:
        return _settle(package, token, Package.Status.FAILED, "attempts", message)
    at = timezone.now() + timedelta(seconds=max(wait, 1.0))
    with transaction.atomic():
        updated = Package.objects.filter(pk=package.pk, claim=token, version=package.version).update(
            status=Package.Status.WAITING_RETRY,
            problem=problem,
            amazon_message=message[:300],
            attempts=F("attempts") + (1 if counted else 0),
            next_attempt_at=at,
            claim="",
            claimed_until=None,
        )
        if not updated:
            return _edited(package, token)
        jobs.enqueue_confirmation(package.pk, at)
    return Package.Status.WAITING_RETRY


def _settle(package: Package, token: str, status: str, problem: str = "", message: str = "") -> str:
    """Record the outcome if the package is still this worker's and unedited; the event in the same transaction."""
    now = timezone.now()
    with transaction.atomic():
        updated = Package.objects.filter(pk=package.pk, claim=token, version=package.version).update(
            status=status,
            problem=problem,
            amazon_message=message[:300],
            attempts=F("attempts") + 1,
            confirmed_at=now if status == Package.Status.CONFIRMED else F("confirmed_at"),
            next_attempt_at=None,
            claim="",
            claimed_until=None,
        )
        if not updated:
            return _edited(package, token)
        package.refresh_from_db()
        package_settled.send(Package, package=package)
    return status


def _edited(package: Package, token: str) -> str:
    """The package was edited while it was being sent: free it and send the new version."""
    with transaction.atomic():
        Package.objects.filter(pk=package.pk, claim=token).update(claim="", claimed_until=None)
        jobs.enqueue_confirmation(package.pk)
    return "edited"
