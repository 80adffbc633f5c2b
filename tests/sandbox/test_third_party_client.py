"""python-amazon-sp-api (`sp_api`, a widely used third-party client, not ours), unmodified, against the sandbox.

The library talks to Amazon's real hosts (https://api.amazon.com/auth/o2/token and
https://sellingpartnerapi-na.amazon.com/...). The pinned version (requirements-test.txt) sends them with httpx, not
`requests`, so a `responses` router like tests/sandbox_http.py's never sees them: this module routes at httpx's transport instead (the
layer `responses` replaces for `requests`), handing each request for an Amazon host to the sandbox's Django views
through the test client:

    https://api.amazon.com/auth/o2/token            -> /sandbox/na/auth/o2/token
    https://sellingpartnerapi-na.amazon.com/<path>  -> /sandbox/na/sp/<path>

Any other host is refused, so nothing can reach the internet. The library itself is not patched: only its
module-level access-token cache is emptied between tests, as a new process would have it. It signs nothing and needs
no AWS credentials.

A test that fails here is a disagreement between the library and the sandbox; its assertion message shows the
request sent, the sandbox's answer and what Amazon documents. Known: the code exchange (the library sends no
redirect_uri, as in Amazon's documented example; the sandbox's token endpoint requires one).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx
from django.conf import settings
from django.test import Client, TestCase
from django.test.utils import override_settings
from sp_api.api import ListingsItems, Notifications, Orders, OrdersVersion, Sellers
from sp_api.auth import AccessTokenClient
from sp_api.auth import access_token_client as sp_api_token_cache
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces, SellingApiForbiddenException, SellingApiNotFoundException
from sp_api.base.credential_provider import CredentialProvider
from sp_api.util import load_all_pages

from sandbox import api
from sandbox.models import SandboxSeller, SandboxSubscription
from tests.sandbox.helpers import CA, US, confirm_consent, listings_app, new_seller, orders_app

LWA_HOST = "api.amazon.com"
SP_HOST = "sellingpartnerapi-na.amazon.com"
# LWA's whole sentence (amzn/selling-partner-api-docs issue #2379).
REVOKED = (
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission."
)


@dataclass
class Exchange:
    """One request the library sent and the sandbox's answer."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    answer: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)

    def __str__(self) -> str:
        return (
            f"{self.method} {self.url}\n  sent: {self.body.decode(errors='replace')}\n"
            f"  sandbox: {self.status} {self.answer.decode(errors='replace')}"
        )


@dataclass
class AmazonRouter:
    """httpx transport stand-in: Amazon's NA hosts -> the sandbox's Django views; every other host refused."""

    log: list[Exchange] = field(default_factory=list)

    @staticmethod
    def sandbox_path(url: httpx.URL) -> str | None:
        if url.scheme != "https":
            return None
        if url.host == LWA_HOST and url.path == "/auth/o2/token":
            return "/sandbox/na/auth/o2/token"
        if url.host == SP_HOST:
            return "/sandbox/na/sp" + url.raw_path.decode("ascii")
        return None

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = self.sandbox_path(request.url)
        if path is None:
            raise httpx.ConnectError(f"Refused in tests: {request.url}", request=request)
        body = request.read()
        # Headers as a WSGI server would pass them; the Host header stays Amazon's (allowed below).
        meta = {
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in request.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        response = Client().generic(
            request.method,
            path,
            data=body,
            content_type=request.headers.get("content-type", "application/octet-stream"),
            **meta,
        )
        self.log.append(
            Exchange(
                request.method,
                str(request.url),
                dict(request.headers),
                body,
                response.status_code,
                response.content,
            )
        )
        headers = [(k, v) for k, v in response.items() if k.lower() != "content-length"]
        return httpx.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )

    def to(self, path: str) -> list[Exchange]:
        return [e for e in self.log if urlsplit(e.url).path == path]

    def dump(self) -> str:
        return "\n".join(str(e) for e in self.log)


def iso(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ThirdPartyClientTestCase(TestCase):
    def setUp(self) -> None:
        api.set_time_scale(0)
        self.router = AmazonRouter()
        transport = mock.patch.object(
            httpx.HTTPTransport, "handle_request", lambda _self, request: self.router.handle(request)
        )
        transport.start()
        self.addCleanup(transport.stop)
        hosts = override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver", LWA_HOST, SP_HOST])
        hosts.enable()
        self.addCleanup(hosts.disable)
        # The library takes its credentials from the environment or a config file when none are given in code, and
        # its default marketplace from SP_API_DEFAULT_MARKETPLACE: none of these may leak in from the machine.
        environ = mock.patch.dict(os.environ)
        environ.start()
        self.addCleanup(environ.stop)
        for name in ("SP_API_DEFAULT_MARKETPLACE", "SP_API_REFRESH_TOKEN", "LWA_APP_ID", "LWA_CLIENT_SECRET"):
            os.environ.pop(name, None)
        # Access tokens are cached per refresh token in a module-level dict: each test starts without any.
        sp_api_token_cache.cache.clear()
        self.addCleanup(sp_api_token_cache.cache.clear)
        self.seller: SandboxSeller = new_seller(
            "Third Party Seller", marketplace_ids=[US, CA], orders_per_day=4
        )

    @staticmethod
    def credentials(app: dict[str, Any]) -> dict[str, str]:
        return {"lwa_app_id": app["client_id"], "lwa_client_secret": app["client_secret"]}

    def refresh_token(self, app: dict[str, Any]) -> str:
        return str(api.issue_tokens(self.seller.selling_partner_id, app["app_id"])["refresh_token"])

    def sp_client(self, cls: Any, app: dict[str, Any], refresh_token: str, **kwargs: Any) -> Any:
        return cls(Marketplaces.US, refresh_token=refresh_token, credentials=self.credentials(app), **kwargs)


class CodeExchangeTests(ThirdPartyClientTestCase):
    def exchange_with_the_library(self) -> tuple[str, dict[str, Any] | AuthorizationError]:
        code = confirm_consent(self.client, self.seller)["spapi_oauth_code"]
        token_client = AccessTokenClient(
            credentials=CredentialProvider(credentials=self.credentials(orders_app())).credentials
        )
        try:
            return code, token_client.authorize_auth_code(code)
        except AuthorizationError as exc:
            return code, exc

    def test_the_library_exchanges_an_authorization_code_for_tokens(self) -> None:
        # KNOWN FAILURE (sandbox side): sandbox/lwa.py token() answers 400 invalid_request "missing a required
        # parameter : redirect_uri" because the library, like Amazon's documented example request, sends none.
        code, tokens = self.exchange_with_the_library()
        if isinstance(tokens, AuthorizationError):
            self.fail(
                "sp_api AccessTokenClient.authorize_auth_code was refused: "
                f"{tokens.status_code} {tokens.error_code}: {tokens.message}.\n"
                "Amazon's SP-API guide documents the exchange as "
                "grant_type=authorization_code&code=...&client_id=...&client_secret=... (no redirect_uri); "
                "the sandbox should accept a missing redirect_uri and only refuse a different one.\n"
                + self.router.dump()
            )
        [sent] = self.router.to("/auth/o2/token")
        self.assertEqual(sent.form["code"], code)
        self.assertTrue(tokens["refresh_token"].startswith("Atzr|"))
        self.assertTrue(tokens["access_token"].startswith("Atza|"))
        self.assertEqual(tokens["token_type"], "bearer")
        self.assertEqual(tokens["expires_in"], 3600)

    def test_the_library_sends_the_exchange_as_amazons_documented_example(self) -> None:
        # What goes on the wire, whatever the sandbox answers: a form-encoded POST to api.amazon.com with exactly
        # the four fields of the guide's example request.
        code, _answer = self.exchange_with_the_library()
        [sent] = self.router.to("/auth/o2/token")
        self.assertEqual(sent.method, "POST")
        self.assertEqual(sent.url, f"https://{LWA_HOST}/auth/o2/token")
        self.assertTrue(sent.headers["content-type"].startswith("application/x-www-form-urlencoded"))
        app = orders_app()
        self.assertEqual(
            sent.form,
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        )


class RefreshAndSellersTests(ThirdPartyClientTestCase):
    def test_the_library_refreshes_on_its_own_and_gets_the_marketplace_participations(self) -> None:
        app = orders_app()
        refresh_token = self.refresh_token(app)
        sellers = self.sp_client(Sellers, app, refresh_token)
        response = sellers.get_marketplace_participation()

        [refresh] = self.router.to("/auth/o2/token")
        self.assertEqual(refresh.status, 200, str(refresh))
        self.assertEqual(
            refresh.form,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        )
        access_token = json.loads(refresh.answer)["access_token"]
        [call] = self.router.to("/sellers/v1/marketplaceParticipations")
        self.assertEqual(call.headers["x-amz-access-token"], access_token)
        self.assertEqual(call.status, 200, str(call))

        ids = [p["marketplace"]["id"] for p in response.payload]
        self.assertEqual(ids, [US, CA])
        self.assertTrue(all(p["participation"]["isParticipating"] for p in response.payload))
        self.assertEqual(response.headers["x-amzn-RateLimit-Limit"], "0.016")

    def test_the_access_token_is_reused_while_it_is_cached(self) -> None:
        app = orders_app()
        sellers = self.sp_client(Sellers, app, self.refresh_token(app))
        sellers.get_marketplace_participation()
        sellers.get_marketplace_participation()
        self.assertEqual(len(self.router.to("/auth/o2/token")), 1)
        self.assertEqual(len(self.router.to("/sellers/v1/marketplaceParticipations")), 2)


class OrdersTests(ThirdPartyClientTestCase):
    def setUp(self) -> None:
        super().setUp()
        app = orders_app()
        self.orders = self.sp_client(Orders, app, self.refresh_token(app), version=OrdersVersion.V_2026_01_01)

    def test_the_library_has_an_orders_2026_01_01_client(self) -> None:
        self.assertEqual(type(self.orders).__name__, "OrdersV20260101")

    def test_search_orders_pages_with_next_token_as_pagination_token(self) -> None:
        after = api.now() - timedelta(days=10)
        # The library's own pager, told the 2026-01-01 parameter name; it sends every other parameter again, as
        # the model's Pagination definition asks.
        pages = list(
            load_all_pages(throttle_by_seconds=0, next_token_param="paginationToken")(
                self.orders.search_orders
            )(createdAfter=iso(after), marketplaceIds=[US, CA], maxResultsPerPage=9)
        )
        calls = self.router.to("/orders/2026-01-01/orders")
        for call in calls:
            self.assertEqual(call.status, 200, str(call))
        self.assertGreater(len(pages), 3)
        self.assertEqual(len(pages), len(calls))
        self.assertEqual(calls[0].query["marketplaceIds"], [f"{US},{CA}"])
        self.assertNotIn("paginationToken", calls[0].query)
        for previous, page_call in zip(pages, calls[1:], strict=False):
            self.assertEqual(page_call.query["paginationToken"], [previous.next_token])
            self.assertEqual(page_call.query["createdAfter"], [iso(after)])
            self.assertEqual(page_call.query["marketplaceIds"], [f"{US},{CA}"])
        self.assertIsNone(pages[-1].next_token)
        ids = [o["orderId"] for page in pages for o in page.payload["orders"]]
        expected = [
            o.order_id
            for o in api.generated_orders(self.seller.selling_partner_id, [US, CA], created_after=after)
        ]
        self.assertGreater(len(expected), 9 * 3)
        self.assertEqual(ids, expected)
        self.assertTrue(all(len(page.payload["orders"]) <= 9 for page in pages))

    def test_search_orders_without_marketplace_ids_uses_the_client_marketplace(self) -> None:
        response = self.orders.search_orders(createdAfter=iso(api.now() - timedelta(days=2)))
        [call] = self.router.to("/orders/2026-01-01/orders")
        self.assertEqual(call.status, 200, str(call))
        self.assertEqual(call.query["marketplaceIds"], [US])
        self.assertTrue(all(o["salesChannel"]["marketplaceId"] == US for o in response.payload["orders"]))

    def test_get_order(self) -> None:
        after = api.now() - timedelta(days=3)
        order = api.generated_orders(self.seller.selling_partner_id, [US], created_after=after).first()
        assert order is not None
        response = self.orders.get_order(order.order_id)
        [call] = self.router.to(f"/orders/2026-01-01/orders/{order.order_id}")
        self.assertEqual(call.status, 200, str(call))
        self.assertEqual(call.query, {})
        self.assertEqual(response.payload["order"]["orderId"], order.order_id)
        self.assertEqual(response.payload["order"]["salesChannel"]["marketplaceId"], US)

    def test_an_unknown_order_is_the_librarys_not_found_error(self) -> None:
        with self.assertRaises(SellingApiNotFoundException) as caught:
            self.orders.get_order("111-0000000-0000000")
        self.assertEqual(caught.exception.amzn_code, "NotFound")


class ListingsTests(ThirdPartyClientTestCase):
    def test_patch_listings_item_sets_the_quantity(self) -> None:
        app = listings_app()
        listings = self.sp_client(ListingsItems, app, self.refresh_token(app))
        sku = "TP-SKU 1/blue"
        body = {
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
                }
            ],
        }
        response = listings.patch_listings_item(
            self.seller.selling_partner_id, sku, marketplaceIds=US, body=body
        )
        [call] = [e for e in self.router.log if e.method == "PATCH"]
        self.assertEqual(call.status, 200, str(call))
        self.assertEqual(json.loads(call.body), body)
        self.assertEqual(call.query["marketplaceIds"], [US])
        self.assertEqual(response.payload["status"], "ACCEPTED")
        self.assertEqual(response.payload["sku"], sku)
        self.assertEqual(api.listing_quantity(self.seller, sku, US), 7)


class RevocationTests(ThirdPartyClientTestCase):
    def test_after_a_revoke_the_librarys_refresh_gets_invalid_grant(self) -> None:
        app = orders_app()
        refresh_token = self.refresh_token(app)
        self.sp_client(Sellers, app, refresh_token).get_marketplace_participation()

        api.revoke(self.seller.selling_partner_id, app["app_id"])

        # The access token the library still caches is refused at once.
        with self.assertRaises(SellingApiForbiddenException) as forbidden:
            self.sp_client(Sellers, app, refresh_token).get_marketplace_participation()
        self.assertEqual(forbidden.exception.amzn_code, "Unauthorized")

        # A fresh process (no cached access token) refreshes and gets invalid_grant.
        sp_api_token_cache.cache.clear()
        with self.assertRaises(AuthorizationError) as caught:
            self.sp_client(Sellers, app, refresh_token).get_marketplace_participation()
        self.assertEqual(caught.exception.status_code, 400)
        self.assertEqual(caught.exception.error_code, "invalid_grant")
        self.assertEqual(caught.exception.message, REVOKED)
        self.assertEqual(len(self.router.to("/sellers/v1/marketplaceParticipations")), 2)


class NotificationsTests(ThirdPartyClientTestCase):
    """The library's Notifications client (it has no getSubscriptions in the pinned version: that operation is
    covered over HTTP in tests/sandbox/test_notifications.py)."""

    ARN = "arn:aws:sqs:us-east-1:123456789012:portal-notifications"

    def notifications(self) -> Any:
        app = orders_app()
        return self.sp_client(Notifications, app, self.refresh_token(app))

    def test_the_library_creates_a_destination_subscribes_reads_and_deletes_the_subscription(self) -> None:
        client = self.notifications()
        destination = client.create_destination(name="portal", arn=self.ARN).payload
        self.assertEqual(destination["resource"]["sqs"]["arn"], self.ARN, self.router.dump())
        created = client.create_subscription(
            "ORDER_CHANGE", destination_id=destination["destinationId"]
        ).payload
        self.assertEqual(created["destinationId"], destination["destinationId"], self.router.dump())
        self.assertEqual(client.get_subscription("ORDER_CHANGE").payload, created)
        client.delete_notification_subscription("ORDER_CHANGE", created["subscriptionId"])
        self.assertFalse(SandboxSubscription.objects.filter(seller=self.seller).exists(), self.router.dump())
        with self.assertRaises(SellingApiNotFoundException):
            client.get_subscription("ORDER_CHANGE")
