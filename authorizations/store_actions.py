"""Writes that touch a store and its authorizations together (creating one makes its three capabilities; archiving
disables them), so they live above both: docs/architecture.md."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Membership
from amazon import marketplaces
from authorizations import lifecycle
from authorizations.audit import record
from authorizations.models import Authorization, Capability
from stores.models import Store


def create_store(
    request: HttpRequest | None,
    membership: Membership,
    *,
    nickname: str,
    region: str,
    sites: list[str],
    initial_order_date: date | None,
) -> Store:
    with transaction.atomic():
        store = Store(
            tenant=membership.tenant,
            nickname=nickname,
            region=region,
            sites=sites,
            initial_order_date=initial_order_date,
            created_by=membership.user,
        )
        store.timezone = store.primary_site.timezone
        store.save()
        Authorization.objects.bulk_create(Authorization(store=store, capability=c) for c in Capability)
        record(request, "store.created", store=store, detail=f"{region} {','.join(store.ordered_sites)}")
    return store


def update_store(
    request: HttpRequest, store: Store, *, nickname: str, sites: list[str], initial_order_date: date | None
) -> None:
    changes = []
    if store.nickname != nickname:
        changes.append("nickname")
    if sorted(store.sites) != sorted(sites):
        changes.append("sites")
    if store.initial_order_date != initial_order_date:
        changes.append("initial_order_date")
    with transaction.atomic():
        store.nickname = nickname
        store.sites = sites
        store.initial_order_date = initial_order_date
        store.timezone = store.primary_site.timezone
        store.save(update_fields=["nickname", "sites", "initial_order_date", "timezone", "updated_at"])
        record(request, "store.updated", store=store, detail=",".join(changes))


def archive_store(request: HttpRequest, store: Store) -> None:
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store.pk)
        if store.archived_at is not None:
            return
        store.archived_at = timezone.now()
        store.save(update_fields=["archived_at", "updated_at"])
        lifecycle.disable_all_for_archive(store)
        record(request, "store.archived", store=store)


def site_warnings(store: Store) -> list[str]:
    """Chosen sites where Amazon does not list the seller as participating, for any SP-API authorization that
    recorded getMarketplaceParticipations (sellers.json: participation.isParticipating). Order loading asks only for
    the participating ones (sync.orders.order_marketplaces), so these sites load no orders."""
    missing: set[str] = set()
    for a in store.authorizations.all():
        if not (a.is_spapi and a.granted_marketplaces):
            continue
        participating = {
            m.get("id")
            for m in a.granted_marketplaces
            if isinstance(m, dict) and m.get("participating") is True
        }
        missing.update(
            s for s in store.ordered_sites if marketplaces.BY_SITE[s].marketplace_id not in participating
        )
    return [marketplaces.site_label(s) for s in store.ordered_sites if s in missing]
