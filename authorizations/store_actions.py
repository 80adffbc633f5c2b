"""Writes that touch a store and its authorizations together (creating one makes its three capabilities; archiving
disables them), so they live above both: docs/architecture.md."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from amazon import marketplaces
from authorizations import lifecycle, status
from authorizations.audit import record
from authorizations.models import Authorization, AuthStatus, Capability
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


class RestoreError(Exception):
    """Why an archived store cannot come back as it is (the message is for the user)."""


def restore_store(request: HttpRequest, store: Store) -> None:
    """Bring an archived store back with its history (audit events, attempts, orders, mappings).

    Its capabilities come back "not authorized" with no token: archiving stopped everything, and the seller
    re-authorizes, which also checks the Amazon account again. Like a revoke of the last token (lifecycle.revoke),
    the store lets go of its selling partner id, so it never collides with an active store that connected the same
    Amazon account meanwhile. A nickname taken meanwhile is refused with RestoreError: edit the other store first.
    """
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store.pk)
        if store.archived_at is None:
            return
        taken = _(
            "Another active store is already called “%(name)s”. Rename or archive it, then restore this one."
        ) % {"name": store.nickname}
        if Store.objects.active().filter(tenant=store.tenant, nickname__iexact=store.nickname).exists():
            raise RestoreError(taken)
        for a in Authorization.objects.select_for_update(of=("self",)).filter(store=store):
            a.set_refresh_token("")
            a.status = AuthStatus.NOT_AUTHORIZED
            a.status_changed_at = timezone.now()
            a.authorized_at = a.expires_at = a.last_error_at = None
            a.last_error = ""
            a.granted_marketplaces, a.ads_profiles = [], []
            a.save()
        store.archived_at = None
        store.selling_partner_id = ""
        store.selling_partner_verified = False
        try:
            # The partial unique index on active nicknames has the last word when two restores race.
            with transaction.atomic():
                store.save(
                    update_fields=[
                        "archived_at",
                        "selling_partner_id",
                        "selling_partner_verified",
                        "updated_at",
                    ]
                )
        except IntegrityError:
            raise RestoreError(taken) from None
        status.recompute(store)
        record(request, "store.restored", store=store)


def site_warnings(store: Store) -> list[str]:
    """Chosen sites where Amazon does not list the seller as participating, for any SP-API authorization that
    recorded getMarketplaceParticipations (sellers.json: participation.isParticipating). Order loading asks only for
    the participating ones (sync.order_state.order_marketplaces), so these sites load no orders."""
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
