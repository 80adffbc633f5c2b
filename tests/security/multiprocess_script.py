"""Run inside subprocesses by test_multiprocess.py, against a file database shared with a real gunicorn."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Tenant, User
from authorizations.models import AuthorizationAttempt
from authorizations.store_actions import create_store
from sandbox import api

US = "ATVPDKIKX0DER"
PASSWORD = "multiprocess-password-1"


def setup() -> None:
    """A user for the login test; two stores of one tenant with an order-loading attempt each, consented at the
    sandbox by the same seller. Prints the two callback URLs and the starter's session cookie."""
    api.reset()
    seller = api.create_seller("Race Seller", "NA", [US])
    user = User.objects.create_user(email="race@example.org", password=PASSWORD)
    tenant = Tenant.create_for_owner(user, "Race Co")
    membership = Membership.objects.get(tenant=tenant, user=user)
    stores = [
        create_store(None, membership, nickname=name, region="NA", sites=["US"], initial_order_date=None)  # type: ignore[arg-type]
        for name in ("Race one", "Race two")
    ]
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(user)
    amazon = Client(HTTP_HOST="127.0.0.1")
    callbacks = []
    for store in stores:
        r = browser.post(
            reverse("authorizations:begin", args=[store.code, "listings"]), {"usual_environment": "on"}
        )
        assert r.status_code == 302, r.status_code
        attempt = AuthorizationAttempt.objects.filter(store=store).latest("started_at")
        parts = urlsplit(attempt.consent_url)
        consent = parts.path + "?" + parts.query
        assert amazon.get(consent).status_code == 200
        r = amazon.post(
            consent, {"seller": seller.selling_partner_id, "understand": "on", "action": "confirm"}
        )
        assert r.status_code == 302, r.content[:300]
        callbacks.append(str(r["Location"]))
    print(
        json.dumps(
            {
                "callbacks": callbacks,
                "session": browser.cookies[settings.SESSION_COOKIE_NAME].value,
                "attempts": [str(a.code) for a in AuthorizationAttempt.objects.order_by("id")],
            }
        )
    )


def outcomes() -> None:
    print(json.dumps([[a.outcome, a.reason] for a in AuthorizationAttempt.objects.order_by("id")]))
