"""State of the simulated Amazon. Everything lives in the database so it survives restarts and is shared by processes.

Times stored here are virtual times (see `sandbox.clock`) unless a field says otherwise.
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

REGIONS = [("NA", "North America"), ("EU", "Europe"), ("FE", "Far East")]
SELLER_ID_ALPHABET = string.ascii_uppercase + string.digits
AUTHORIZATION_VALIDITY = timedelta(days=365)
CODE_VALIDITY = timedelta(minutes=5)
ACCESS_TOKEN_SECONDS = 3600


def new_selling_partner_id() -> str:
    return "A" + "".join(secrets.choice(SELLER_ID_ALPHABET) for _ in range(13))


class SandboxSeller(models.Model):
    selling_partner_id = models.CharField(max_length=20, unique=True, default=new_selling_partner_id)
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=2, choices=REGIONS)
    marketplace_ids = models.JSONField(default=list)
    orders_per_day = models.PositiveIntegerField(
        default=4, help_text="Generated orders per marketplace per day."
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["region", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.selling_partner_id}, {self.region})"


class SandboxApplication(models.Model):
    class Kind(models.TextChoices):
        SP = "sp", "SP-API application"
        ADS = "ads", "Login with Amazon client (Ads)"

    # For ads clients Amazon has no application id; the LWA client id doubles as one.
    application_id = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=3, choices=Kind.choices)
    name = models.CharField(max_length=200)
    developer = models.CharField(max_length=200)
    client_id = models.CharField(max_length=200, unique=True)
    client_secret = models.CharField(max_length=200)
    # LWA client-secret rotation (sandbox/applications.py): Amazon's secrets live 180 days, and after a rotation
    # the old secret keeps working for seven days ("Rotating your apps' LWA credentials"). Null expiry: not seeded
    # yet (sandbox.services seeds it with the sandbox clock).
    secret_expires_at = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")
    previous_client_secret = models.CharField(max_length=200, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")
    # The last rotateApplicationClientSecret: also the whole state of its one-token bucket (usage plan burst 1).
    secret_rotated_at = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")
    draft = models.BooleanField(default=False)
    redirect_uris = models.JSONField(
        default=list, help_text="Registered redirect URIs, compared whole (scheme, host, port and path)."
    )
    # The developer's OAuth Login URI (Appstore entry and re-authorization from "Manage your apps").
    login_path = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class SandboxAppAuthorization(models.Model):
    """One seller's consent to one application ("Manage your apps" row)."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="authorizations")
    application = models.ForeignKey(
        SandboxApplication, on_delete=models.CASCADE, related_name="authorizations"
    )
    authorized_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Bumped by revoke and expire; tokens carry the generation they were issued in, so tokens from before a revoke
    # stay dead even after the seller consents again.
    generation = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "application"], name="sandbox_auth_unique")]
        ordering = ["seller", "application"]

    def __str__(self) -> str:
        return f"{self.seller.name} → {self.application.name}"

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > at

    def status(self, at: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= at:
            return "expired"
        return "active"


class SandboxAuthCode(models.Model):
    code = models.CharField(max_length=100, unique=True)
    authorization = models.ForeignKey(SandboxAppAuthorization, on_delete=models.CASCADE, related_name="codes")
    generation = models.PositiveIntegerField()
    redirect_uri = models.CharField(max_length=2000)
    scope = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.code[:12]

    def expired(self, at: datetime) -> bool:
        return at >= self.created + CODE_VALIDITY


class SandboxRefreshToken(models.Model):
    token = models.CharField(max_length=300, unique=True)
    authorization = models.ForeignKey(
        SandboxAppAuthorization, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    generation = models.PositiveIntegerField()
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token[:12]


class SandboxAccessToken(models.Model):
    token = models.CharField(max_length=300, unique=True)
    authorization = models.ForeignKey(
        SandboxAppAuthorization, on_delete=models.CASCADE, related_name="access_tokens"
    )
    generation = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token[:12]


class SandboxRateBucket(models.Model):
    """A token bucket per seller + application + operation (Amazon's usage plans are per app/seller pair)."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE)
    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE)
    operation = models.CharField(max_length=60)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "application", "operation"], name="sandbox_bucket_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.tokens:.2f}"


class SandboxOrderDay(models.Model):
    """Marks a (seller, marketplace, day) whose orders have been generated, so generation happens once."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE)
    marketplace_id = models.CharField(max_length=20)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "marketplace_id", "day"], name="sandbox_orderday_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.marketplace_id} {self.day}"


class SandboxOrder(models.Model):
    """A generated order. Its status is derived from the transition times and the virtual clock."""

    order_id = models.CharField(max_length=19, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="orders")
    marketplace_id = models.CharField(max_length=20)
    day = models.DateField()
    index = models.PositiveIntegerField()
    created_time = models.DateTimeField()
    unshipped_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Set by confirmShipment (sandbox/shipments.py) when some but not all of the items are confirmed shipped.
    partially_shipped_at = models.DateTimeField(null=True, blank=True)
    # {orderItemId: quantity} confirmed shipped by confirmShipment, the sum of the order's SandboxShipment rows.
    shipped_items = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    fulfilled_by = models.CharField(max_length=10, default="MERCHANT")
    # [{"orderItemId", "sku", "asin", "title", "quantity", "unitPrice"}]; small and only ever read with the order.
    items = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "marketplace_id", "day", "index"], name="sandbox_order_slot"
            )
        ]
        # searchOrders' order (created_time, order_id) for one marketplace: a next page reads its rows from the
        # index position its token names, so every page costs the same (sandbox/simulated_orders.py `search`).
        indexes = [
            models.Index(
                fields=["seller", "marketplace_id", "created_time", "order_id"], name="sandbox_order_keyset"
            )
        ]
        ordering = ["created_time", "order_id"]

    def __str__(self) -> str:
        return self.order_id

    def transitions(self) -> list[tuple[datetime, str]]:
        steps: list[tuple[datetime, str]] = [(self.created_time, "PENDING")]
        if self.cancelled_at:
            steps.append((self.cancelled_at, "CANCELLED"))
        if self.unshipped_at:
            steps.append((self.unshipped_at, "UNSHIPPED"))
        if self.partially_shipped_at:
            steps.append((self.partially_shipped_at, "PARTIALLY_SHIPPED"))
        if self.shipped_at:
            steps.append((self.shipped_at, "SHIPPED"))
        return sorted(steps)

    def state_at(self, at: datetime) -> tuple[str, datetime]:
        """(fulfillment status, last updated time) as seen at virtual time `at`."""
        status, updated = "PENDING", self.created_time
        for when, name in self.transitions():
            if when <= at:
                status, updated = name, when
        return status, updated


class SandboxShipment(models.Model):
    """One package confirmed by confirmShipment (ordersV0.json PackageDetail), kept as the last accepted request
    for its packageReferenceId left it: the same reference sent again edits it ("Confirm the shipment status",
    https://developer-docs.amazon.com/sp-api/docs/confirm-the-shipment-status)."""

    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="shipments")
    package_reference_id = models.CharField(max_length=20)
    marketplace_id = models.CharField(max_length=20)
    carrier_code = models.CharField(max_length=100)
    carrier_name = models.CharField(max_length=200, blank=True)
    shipping_method = models.CharField(max_length=200, blank=True)
    tracking_number = models.CharField(max_length=200)
    ship_date = models.DateTimeField()
    cod_collection_method = models.CharField(max_length=20, blank=True)
    # [{"orderItemId", "quantity"}]
    items = models.JSONField(default=list)
    confirmed_at = models.DateTimeField(help_text="Virtual time of the first accepted request.")
    updated_at = models.DateTimeField(help_text="Virtual time of the last accepted request.")
    # Accepted requests for this package (1, then one more per edit): what a test counts to see a package sent once.
    requests = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "package_reference_id"], name="sandbox_shipment_package")
        ]
        ordering = ["order", "confirmed_at", "id"]

    def __str__(self) -> str:
        return f"{self.order.order_id} package {self.package_reference_id}"


class SandboxListing(models.Model):
    """A listings item of one marketplace as the last accepted patchListingsItem left it (sandbox/spapi.py).

    quantity, lead_time_to_ship_max_days and restock_date are the members of the DEFAULT channel's
    fulfillment_availability; other top-level attributes are kept in `attributes`. Reads show `published` (the item
    before that submission) until `processed_at`, the virtual time Amazon's processing of it ends.
    """

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="listings")
    sku = models.CharField(max_length=200)
    marketplace_id = models.CharField(max_length=20)
    product_type = models.CharField(max_length=100, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    lead_time_to_ship_max_days = models.PositiveIntegerField(null=True, blank=True)
    restock_date = models.DateField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # Listing issues Amazon reports asynchronously (the model's Issue objects). The sandbox never invents them;
    # tests and the admin set them.
    issues = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")
    updated = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")
    # The item as reads show it until processed_at (null: it did not exist before).
    published = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "sku", "marketplace_id"], name="sandbox_listing_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.marketplace_id}"


class SandboxConfig(models.Model):
    """Singleton (pk=1): virtual clock anchor and injected faults."""

    time_scale = models.FloatField(default=1.0)
    # Virtual time = anchor_virtual + (real now - anchor_real) * time_scale.
    anchor_real = models.DateTimeField(default=timezone.now)
    anchor_virtual = models.DateTimeField(default=timezone.now)
    # {"orders": {"kind": "http500"|"slow"|"timeout"|"storm429", "delay": seconds}}
    faults = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return "Sandbox configuration"


class SandboxAppstoreRequest(models.Model):
    """An Appstore authorization started at "Amazon": amazon_state is checked when the portal sends the seller back."""

    amazon_state = models.CharField(max_length=100, unique=True)
    seller = models.ForeignKey(SandboxSeller, models.CASCADE, related_name="appstore_requests")
    application = models.ForeignKey(SandboxApplication, models.CASCADE, related_name="appstore_requests")
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.application} for {self.seller}"


class SandboxAppRateBucket(models.Model):
    """A token bucket per application + operation, for grantless operations (no seller: Notifications API
    destinations and subscriptions by id; sandbox/ratelimit.py take_grantless)."""

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE)
    operation = models.CharField(max_length=60)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "operation"], name="sandbox_app_bucket_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.tokens:.2f}"


class SandboxDestination(models.Model):
    """A Notifications API destination (createDestination, grantless): an SQS queue of the application.

    The sandbox records the ARN and delivers to settings.SANDBOX_NOTIFICATIONS_QUEUE_URL (sandbox/notifications.py).
    """

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE, related_name="destinations")
    destination_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=256)
    arn = models.CharField(max_length=1000)
    created_at = models.DateTimeField(help_text="Virtual time.")

    class Meta:
        # "A destination with arn … already exists for the application …" (409; sandbox/notifications.py).
        constraints = [models.UniqueConstraint(fields=["application", "arn"], name="sandbox_destination_arn")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.arn})"


class SandboxSubscription(models.Model):
    """A Notifications API subscription of one seller to one notification type for one application.

    createSubscription answers 409 for a second one with the same type and payload version (notifications.json: a
    different payload version is a separate subscription). last_delivered_at: the virtual time up to which
    notifications were sent (sandbox.notifications.deliver_order_changes); null until the first pass, which starts
    at created_at.
    """

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="subscriptions")
    application = models.ForeignKey(
        SandboxApplication, on_delete=models.CASCADE, related_name="subscriptions"
    )
    notification_type = models.CharField(max_length=100)
    payload_version = models.CharField(max_length=20)
    destination = models.ForeignKey(
        SandboxDestination, on_delete=models.CASCADE, related_name="subscriptions"
    )
    subscription_id = models.UUIDField(unique=True, default=uuid.uuid4)
    processing_directive = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(help_text="Virtual time.")
    last_delivered_at = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "application", "notification_type", "payload_version"],
                name="sandbox_subscription_unique",
            )
        ]
        indexes = [models.Index(fields=["notification_type"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.notification_type} {self.payload_version} for {self.seller.name} → {self.application.name}"


class SandboxDocument(models.Model):
    """A report or feed document where Amazon keeps them (S3), read and written through presigned URLs
    (sandbox/documents.py). Report documents and processing reports are stored gzipped; an uploaded feed document
    as it was sent."""

    class Kind(models.TextChoices):
        REPORT = "report"
        FEED = "feed"
        FEED_RESULT = "feed_result"

    document_id = models.CharField(max_length=120, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    content_type = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(default=b"")
    compressed = models.BooleanField(default=False)
    # A feed document holds nothing until its upload (PUT) arrived.
    uploaded_at = models.DateTimeField(null=True, blank=True, help_text="Virtual time.")
    created = models.DateTimeField(help_text="Virtual time.")

    def __str__(self) -> str:
        return self.document_id


class SandboxReport(models.Model):
    """A report asked for with createReport (sandbox/reports.py). Its processingStatus follows from created_time and
    the virtual clock until it is settled (`outcome`: DONE, CANCELLED or FATAL), once, when first read after its
    processing ended."""

    report_id = models.CharField(max_length=20, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="reports")
    report_type = models.CharField(max_length=100)
    marketplace_ids = models.JSONField(default=list)
    data_start_time = models.DateTimeField()
    data_end_time = models.DateTimeField()
    created_time = models.DateTimeField(help_text="Virtual time.")
    # "fatal" when fault injection (group reports) made it fail at creation.
    fault = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=12, blank=True)
    document = models.ForeignKey(SandboxDocument, on_delete=models.SET_NULL, null=True, blank=True)

    def __str__(self) -> str:
        return self.report_id


class SandboxFeed(models.Model):
    """A feed created with createFeed (sandbox/feeds.py). Its messages are applied at creation with the listings'
    changes timed at the end of its processing (the listing shows them from then on, as after a patchListingsItem);
    processingStatus follows from created_time and the virtual clock."""

    feed_id = models.CharField(max_length=20, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="feeds")
    feed_type = models.CharField(max_length=100)
    marketplace_ids = models.JSONField(default=list)
    created_time = models.DateTimeField(help_text="Virtual time.")
    input_document = models.ForeignKey(SandboxDocument, on_delete=models.CASCADE, related_name="input_of")
    outcome = models.CharField(max_length=12)  # DONE or FATAL, once processed
    result_document = models.ForeignKey(
        SandboxDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="result_of"
    )

    def __str__(self) -> str:
        return self.feed_id
