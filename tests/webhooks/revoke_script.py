"""Run inside subprocesses by test_revoke_to_receiver.py, against a file database shared with a real qcluster and
the sandbox served by runserver."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone

from accounts.models import Membership, Tenant, User
from authorizations import grant_checks, status
from authorizations.models import Authorization, AuthStatus
from authorizations.store_actions import create_store
from sandbox import api
from stores.models import Store
from webhooks import endpoints
from webhooks.models import Endpoint


def setup(stores: int, url: str) -> None:
    """`stores` stores with order loading authorized at the sandbox, then an endpoint at `url` (so the setup itself
    sends no event)."""
    api.reset()
    user = User.objects.create_user(email="hooks@example.org", password="hooks-test-password-1")
    tenant = Tenant.create_for_owner(user, "Hooks Test")
    membership = Membership.objects.get(tenant=tenant, user=user)
    auths = []
    app_id = settings.AMAZON_SPAPI_APPS["orders"]["app_id"]
    for i in range(stores):
        seller = api.create_seller(f"Hooks Seller {i}", "NA", ["ATVPDKIKX0DER"])
        tokens = api.issue_tokens(seller, app_id)
        store = create_store(
            None,  # type: ignore[arg-type]
            membership,
            nickname=f"Hooks store {i}",
            region="NA",
            sites=["US"],
            initial_order_date=None,
        )
        Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
        auth = Authorization.objects.get(store=store, capability="orders")
        auth.status = AuthStatus.AUTHORIZED
        auth.selling_partner_id = seller.selling_partner_id
        auth.set_refresh_token(tokens["refresh_token"])
        auth.authorized_at = timezone.now()
        auth.save()
        status.recompute_in_transaction(store)
        auths.append((auth.pk, seller.selling_partner_id))
    endpoint = Endpoint(tenant=tenant, url=url, events=["store.authorization_changed"])
    secret = endpoints.create(None, endpoint, user)
    print(json.dumps({"auths": auths, "secret": secret}))


def revoke_and_check(auth_pk: int, seller: str) -> None:
    """The seller removes the app at Amazon; the hourly token check finds invalid_grant. Prints when the portal
    noticed (the status change's time) and the check's outcome."""
    api.revoke(seller, settings.AMAZON_SPAPI_APPS["orders"]["app_id"])
    auth = Authorization.objects.select_related("store").get(pk=auth_pk)
    outcome = grant_checks.token_check(auth)
    auth.refresh_from_db()
    noticed = auth.status_changed_at.timestamp() if auth.status_changed_at else None
    print(
        json.dumps(
            {"outcome": outcome, "status": auth.status, "noticed": noticed, "store": str(auth.store.code)}
        )
    )
