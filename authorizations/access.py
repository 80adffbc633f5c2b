"""The access helper of a store's authorization: the first line of every view under authorize/ and authorizations/.

As stores.access does for the store: an outsider gets 404 (the store's existence is not revealed), a viewer 403 on
a change (or an archived store); an unknown capability in the URL is a 404.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import Membership
from authorizations.models import Authorization, Capability
from stores.access import get_editable_store_for_user, get_store_for_user


def get_authorization_for_user(
    request: HttpRequest, store_code: str, capability: str, *, change: bool = False
) -> tuple[Authorization, Membership]:
    """The store's authorization of `capability` (its store loaded) and the user's membership of the store's tenant."""
    get_store = get_editable_store_for_user if change else get_store_for_user
    store, membership = get_store(request, store_code)
    if capability not in Capability.values:
        raise Http404
    auth = get_object_or_404(Authorization, store=store, capability=capability)
    auth.store = store
    return auth, membership
