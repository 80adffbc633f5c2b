"""Python API of the sandbox, for tests, benchmarks, management commands and the portal's demo data."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from sandbox import applications, clock, faults, notifications, services, simulated_orders
from sandbox.models import (
    SELLER_ID_ALPHABET,
    SandboxAppAuthorization,
    SandboxApplication,
    SandboxConfig,
    SandboxListing,
    SandboxOrder,
    SandboxSeller,
    SandboxShipment,
)

# name, region, sites: two demo sellers per region, matching the portal's demo stores where it can.
DEMO_SELLERS: list[tuple[str, str, list[str]]] = [
    ("Demo Outdoor Goods", "NA", ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8"]),
    ("Demo Kitchen Supply", "NA", ["ATVPDKIKX0DER"]),
    ("Demo Euro Home", "EU", ["A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH"]),
    ("Demo Berlin Books", "EU", ["A1PA6795UKMFR9"]),
    ("Demo Tokyo Crafts", "FE", ["A1VC38T7YXB528"]),
    ("Demo Sydney Surf", "FE", ["A39IBJ37TRP1C6"]),
]


def now() -> datetime:
    """Current virtual time."""
    return clock.now()


def create_seller(
    name: str, region: str, marketplace_ids: list[str] | None = None, orders_per_day: int = 4
) -> SandboxSeller:
    """A new simulated seller; without marketplace ids it sells in the region's first marketplace."""
    return services.create_seller(name, region, marketplace_ids, orders_per_day, clock.now())


def _seller(seller: SandboxSeller | str) -> SandboxSeller:
    if isinstance(seller, SandboxSeller):
        return seller
    return SandboxSeller.objects.get(selling_partner_id=seller)


def _application(application_id_or_client_id: str | SandboxApplication) -> SandboxApplication:
    if isinstance(application_id_or_client_id, SandboxApplication):
        return application_id_or_client_id
    app = services.find_application(application_id_or_client_id)
    if app is None:
        raise LookupError(f"No sandbox application {application_id_or_client_id!r}.")
    return app


def authorization(
    selling_partner_id: str | SandboxSeller, application_id_or_client_id: str | SandboxApplication
) -> SandboxAppAuthorization:
    return SandboxAppAuthorization.objects.select_related("seller", "application").get(
        seller=_seller(selling_partner_id), application=_application(application_id_or_client_id)
    )


def authorize(
    selling_partner_id: str | SandboxSeller, application_id_or_client_id: str | SandboxApplication
) -> SandboxAppAuthorization:
    """Record a consent without the browser (what Confirm on the consent page does)."""
    return services.authorize(
        _seller(selling_partner_id), _application(application_id_or_client_id), clock.now()
    )


def issue_tokens(
    selling_partner_id: str | SandboxSeller,
    application_id_or_client_id: str | SandboxApplication,
    redirect_uri: str = "http://localhost/amazon/callback/",
) -> dict[str, Any]:
    """Consent plus code exchange without HTTP: the token endpoint's JSON, for benchmarks and tests."""
    app = _application(application_id_or_client_id)
    at = clock.now()
    auth = services.authorize(_seller(selling_partner_id), app, at)
    code = services.issue_code(auth, redirect_uri, at)
    return services.exchange_code(app, code.code, redirect_uri, at).as_json()


def revoke(
    selling_partner_id: str | SandboxSeller, application_id_or_client_id: str | SandboxApplication
) -> None:
    """The seller removes the app: refresh tokens then get invalid_grant and access tokens 403."""
    services.revoke(authorization(selling_partner_id, application_id_or_client_id), clock.now())


def expire(
    selling_partner_id: str | SandboxSeller, application_id_or_client_id: str | SandboxApplication
) -> None:
    """The 365-day authorization lapses now."""
    services.expire(authorization(selling_partner_id, application_id_or_client_id), clock.now())


def rotate(application_id_or_client_id: str | SandboxApplication) -> dict[str, Any]:
    """rotateApplicationClientSecret without HTTP: a new current secret (180 days), the old one kept for 7 days,
    and APPLICATION_OAUTH_CLIENT_NEW_SECRET sent to settings.SANDBOX_NOTIFICATIONS_QUEUE_URL; returns the message.

    Raises applications.RotationRefused (no queue: 400; again within the usage plan: 429), NotificationError when
    the queue refuses (then nothing changed) and LookupError for an unknown or non-SP-API application."""
    return applications.rotate(_application(application_id_or_client_id))


def announce_secret_expiry(
    application_id_or_client_id: str | SandboxApplication, days_left: int | None = None
) -> dict[str, Any]:
    """Send APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY as Amazon does ahead of the deadline; returns the message.

    days_left=None announces the current secret's stored expiry; 0 to 180 first moves that expiry to days_left
    days from now (ValueError outside). NotificationError when no queue is set or it refuses."""
    return applications.announce_secret_expiry(_application(application_id_or_client_id), days_left)


def set_fault(endpoint: str, kind: str, delay: float | None = None) -> None:
    """endpoint: token|sellers|orders|shipments|listings|ads|notifications; kind: none|http500|slow|timeout|storm429; delay: 0 to 120 s."""
    faults.set_fault(endpoint, kind, delay)


def clear_faults() -> None:
    """Every fault, the notification delivery faults included."""
    faults.clear()


def set_notification_faults(drop: float = 0.0, duplicate: float = 0.0, seed: int = 0) -> None:
    """Lose a fraction `drop` of the notifications the sandbox sends and send a fraction `duplicate` twice
    (0 to 1 each; deterministic per notification for a seed). Both 0 turns it off."""
    faults.set_delivery_faults(drop, duplicate, seed)


def deliver_order_changes(at: datetime | None = None) -> int:
    """One pass of ORDER_CHANGE delivery (sandbox.notifications.deliver_order_changes); messages sent."""
    return notifications.deliver_order_changes(at)


def set_time_scale(scale: float) -> None:
    """Virtual seconds per real second: 0 freezes the clock, otherwise 0.01 to 10000 (ValueError outside)."""
    clock.set_scale(scale)


def advance_clock(seconds: float) -> datetime:
    """Move virtual time forward; returns the new virtual now."""
    return clock.advance(seconds)


def generated_orders(
    selling_partner_id: str | SandboxSeller,
    marketplace_ids: list[str],
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    last_updated_after: datetime | None = None,
    last_updated_before: datetime | None = None,
) -> QuerySet[SandboxOrder]:
    """Exactly the orders searchOrders would return now for these filters, in its order."""
    return simulated_orders.search(
        _seller(selling_partner_id),
        list(marketplace_ids),
        clock.now(),
        created_after=created_after,
        created_before=created_before,
        last_updated_after=last_updated_after,
        last_updated_before=last_updated_before,
    )


def confirmed_packages(order_id: str) -> QuerySet[SandboxShipment]:
    """The packages confirmShipment accepted for an order (sandbox/shipments.py), first confirmed first; each row's
    `requests` counts the accepted requests for it (1 when it was never edited or sent again)."""
    return SandboxShipment.objects.filter(order__order_id=order_id).order_by("confirmed_at", "id")


def unshipped_orders(
    selling_partner_id: str | SandboxSeller, marketplace_ids: list[str], created_after: datetime
) -> QuerySet[SandboxOrder]:
    """Orders created since `created_after` that are UNSHIPPED now (neither pending, cancelled nor shipped, by the
    generated history or by confirmShipment): the ones a shipment can be confirmed for."""
    return simulated_orders.search(
        _seller(selling_partner_id),
        list(marketplace_ids),
        clock.now(),
        created_after=created_after,
        statuses=["UNSHIPPED"],
    )


def listing_quantity(seller: str | SandboxSeller, sku: str, marketplace_id: str) -> int | None:
    """The quantity last set through patchListingsItem (None if never set)."""
    listing = SandboxListing.objects.filter(
        seller=_seller(seller), sku=sku, marketplace_id=marketplace_id
    ).first()
    return listing.quantity if listing else None


def _demo_seller_id(name: str) -> str:
    # Stable ids so a re-created demo database shows the same sellers.
    digest = int(hashlib.sha256(f"sandbox-demo:{name}".encode()).hexdigest(), 16)
    chars = []
    for _ in range(13):
        digest, index = divmod(digest, len(SELLER_ID_ALPHABET))
        chars.append(SELLER_ID_ALPHABET[index])
    return "A" + "".join(chars)


def seed_demo() -> list[SandboxSeller]:
    """Idempotent: the configured applications and two demo sellers per region."""
    services.sync_applications()
    at = clock.now()
    sellers = []
    for name, region, marketplace_ids in DEMO_SELLERS:
        seller, _created = SandboxSeller.objects.get_or_create(
            selling_partner_id=_demo_seller_id(name),
            defaults={"name": name, "region": region, "marketplace_ids": marketplace_ids, "created": at},
        )
        sellers.append(seller)
    return sellers


def reset() -> None:
    """Forget every seller, authorization, order, fault and clock change; applications are re-synced."""
    with transaction.atomic():
        SandboxSeller.objects.all().delete()
        SandboxApplication.objects.all().delete()
        SandboxConfig.objects.all().delete()
    services.sync_applications()
