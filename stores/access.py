from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accounts.models import Membership
from stores.models import Store


def get_store_for_user(request: HttpRequest, code: str) -> tuple[Store, Membership]:
    """The store with this code in one of the user's tenants, and the user's membership there.

    Anyone who is not a member of the store's tenant gets 404, so a store's existence is never revealed.
    (Opening a store of another of the user's tenants makes that tenant the current one: TenantMiddleware does
    that before the view runs, so this getter has no side effect.)
    """
    if not request.user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("tenant")
        .filter(user=request.user, tenant__stores__code=code)
        .first()
    )
    if membership is None:
        raise Http404("No such store")
    store = Store.objects.select_related("tenant").get(code=code)
    return store, membership


def get_editable_store_for_user(request: HttpRequest, code: str) -> tuple[Store, Membership]:
    """As get_store_for_user, and 403 for a viewer or an archived store."""
    store, membership = get_store_for_user(request, code)
    if not membership.can_change or store.is_archived:
        raise PermissionDenied
    return store, membership
