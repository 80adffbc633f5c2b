"""A store as the API shows it: a plain document, built in the request's language (labels are translated)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from authorizations.models import Authorization, AuthStatus, Capability
from authorizations.reasons import REASONS
from stores.models import CombinedStatus, Store
from sync.models import OrderSync


class CapabilitySerializer(serializers.Serializer[Any]):
    capability = serializers.ChoiceField(choices=Capability.choices)
    status = serializers.ChoiceField(choices=AuthStatus.choices, help_text="Stable machine value.")
    status_label = serializers.CharField(help_text="The status in the request's language (Accept-Language).")
    reason_code = serializers.CharField(help_text="Why the last check failed (empty: no failure on record).")
    reason = serializers.CharField(help_text="The reason in the request's language.")
    authorized_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    last_checked_at = serializers.DateTimeField(allow_null=True)
    participating_marketplaces = serializers.ListField(child=serializers.CharField())
    ads_profiles = serializers.ListField(child=serializers.DictField())


class OrderLoadingSerializer(serializers.Serializer[Any]):
    phase = serializers.CharField()
    backfill_from = serializers.DateTimeField()
    backfill_done_until = serializers.DateTimeField(allow_null=True)
    backfill_finished_at = serializers.DateTimeField(allow_null=True)
    orders_loaded = serializers.IntegerField()
    last_success_at = serializers.DateTimeField(allow_null=True)


class StoreSerializer(serializers.Serializer[Any]):
    code = serializers.UUIDField()
    nickname = serializers.CharField()
    region = serializers.CharField()
    sites = serializers.ListField(child=serializers.CharField())
    seller_id = serializers.CharField()
    seller_id_verified = serializers.BooleanField()
    status = serializers.ChoiceField(choices=CombinedStatus.choices, help_text="Stable machine value.")
    status_label = serializers.CharField(help_text="The status in the request's language (Accept-Language).")
    capabilities = CapabilitySerializer(many=True)
    order_loading = OrderLoadingSerializer(allow_null=True)
    updated_at = serializers.DateTimeField()


def capability_document(auth: Authorization) -> dict[str, Any]:
    code = auth.last_error if auth.last_error in REASONS else ""
    return {
        "capability": auth.capability,
        "status": auth.status,
        "status_label": str(auth.get_status_display()),
        "reason_code": code,
        "reason": auth.last_error_text,
        "authorized_at": auth.authorized_at,
        "expires_at": auth.expires_at,
        "last_checked_at": auth.last_checked_at,
        "participating_marketplaces": list(auth.granted_marketplaces or []),
        "ads_profiles": list(auth.ads_profiles or []),
    }


def order_loading(store: Store) -> dict[str, Any] | None:
    try:
        sync = store.order_sync
    except OrderSync.DoesNotExist:
        return None
    return {
        "phase": sync.phase,
        "backfill_from": sync.backfill_from,
        "backfill_done_until": sync.backfill_done_until,
        "backfill_finished_at": sync.backfill_finished_at,
        "orders_loaded": sync.orders_loaded,
        "last_success_at": sync.last_success_at,
    }


def store_document(store: Store) -> dict[str, Any]:
    return {
        "code": store.code,
        "nickname": store.nickname,
        "region": store.region,
        "sites": store.ordered_sites,
        "seller_id": store.selling_partner_id,
        "seller_id_verified": store.selling_partner_verified,
        "status": store.authorization_status,
        "status_label": str(store.get_authorization_status_display()),
        "capabilities": [
            capability_document(a) for a in sorted(store.authorizations.all(), key=lambda a: a.capability)
        ],
        "order_loading": order_loading(store),
        "updated_at": store.updated_at,
    }
