from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from amazon import marketplaces


class CombinedStatus(models.TextChoices):
    AUTHORIZED = "authorized", _("Authorized")
    PARTIAL = "partial", _("Partially authorized")
    ATTENTION = "attention", _("Needs attention")
    PENDING = "pending", _("Authorizing")
    NOT_AUTHORIZED = "not_authorized", _("Not authorized")


class StoreQuerySet(models.QuerySet["Store"]):
    def active(self) -> StoreQuerySet:
        return self.filter(archived_at__isnull=True)

    def with_authorizations(self) -> StoreQuerySet:
        return self.prefetch_related("authorizations")


class Store(models.Model):
    """An Amazon seller account (one region) that a distributor connects to the platform."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        Tenant, models.CASCADE, related_name="stores", verbose_name=_("distributor account")
    )
    nickname = models.CharField(_("nickname"), max_length=50)
    region = models.CharField(_("region"), max_length=2, choices=marketplaces.REGIONS)
    sites = models.JSONField(_("sites"), default=list)
    initial_order_date = models.DateField(_("initial order-pull date"), null=True, blank=True)
    selling_partner_id = models.CharField(_("selling partner id"), max_length=40, blank=True, db_index=True)
    # True once Amazon confirmed the seller id against a grant (see amazon/listings_seller.py);
    # an unverified id came only from a callback URL and never blocks another tenant.
    selling_partner_verified = models.BooleanField(_("seller id verified"), default=False)
    # The part of an Amazon account a store stands for: in the Far East each country is its own account and a
    # store has exactly one site, so a seller selling in JP and AU may have a store for each; elsewhere "".
    account_site = models.CharField(max_length=2, blank=True, editable=False)
    timezone = models.CharField(_("timezone"), max_length=50, blank=True)
    authorization_status = models.CharField(
        _("authorization status"),
        max_length=20,
        choices=CombinedStatus.choices,
        default=CombinedStatus.NOT_AUTHORIZED,
        db_index=True,
    )
    # The combined status and each capability's status as last stored (authorizations/status.py `recompute`):
    # a change of any of them is what a `store.authorization_changed` webhook event reports.
    authorization_signature = models.CharField(max_length=200, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=dj_timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    objects = StoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("nickname"),
                "tenant",
                condition=models.Q(archived_at__isnull=True),
                name="unique_active_nickname_per_tenant",
            ),
            # One Amazon account (seller + region), once verified, is connected to one active store, hence one
            # tenant. Unverified claims are not unique: a rewritten callback must not lock the real seller out.
            models.UniqueConstraint(
                fields=["selling_partner_id", "region", "account_site"],
                condition=models.Q(archived_at__isnull=True)
                & ~models.Q(selling_partner_id="")
                & models.Q(selling_partner_verified=True),
                name="unique_active_verified_amazon_account",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "archived_at", "-created_at"], name="store_tenant_list"),
            models.Index(
                fields=["tenant", "authorization_status", "-created_at"], name="store_tenant_status"
            ),
            models.Index(fields=["authorization_status", "-created_at"], name="store_status_created"),
            models.Index(fields=["region", "-created_at"], name="store_region_created"),
            # The staff page in its order (-created_at, -id), page 1 and filtered by status, read from an index
            # and stopped after one page. Nickname search has trigram indexes on PostgreSQL (migration 0005).
            models.Index(
                fields=["-created_at", "-id"],
                condition=models.Q(archived_at__isnull=True),
                name="store_recent",
            ),
            models.Index(
                fields=["tenant", "-created_at", "-id"],
                condition=models.Q(archived_at__isnull=True),
                name="store_tenant_recent",
            ),
            models.Index(
                fields=["authorization_status", "-created_at", "-id"],
                condition=models.Q(archived_at__isnull=True),
                name="store_status_recent",
            ),
            # The tenant list in its order (-created_at, -id) filtered by status, and its "archived" view: one
            # index range in list order each, stopped after one page, at any tenant size (migration 0006).
            models.Index(
                fields=["tenant", "authorization_status", "-created_at", "-id"],
                condition=models.Q(archived_at__isnull=True),
                name="store_tenant_status_recent",
            ),
            models.Index(
                fields=["tenant", "-created_at", "-id"],
                condition=models.Q(archived_at__isnull=False),
                name="store_tenant_archived",
            ),
        ]

    def __str__(self) -> str:
        return self.nickname

    def save(self, *args: object, **kwargs: object) -> None:
        self.account_site = self.sites[0] if self.region == "FE" and self.sites else ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "sites" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = [*update_fields, "account_site"]  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def ordered_sites(self) -> list[str]:
        order = [m.site for m in marketplaces.MARKETPLACES]
        return sorted(self.sites, key=lambda s: order.index(s) if s in order else len(order))

    @property
    def primary_site(self) -> marketplaces.Marketplace:
        sites = self.ordered_sites
        if sites:
            return marketplaces.BY_SITE[sites[0]]
        return marketplaces.sites_in_region(self.region)[0]

    @property
    def primary_marketplace_id(self) -> str:
        return self.primary_site.marketplace_id

    @property
    def marketplace_ids(self) -> list[str]:
        return [
            marketplaces.BY_SITE[s].marketplace_id for s in self.ordered_sites if s in marketplaces.BY_SITE
        ]

    def site_labels(self) -> list[str]:
        return [marketplaces.site_label(s) for s in self.ordered_sites]

    def region_label(self) -> str:
        return marketplaces.region_label(self.region)
