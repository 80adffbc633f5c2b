"""Run inside subprocesses by test_rotation_processes.py, against a file database shared with gunicorn and qcluster."""

from __future__ import annotations

import json

from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import Membership, Tenant, User
from authorizations import app_secrets, status
from authorizations.models import ApplicationCredential, AuditEvent, Authorization, AuthStatus
from authorizations.store_actions import create_store
from sandbox import api
from stores.models import Store

APP = "orders"


def setup() -> None:
    """A store with order loading authorized at the sandbox, and a logged-in browser session for its owner."""
    api.reset()
    seller = api.create_seller("Rotation Seller", "NA", ["ATVPDKIKX0DER"])
    tokens = api.issue_tokens(seller, settings.AMAZON_SPAPI_APPS[APP]["app_id"])
    user = User.objects.create_user(email="rotation@example.org", password="rotation-password-1")
    tenant = Tenant.create_for_owner(user, "Rotation Co")
    membership = Membership.objects.get(tenant=tenant, user=user)
    store = create_store(
        None, membership, nickname="Rotation store", region="NA", sites=["US"], initial_order_date=None
    )  # type: ignore[arg-type]
    Store.objects.filter(pk=store.pk).update(selling_partner_id=seller.selling_partner_id)
    auth = Authorization.objects.get(store=store, capability=APP)
    auth.status, auth.selling_partner_id, auth.authorized_at = (
        AuthStatus.AUTHORIZED,
        seller.selling_partner_id,
        timezone.now(),
    )
    auth.set_refresh_token(tokens["refresh_token"])
    auth.save()
    status.recompute_in_transaction(store)
    app_secrets.credential(APP)  # seeded from the environment, as on a first start
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(user)
    print(
        json.dumps({"store": str(store.code), "session": browser.cookies[settings.SESSION_COOKIE_NAME].value})
    )


def announce_and_enqueue() -> None:
    """Amazon announces the expiry (20 days left); the worker's minute job is enqueued now instead of waiting."""
    api.announce_secret_expiry(settings.AMAZON_SPAPI_APPS[APP]["app_id"], days_left=20)
    async_task("sync.tasks.read_notifications")
    print("ok")


def state() -> None:
    row = ApplicationCredential.objects.get(kind=APP)
    print(
        json.dumps(
            {"rotated": row.rotated_at is not None, "requested": row.rotation_requested_at is not None}
        )
    )


def expire_old_secret() -> None:
    api.advance_clock(8 * 86400)
    print("ok")


def results() -> None:
    checks = AuditEvent.objects.filter(action="authorization.rechecked").order_by("created_at")
    credentials = AuditEvent.objects.filter(action__startswith="credentials.").order_by("created_at")
    print(
        json.dumps(
            {
                "rechecks": [e.outcome for e in checks],
                "timeline": [
                    f"{e.created_at:%H:%M:%S.%f} {e.action} {e.outcome} {e.detail}" for e in credentials
                ],
            }
        )
    )
