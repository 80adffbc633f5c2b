from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from sync.models import (
    InventoryPush,
    InventoryPushItem,
    Order,
    OrderItem,
    OrderSync,
    PlatformStock,
    RateBucket,
    RecheckBatch,
    RecheckItem,
    SkuMapping,
    UnreadableOrder,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the jobs only; admin shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(OrderSync)
class OrderSyncAdmin(ReadOnlyAdmin):
    list_display = [
        "store",
        "phase",
        "backfill_done_until",
        "orders_loaded",
        "last_success_at",
        "next_run_at",
        "last_error",
    ]
    list_filter = ["phase", "last_error"]
    search_fields = ["store__nickname", "store__selling_partner_id"]
    list_select_related = ["store"]
    exclude = ["pagination_token"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ["order_item_id", "sku", "asin", "quantity", "unit_price", "currency"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "amazon_order_id",
        "store",
        "marketplace_id",
        "purchase_date",
        "status",
        "total_amount",
        "currency",
    ]
    list_filter = ["status", "marketplace_id"]
    search_fields = ["amazon_order_id", "store__nickname"]
    list_select_related = ["store"]
    inlines = [OrderItemInline]
    # The ship-to address is personal data: shown only on the order page and through the API, audited
    # (sync/ship_to.py), never in admin (not even encrypted, nor the city).
    exclude = [
        "ship_to_personal", "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country",
        "ship_to_received_at",
    ]  # fmt: skip


@admin.register(UnreadableOrder)
class UnreadableOrderAdmin(ReadOnlyAdmin):
    """Orders Amazon sent that order loading could not read (kept aside so the rest of their page loaded)."""

    list_display = ["amazon_order_id", "store", "reason", "first_seen", "last_seen"]
    list_filter = ["last_seen"]
    search_fields = ["amazon_order_id", "store__nickname", "store__selling_partner_id", "reason"]
    list_select_related = ["store"]
    fields = ["store", "amazon_order_id", "reason", "first_seen", "last_seen", "raw"]
    readonly_fields = ["store", "amazon_order_id", "reason", "first_seen", "last_seen", "raw"]


@admin.register(PlatformStock)
class PlatformStockAdmin(admin.ModelAdmin):
    list_display = ["platform_sku", "tenant", "quantity", "updated_at"]
    search_fields = ["platform_sku", "tenant__name"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]
    readonly_fields = ["updated_at"]


@admin.register(SkuMapping)
class SkuMappingAdmin(admin.ModelAdmin):
    list_display = ["platform_sku", "seller_sku", "marketplace_id", "store", "pushed_quantity", "pushed_at"]
    search_fields = ["platform_sku", "seller_sku", "store__nickname"]
    list_select_related = ["store"]
    raw_id_fields = ["store"]
    readonly_fields = ["pushed_quantity", "pushed_at"]


class InventoryPushItemInline(admin.TabularInline):
    model = InventoryPushItem
    extra = 0
    can_delete = False
    fields = ["seller_sku", "marketplace_id", "quantity", "status", "error", "at"]
    readonly_fields = ["seller_sku", "marketplace_id", "quantity", "status", "error", "at"]


@admin.register(InventoryPush)
class InventoryPushAdmin(ReadOnlyAdmin):
    list_display = ["store", "started_at", "status", "sent", "failed", "error"]
    list_filter = ["status"]
    list_select_related = ["store"]
    inlines = [InventoryPushItemInline]


class RecheckItemInline(admin.TabularInline):
    model = RecheckItem
    extra = 0
    can_delete = False
    fields = ["store", "status", "results", "finished_at"]
    readonly_fields = ["store", "status", "results", "finished_at"]


@admin.register(RecheckBatch)
class RecheckBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "created_by", "source", "total", "description"]
    inlines = [RecheckItemInline]


@admin.register(RateBucket)
class RateBucketAdmin(ReadOnlyAdmin):
    list_display = ["selling_partner_id", "application", "operation", "rate", "burst", "tokens", "updated_at"]
    search_fields = ["selling_partner_id"]
