"""Background work state: loaded orders, the order-sync cursor, rate buckets, inventory pushes, re-check batches."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from amazon import marketplaces
from stores.models import Store


class OrderSync(models.Model):
    """Where order loading of one store stands. The cursor is saved with each page, so a killed job resumes."""

    class Phase(models.TextChoices):
        BACKFILL = "backfill", _("Loading past orders")
        INCREMENTAL = "incremental", _("Keeping up to date")

    store = models.OneToOneField(Store, models.CASCADE, related_name="order_sync", verbose_name=_("store"))
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, default=Phase.BACKFILL)
    backfill_from = models.DateTimeField(_("backfill from"))
    # Created time of the newest order stored by the backfill: the backfill is complete up to here.
    backfill_done_until = models.DateTimeField(_("backfill done until"), null=True, blank=True)
    backfill_finished_at = models.DateTimeField(_("backfill finished"), null=True, blank=True)
    # The query being paged (its exact filters, resent with every page as the model asks), the upper bound
    # Amazon echoed for it, and the next page's token. An empty query means no query is in progress.
    query = models.JSONField(default=dict, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    pagination_token = models.TextField(blank=True)
    # Incremental runs ask for orders updated after this (minus a small overlap).
    last_updated_after = models.DateTimeField(_("updated after"), null=True, blank=True)
    orders_loaded = models.PositiveIntegerField(_("orders loaded"), default=0)
    last_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=40, blank=True)
    last_error_detail = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    # Incremental runs in a row that found no new or changed order: the polling pause grows with it.
    quiet_runs = models.PositiveSmallIntegerField(default=0)
    next_run_at = models.DateTimeField(_("next run"), default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=40, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order sync")
        verbose_name_plural = _("order syncs")

    def __str__(self) -> str:
        return f"{self.store} · {self.phase}"

    @property
    def backfill_done(self) -> bool:
        return self.backfill_finished_at is not None

    @property
    def last_success_age(self) -> timedelta | None:
        """How long ago the last query finished (None before the first)."""
        if self.last_success_at is None:
            return None
        return max(timedelta(0), timezone.now() - self.last_success_at)

    @property
    def is_behind(self) -> bool:
        """Loaded once, but no sync succeeded in two intervals (ORDER_SYNC_INTERVAL_MINUTES × 2) while order loading
        is authorized: "Up to date" would be untrue. Reads the store's prefetched authorizations when it has them."""
        age = self.last_success_age
        if not self.backfill_done or age is None:
            return False
        if age <= timedelta(minutes=2 * settings.ORDER_SYNC_INTERVAL_MINUTES) or self.store.is_archived:
            return False
        return any(
            a.capability == "orders" and a.status == "authorized" for a in self.store.authorizations.all()
        )

    @property
    def last_error_text(self) -> str:
        from sync.errors import describe

        return describe(self.last_error) if self.last_error else ""


class NotificationDestination(models.Model):
    """Our SQS queue as a Notifications API destination of the orders application, once per region (destinations
    are regional: each region's endpoint keeps its own)."""

    region = models.CharField(max_length=2, unique=True)
    destination_id = models.CharField(max_length=100)
    sqs_arn = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.region} · {self.destination_id}"


class OrderChangeSubscription(models.Model):
    """A seller account's ORDER_CHANGE subscription for our orders application (one per seller and region: Amazon
    keeps one subscription per seller, application and notification type)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("On")
        FAILED = "failed", _("Not available")
        # Deleted at Amazon (deleteSubscriptionById) when the seller's last live order-loading authorization in the
        # region ended: the next authorization subscribes again (sync/order_changes.py `unsubscribe`).
        ENDED = "ended", _("Off")

    selling_partner_id = models.CharField(max_length=64)
    region = models.CharField(max_length=2)
    status = models.CharField(max_length=10, choices=Status.choices)
    subscription_id = models.CharField(max_length=100, blank=True)
    destination_id = models.CharField(max_length=100, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    last_notice_at = models.DateTimeField(null=True, blank=True)
    # Made for a store whose seller id was verified (stores.Store.selling_partner_verified). Only such a row slows
    # polling down: a store may claim a seller id unverified (an orders-only grant), and its subscription then
    # subscribes whoever really granted it.
    verified = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["selling_partner_id", "region"], name="order_change_one_per_seller"
            )
        ]

    def __str__(self) -> str:
        return f"{self.selling_partner_id} ({self.region}) · {self.status}"


class Order(models.Model):
    """An order loaded from Amazon and kept for a store: what the order loading of sync/order_sync.py stores from
    amazon.orders.Order (Amazon's answer, never stored as is)."""

    store = models.ForeignKey(Store, models.CASCADE, related_name="orders", verbose_name=_("store"))
    amazon_order_id = models.CharField(_("Amazon order id"), max_length=40)
    marketplace_id = models.CharField(_("marketplace"), max_length=20)
    purchase_date = models.DateTimeField(_("purchase date (UTC)"))
    # Wall-clock time in the site's timezone, ISO 8601 with offset: what the seller sees in Seller Central.
    purchase_date_local = models.CharField(_("purchase date (site time)"), max_length=32)
    purchase_day_local = models.DateField(_("purchase day (site time)"))
    status = models.CharField(_("status"), max_length=30)
    total_amount = models.DecimalField(_("total"), max_digits=16, decimal_places=4, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    last_updated = models.DateTimeField(_("updated at Amazon"))
    raw = models.JSONField(null=True, blank=True)
    # The ship-to address (recipient.deliveryAddress; sync/ship_to.py), read only with the restricted role
    # (AMAZON_ORDERS_RESTRICTED_ROLE). Its personal fields (name, company, address lines, phone) are one JSON
    # document encrypted with the TOKEN_ENCRYPTION_KEYS (MultiFernet, authorizations/crypto.py); empty when Amazon
    # sent none, and once erased (`ship_to_erased_at`). City, state, postal code and country stay in clear.
    ship_to_personal = models.TextField(blank=True, editable=False)
    ship_to_city = models.CharField(_("ship-to city"), max_length=200, blank=True)
    ship_to_state = models.CharField(_("ship-to state or region"), max_length=200, blank=True)
    ship_to_postal_code = models.CharField(_("ship-to postal code"), max_length=200, blank=True)
    ship_to_country = models.CharField(_("ship-to country"), max_length=2, blank=True)
    # When a copy with the recipient was last stored (null: never, e.g. without the restricted role).
    ship_to_received_at = models.DateTimeField(null=True, blank=True, editable=False)
    ship_to_erased_at = models.DateTimeField(
        _("ship-to address erased"), null=True, blank=True, editable=False
    )
    # Amazon's lastUpdatedTime of the first stored copy that read SHIPPED / CANCELLED (set once, in the upsert).
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # When the portal learned that the buyer asked to cancel (ORDER_CHANGE BuyerRequestedChange, or an item's
    # cancellation request): set once.
    cancel_requested_at = models.DateTimeField(_("buyer asked to cancel"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-purchase_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "amazon_order_id"], name="unique_store_order"),
        ]
        indexes = [models.Index(fields=["store", "-purchase_date"], name="order_store_date")]

    def __str__(self) -> str:
        return self.amazon_order_id

    @property
    def site(self) -> str:
        m = marketplaces.BY_ID.get(self.marketplace_id)
        return m.site if m else self.marketplace_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, models.CASCADE, related_name="items")
    order_item_id = models.CharField(max_length=40)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    asin = models.CharField(_("ASIN"), max_length=20, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.UniqueConstraint(fields=["order", "order_item_id"], name="unique_order_item"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"


class OrderFeedEntry(models.Model):
    """Where an order stands in the orders changes feed (`GET /api/v1/orders/changes/`, sync/order_feed.py).

    One row per order, moved to a new position by every write of the order (sync/order_store.py `upsert`, in the
    writer's transaction): a consumer that is behind meets an order once, at its latest version. The position is
    (txid, seq): on PostgreSQL the writing transaction's id and a sequence value, on SQLite 0 and a counter taken
    under the database's write lock. sync/order_feed.py says why this order never skips a change.
    """

    order = models.OneToOneField(Order, models.CASCADE, related_name="feed_entry")
    # Copied from the store so a tenant's page is one index range; the indexes below begin with these columns.
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="+", db_index=False)
    store = models.ForeignKey(Store, models.CASCADE, related_name="+", db_index=False)
    txid = models.BigIntegerField()
    seq = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "txid", "seq"], name="order_feed_tenant_position"),
            models.Index(fields=["store", "txid", "seq"], name="order_feed_store_position"),
            models.Index(fields=["txid", "seq"], name="order_feed_position"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} @ {self.txid}.{self.seq}"


class UnreadableOrder(models.Model):
    """An order Amazon sent that could not be read; kept aside so the rest of its page loads and staff can look."""

    store = models.ForeignKey(
        Store, models.CASCADE, related_name="unreadable_orders", verbose_name=_("store")
    )
    # Blank when the order came without a readable orderId.
    amazon_order_id = models.CharField(_("Amazon order id"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    # The order as Amazon sent it, JSON text cut to a bounded length (so it may not parse once truncated).
    raw = models.TextField(_("as received"), blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("unreadable order")
        verbose_name_plural = _("unreadable orders")
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "amazon_order_id"], name="unique_store_unreadable_order"
            ),
        ]

    def __str__(self) -> str:
        return self.amazon_order_id or "?"


def local_time(at: datetime, marketplace_id: str, fallback_tz: str) -> datetime:
    m = marketplaces.BY_ID.get(marketplace_id)
    return at.astimezone(ZoneInfo(m.timezone if m else fallback_tz or "UTC"))


class RateBucket(models.Model):
    """Our side of Amazon's usage plan for one (seller, application, operation), shared by every worker."""

    selling_partner_id = models.CharField(max_length=40)
    application = models.CharField(max_length=10)
    operation = models.CharField(max_length=60)
    rate = models.FloatField()
    burst = models.PositiveIntegerField()
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["selling_partner_id", "application", "operation"], name="unique_rate_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.selling_partner_id} {self.application} {self.operation}"


class PlatformStock(models.Model):
    """Stock level of a platform SKU, as the distribution platform knows it."""

    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="platform_stock")
    platform_sku = models.CharField(_("platform SKU"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"))
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("platform stock")
        verbose_name_plural = _("platform stock")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "platform_sku"], name="unique_platform_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.platform_sku}: {self.quantity}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Admin edits count as a change to push, like CSV uploads.
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class SkuMapping(models.Model):
    """A platform SKU sold as an Amazon seller SKU in one marketplace of the store."""

    class Confirmation(models.TextChoices):
        PENDING = "pending", _("Waiting for Amazon")
        APPLIED = "applied", _("Applied by Amazon")
        REJECTED = "rejected", _("Rejected by Amazon")

    store = models.ForeignKey(Store, models.CASCADE, related_name="sku_mappings", verbose_name=_("store"))
    platform_sku = models.CharField(_("platform SKU"), max_length=100)
    seller_sku = models.CharField(_("Amazon seller SKU"), max_length=100)
    marketplace_id = models.CharField(_("marketplace"), max_length=20)
    # The quantity Amazon last accepted: a push sends only mappings whose stock differs from it.
    pushed_quantity = models.IntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Whether Amazon applied the accepted quantity, read back with getListingsItem (sync/inventory.py, "confirm"):
    # ACCEPTED only means accepted for processing. Written by the jobs only.
    confirmation = models.CharField(
        _("Amazon's answer"), max_length=10, choices=Confirmation.choices, blank=True, editable=False
    )
    # Amazon's issue messages (rejected), or what Amazon still shows (pending).
    confirmation_detail = models.CharField(max_length=500, blank=True, editable=False)
    confirmation_checks = models.PositiveSmallIntegerField(default=0, editable=False)
    # When the next read-back is due; None once the confirmation has settled or the checks ran out.
    confirm_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    checked_at = models.DateTimeField(_("checked at Amazon"), null=True, blank=True, editable=False)
    # The DEFAULT channel's quantity Amazon showed at the last check.
    amazon_quantity = models.IntegerField(_("quantity at Amazon"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("SKU mapping")
        verbose_name_plural = _("SKU mappings")
        ordering = ["platform_sku", "seller_sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "seller_sku", "marketplace_id"], name="unique_seller_sku_marketplace"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform_sku} → {self.seller_sku}"

    @property
    def site(self) -> str:
        m = marketplaces.BY_ID.get(self.marketplace_id)
        return m.site if m else self.marketplace_id


class InventoryPush(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        PARTIAL = "partial", _("Done with failures")
        STOPPED = "stopped", _("Stopped")

    store = models.ForeignKey(Store, models.CASCADE, related_name="inventory_pushes")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("inventory push")
        verbose_name_plural = _("inventory pushes")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.store} {self.started_at:%Y-%m-%d %H:%M}"


class InventoryPushItem(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        FAILED = "failed", _("Failed")

    push = models.ForeignKey(InventoryPush, models.CASCADE, related_name="items")
    mapping = models.ForeignKey(SkuMapping, models.SET_NULL, null=True, related_name="+")
    seller_sku = models.CharField(max_length=100)
    marketplace_id = models.CharField(max_length=20)
    quantity = models.IntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.seller_sku} {self.status}"


class RecheckBatch(models.Model):
    """Staff asked to re-check many stores at once; one task per store reports into an item."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, default="staff")
    description = models.CharField(max_length=300, blank=True)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("re-check batch")
        verbose_name_plural = _("re-check batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({self.total})"


class RecheckItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Works")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(RecheckBatch, models.CASCADE, related_name="items")
    store = models.ForeignKey(Store, models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    results = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "store"], name="unique_batch_store")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.status}"
