"""The staff list of every store: filters shared by the page, the re-check form and its "all matching" option."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Tenant
from amazon import marketplaces
from authorizations.models import AuthStatus, Capability
from stores.models import CombinedStatus, Store


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; logged-in users who are not staff get 404 (the page is not there)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""
    region: str = ""
    capability: str = ""
    cap_status: str = ""
    tenant: str = ""
    archived: bool = False

    @classmethod
    def from_query(cls, data: QueryDict) -> Filters:
        def pick(name: str, allowed: list[str]) -> str:
            value = data.get(name, "")
            return value if value in allowed else ""

        tenant = data.get("tenant", "").strip()[:36]
        return cls(
            q=data.get("q", "").strip()[:60],
            status=pick("status", CombinedStatus.values),
            region=pick("region", marketplaces.REGION_CODES),
            capability=pick("capability", Capability.values),
            cap_status=pick("cap_status", AuthStatus.values),
            tenant=tenant if is_uuid(tenant) else "",
            archived=data.get("archived") == "1",
        )

    def apply(self, stores: QuerySet[Store]) -> QuerySet[Store]:
        if not self.archived:
            stores = stores.filter(archived_at__isnull=True)
        if self.status:
            stores = stores.filter(authorization_status=self.status)
        if self.region:
            stores = stores.filter(region=self.region)
        if self.tenant:
            stores = stores.filter(tenant__code=self.tenant)
        if self.capability and self.cap_status:
            # One filter() call, so both conditions hold for the same authorization row.
            stores = stores.filter(
                authorizations__capability=self.capability, authorizations__status=self.cap_status
            )
        elif self.capability:
            stores = stores.filter(
                authorizations__capability=self.capability, authorizations__status=AuthStatus.AUTHORIZED
            )
        elif self.cap_status:
            stores = stores.filter(authorizations__status=self.cap_status).distinct()
        if self.q:
            # The matching tenants first (a small table), so the OR stays on the store table: on PostgreSQL each
            # branch is then an index (two trigram indexes of migration stores/0005, the tenant index), combined
            # by a BitmapOr, instead of a join that reads every store.
            tenant_ids = list(Tenant.objects.filter(name__icontains=self.q).values_list("id", flat=True))
            match = Q(nickname__icontains=self.q) | Q(selling_partner_id__icontains=self.q)
            if tenant_ids:
                match |= Q(tenant_id__in=tenant_ids)
            stores = stores.filter(match)
        return stores

    def as_query(self) -> str:
        data = QueryDict(mutable=True)
        for name in ("q", "status", "region", "capability", "cap_status", "tenant"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.archived:
            data["archived"] = "1"
        return data.urlencode()

    def fields(self) -> list[tuple[str, str]]:
        """The active filters as form fields, so a POST can repeat the filter of the page."""
        return [(k, "1" if v is True else str(v)) for k, v in self.__dict__.items() if v]

    def describe(self) -> str:
        """The filter in the reader's words (stored with a re-check batch, so in the language of staff who ran it)."""
        parts: list[str] = []
        if self.q:
            parts.append(_("search “%(q)s”") % {"q": self.q})
        labelled = (
            (self.status, dict(CombinedStatus.choices)),
            (self.region, dict(marketplaces.REGIONS)),
            (self.capability, dict(Capability.choices)),
            (self.cap_status, dict(AuthStatus.choices)),
        )
        parts += [str(labels.get(value, value)) for value, labels in labelled if value]
        if self.tenant:
            parts.append(Tenant.objects.filter(code=self.tenant).values_list("name", flat=True).first() or "")
        if self.archived:
            parts.append(_("archived included"))
        if not parts:
            return str(_("All stores"))
        return _("All stores matching the filter: %(filter)s") % {
            "filter": pgettext("list separator", ", ").join(str(p) for p in parts if p)
        }

    @property
    def active(self) -> bool:
        return bool(self.as_query())


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def stores_for(filters: Filters) -> QuerySet[Store]:
    return filters.apply(Store.objects.all()).order_by("-created_at", "-id")
