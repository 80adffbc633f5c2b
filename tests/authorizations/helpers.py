from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from accounts.models import User
from authorizations.models import AuthorizationAttempt
from sandbox import api as sandbox_api
from stores.models import Store
from tests.base import BaseTestCase
from tests.sandbox_http import sandbox_http, sandbox_path

US, CA, MX = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8"


class FlowTestCase(BaseTestCase):
    """A tenant with a store, a simulated seller at the sandbox, and the portal's HTTP routed to the sandbox."""

    def setUp(self) -> None:
        super().setUp()
        self.rsps = self.enterContext(sandbox_http())
        self.seller = sandbox_api.create_seller("Alice's Amazon", "NA", [US, CA])
        self.amazon = Client()  # the seller's browser at Amazon: no portal session

    def begin(
        self, capability: str = "orders", user: User | None = None, store: Store | None = None
    ) -> AuthorizationAttempt:
        store = store or self.store
        self.login(user or self.alice)
        r = self.client.post(
            reverse("authorizations:begin", args=[store.code, capability]), {"usual_environment": "on"}
        )
        assert r.status_code == 302, r.status_code
        return AuthorizationAttempt.objects.filter(store=store, capability=capability).latest("started_at")

    def amazon_answer(
        self, attempt: AuthorizationAttempt, seller_id: str | None = None, action: str = "confirm"
    ) -> str:
        """Sign in at the sandbox's consent page as the seller and press Confirm or Cancel; returns the callback URL."""
        url = sandbox_path(attempt.consent_url)
        page = self.amazon.get(url)
        assert page.status_code == 200, page.content[:500]
        data: dict[str, Any] = {
            "seller": seller_id or self.seller.selling_partner_id,
            "understand": "on",
            "action": action,
        }
        r = self.amazon.post(url, data)
        assert r.status_code == 302, r.content[:500]
        return str(r["Location"])

    def callback(self, url: str, client: Client | None = None) -> Any:
        return (client or self.client).get(sandbox_path(url))

    def authorize(
        self, capability: str = "orders", seller_id: str | None = None, store: Store | None = None
    ) -> Any:
        attempt = self.begin(capability, store=store)
        return self.callback(self.amazon_answer(attempt, seller_id))
