"""The OAuth flows under attack: forged, replayed, foreign and expired states, code replay, open redirects."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authorizations.models import AuditEvent, Authorization, AuthorizationAttempt, AuthStatus
from sandbox.models import SandboxApplication
from stores.models import Store
from tests.authorizations.helpers import FlowTestCase
from tests.base import PASSWORD, BaseTestCase, make_store
from tests.sandbox_http import SANDBOX_BASE
from tests.security.helpers import captured_logs, is_on_site, portal_rows

Outcome = AuthorizationAttempt.Outcome
CALLBACK_URI = "http://testserver/amazon/callback/"
EVIL = "https://evil.example/"
ORDERS_APP = settings.AMAZON_SPAPI_APPS["orders"]["app_id"]
EVIL_NEXTS = (
    EVIL,
    "//evil.example/",
    "/\\evil.example/",
    "https:evil.example",
    "http://testserver@evil.example/",
    "javascript:alert(1)",
)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def state_of(attempt: AuthorizationAttempt) -> str:
    return query(attempt.consent_url)["state"]


class OAuthTestCase(FlowTestCase):
    def token_calls(self) -> int:
        """How many times the portal (or a test) called the LWA token endpoint so far."""
        return sum(1 for c in self.rsps.calls if "/auth/o2/token" in str(c.request.url))

    def status_of(self, store: Store, capability: str = "orders") -> str:
        return Authorization.objects.get(store=store, capability=capability).status


class ForgedStateTests(OAuthTestCase):
    def test_a_forged_state_is_refused_without_calling_amazon(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        forged = url.replace(state_of(attempt), secrets.token_urlsafe(32))
        r = self.callback(forged)
        self.assertContains(r, "This authorization link is not valid", status_code=400)
        self.assertEqual(self.token_calls(), 0)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.used_at), (Outcome.PENDING, None))
        self.assertEqual(self.status_of(self.store), AuthStatus.PENDING)

    def test_the_stored_state_hash_is_not_usable_as_a_state(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        r = self.callback(url.replace(state_of(attempt), attempt.state_hash))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(self.token_calls(), 0)

    def test_a_truncated_or_altered_state_is_refused(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        state = state_of(attempt)
        for bad in (state[:-1], state + "A", state.upper(), "", " " + state):
            with self.subTest(state=bad):
                r = self.callback(url.replace(f"state={state}", f"state={quote(bad)}"))
                self.assertEqual(r.status_code, 400)
        self.assertEqual(self.token_calls(), 0)

    def test_a_forged_state_on_the_advertising_callback_is_refused(self) -> None:
        r = self.client.get(
            reverse("amazon:ads_callback"), {"state": secrets.token_urlsafe(32), "code": "ANxyz"}
        )
        self.assertEqual(r.status_code, 400)
        self.assertEqual(self.token_calls(), 0)

    def test_a_state_of_one_callback_kind_is_refused_on_the_other(self) -> None:
        attempt = self.begin("orders")
        r = self.client.get(reverse("amazon:ads_callback"), {"state": state_of(attempt), "code": "x"})
        self.assertEqual(r.status_code, 400)
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.PENDING)


class ReplayTests(OAuthTestCase):
    def test_a_replayed_callback_is_refused_without_a_second_exchange(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        self.assertEqual(self.callback(url).status_code, 302)
        calls = self.token_calls()
        self.assertGreater(calls, 0)
        r = self.callback(url)
        self.assertContains(r, "already used", status_code=400)
        self.assertEqual(self.token_calls(), calls)
        self.assertEqual(AuditEvent.objects.filter(action="authorization.succeeded").count(), 1)

    def test_a_replayed_callback_in_another_browser_is_refused_too(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        self.callback(url)
        token = Authorization.objects.get(store=self.store, capability="orders").refresh_token_encrypted
        for browser in (Client(), self.logged_in(self.charlie), self.logged_in(self.bob)):
            self.assertEqual(self.callback(url, client=browser).status_code, 400)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").refresh_token_encrypted, token
        )

    def logged_in(self, user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_the_sandbox_refuses_a_used_code_with_invalid_grant(self) -> None:
        attempt = self.begin()
        code = query(self.amazon_answer(attempt))["spapi_oauth_code"]
        app = settings.AMAZON_SPAPI_APPS["orders"]
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK_URI,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
        first = requests.post(f"{SANDBOX_BASE}/na/auth/o2/token", data=data, timeout=5)
        self.assertEqual(first.status_code, 200, first.text)
        second = requests.post(f"{SANDBOX_BASE}/na/auth/o2/token", data=data, timeout=5)
        self.assertEqual(second.status_code, 400)
        self.assertEqual(second.json()["error"], "invalid_grant")
        self.assertNotIn("refresh_token", second.json())

    def test_a_code_already_exchanged_by_someone_else_fails_the_attempt_and_attaches_nothing(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        app = settings.AMAZON_SPAPI_APPS["orders"]
        stolen = {
            "grant_type": "authorization_code",
            "code": query(url)["spapi_oauth_code"],
            "redirect_uri": CALLBACK_URI,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
        self.assertEqual(
            requests.post(f"{SANDBOX_BASE}/na/auth/o2/token", data=stolen, timeout=5).status_code, 200
        )
        self.callback(url)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "code_invalid"))
        auth = Authorization.objects.get(store=self.store, capability="orders")
        self.assertEqual((auth.status, auth.refresh_token_encrypted), (AuthStatus.NOT_AUTHORIZED, ""))

    def test_an_old_code_under_a_new_state_is_refused_by_amazon_and_attaches_nothing(self) -> None:
        first = self.begin()
        url = self.amazon_answer(first)
        old_code = query(url)["spapi_oauth_code"]
        self.callback(url)
        self.client.post(
            reverse("authorizations:lifecycle_apply", args=[self.store.code, "orders", "revoke"])
        )
        self.assertEqual(self.status_of(self.store), AuthStatus.NOT_AUTHORIZED)
        second = self.begin()
        r = self.callback(self.amazon_answer_url(second, old_code))
        self.assertEqual(r.status_code, 302)
        second.refresh_from_db()
        self.assertEqual((second.outcome, second.reason), (Outcome.FAILED, "code_invalid"))
        self.assertEqual(self.status_of(self.store), AuthStatus.NOT_AUTHORIZED)

    def amazon_answer_url(self, attempt: AuthorizationAttempt, code: str) -> str:
        q = {
            "state": state_of(attempt),
            "spapi_oauth_code": code,
            "selling_partner_id": self.seller.selling_partner_id,
        }
        return reverse("amazon:callback") + "?" + urlencode(q)


class ExpiredStateTests(OAuthTestCase):
    def test_an_expired_state_is_refused_without_calling_amazon(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        AuthorizationAttempt.objects.filter(pk=attempt.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        r = self.callback(url)
        self.assertContains(r, "expired", status_code=400)
        self.assertEqual(self.token_calls(), 0)
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.EXPIRED)
        self.assertEqual(self.status_of(self.store), AuthStatus.NOT_AUTHORIZED)

    def test_a_state_lives_15_minutes_at_most(self) -> None:
        attempt = self.begin()
        self.assertLessEqual((attempt.expires_at - attempt.started_at).total_seconds(), 15 * 60)


class ForeignTenantTests(OAuthTestCase):
    def test_a_consent_started_by_tenant_a_completed_in_a_tenant_b_browser_does_not_attach(self) -> None:
        charlie_store = make_store(self.other_tenant, nickname="Charlie US")
        attempt = self.begin()  # Alice's tenant
        mallory = Client()
        mallory.force_login(self.charlie)
        r = self.callback(self.amazon_answer(attempt), client=mallory)
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, self.store.nickname)
        self.assertNotContains(r, self.tenant.name)
        mallory.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(self.status_of(self.store), AuthStatus.PENDING)
        self.assertEqual(self.status_of(charlie_store), AuthStatus.NOT_AUTHORIZED)
        self.store.refresh_from_db()
        charlie_store.refresh_from_db()
        self.assertEqual((self.store.selling_partner_id, charlie_store.selling_partner_id), ("", ""))
        # The store page stays hidden from tenant B.
        self.assertEqual(mallory.get(reverse("stores:detail", args=[self.store.code])).status_code, 404)

    def test_a_consent_started_by_tenant_b_and_sent_to_a_tenant_a_browser_attaches_nowhere(self) -> None:
        # Account-linking CSRF: the attacker starts a consent and gets the victim to answer it at Amazon.
        charlie_store = make_store(self.other_tenant, nickname="Charlie US")
        attempt = self.begin(user=self.charlie, store=charlie_store)
        victim = Client()
        victim.force_login(self.alice)
        r = self.callback(self.amazon_answer(attempt), client=victim)
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "Charlie", status_code=200)
        victim.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(self.status_of(charlie_store), AuthStatus.PENDING)
        self.assertEqual(self.status_of(self.store), AuthStatus.NOT_AUTHORIZED)
        # The attacker cannot collect the grant held in the victim's browser.
        r = self.client.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(self.status_of(charlie_store), AuthStatus.PENDING)

    def test_a_viewer_browser_does_not_attach_a_consent(self) -> None:
        attempt = self.begin()
        viewer = Client()
        viewer.force_login(self.vera)
        self.callback(self.amazon_answer(attempt), client=viewer)
        viewer.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(self.status_of(self.store), AuthStatus.PENDING)

    def test_the_store_capability_and_next_page_come_from_the_attempt_not_the_query(self) -> None:
        charlie_store = make_store(self.other_tenant, nickname="Charlie US")
        attempt = self.begin("orders")
        extra = urlencode(
            {
                "store": str(charlie_store.code),
                "code": str(charlie_store.code),
                "capability": "listings",
                "next": EVIL,
            }
        )
        r = self.callback(self.amazon_answer(attempt) + "&" + extra)
        self.assertEqual(r["Location"], reverse("stores:detail", args=[self.store.code]))
        self.assertEqual(self.status_of(self.store, "orders"), AuthStatus.AUTHORIZED)
        self.assertEqual(self.status_of(self.store, "listings"), AuthStatus.NOT_AUTHORIZED)
        self.assertEqual(self.status_of(charlie_store, "orders"), AuthStatus.NOT_AUTHORIZED)
        self.assertEqual(self.status_of(charlie_store, "listings"), AuthStatus.NOT_AUTHORIZED)


class StateSecrecyTests(OAuthTestCase):
    def test_the_state_has_at_least_128_random_bits_and_differs_every_time(self) -> None:
        states = {state_of(self.begin()) for _ in range(5)}
        self.assertEqual(len(states), 5)
        for state in states:
            raw = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
            self.assertGreaterEqual(len(raw) * 8, 128)

    def test_no_usable_state_is_stored_at_rest(self) -> None:
        attempt = self.begin()
        state = state_of(attempt)
        for model, row in portal_rows():
            for field, value in row.items():
                self.assertNotIn(state, str(value), f"{model.__name__}.{field}")
        self.callback(self.amazon_answer(attempt))
        for model, row in portal_rows():
            for field, value in row.items():
                self.assertNotIn(state, str(value), f"{model.__name__}.{field}")

    def test_neither_the_state_nor_the_code_appears_in_logs_or_audit_events(self) -> None:
        with captured_logs() as lines:
            attempt = self.begin()
            url = self.amazon_answer(attempt)
            self.callback(url)
            self.callback(url)  # the refused replay logs too
            self.callback(url.replace(state_of(attempt), secrets.token_urlsafe(32)))
        self.assertTrue(lines)
        state, code = state_of(attempt), query(url)["spapi_oauth_code"]
        for line in lines:
            self.assertNotIn(state, line)
            self.assertNotIn(code, line)
        for event in AuditEvent.objects.all():
            for value in (event.detail, event.outcome, event.user_agent, event.action):
                self.assertNotIn(state, value)
                self.assertNotIn(code, value)


class ViewerStateTests(OAuthTestCase):
    """The state is a bearer secret for the attempt: whoever holds it can end the attempt at the callback."""

    def test_a_viewer_never_sees_the_state_of_a_pending_attempt(self) -> None:
        attempt = self.begin()  # Alice starts; the attempt waits for Amazon
        state = state_of(attempt)
        viewer = Client()
        viewer.force_login(self.vera)
        pages = [
            reverse("stores:detail", args=[self.store.code]),
            reverse("stores:list"),
            reverse("authorizations:latest", args=[self.store.code, "orders"]),
            reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code]),
            reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code])
            + "?format=json",
        ]
        for url in pages:
            with self.subTest(url=url):
                r = viewer.get(url, follow=True)
                self.assertEqual(r.status_code, 200)
                text = r.content.decode()
                self.assertFalse(
                    state in text or quote(state) in text, f"the OAuth state is shown to a viewer at {url}"
                )

    def test_the_starter_sees_the_amazon_link_to_open_it_on_another_device(self) -> None:
        # The control for the test above: the consent link is shown to the member who may finish it.
        attempt = self.begin()
        r = self.client.get(reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code]))
        self.assertContains(r, state_of(attempt))


class OpenRedirectTests(BaseTestCase):
    def test_login_never_redirects_off_site_through_next(self) -> None:
        for target in EVIL_NEXTS:
            with self.subTest(next=target):
                client = Client()
                r = client.post(
                    reverse("account_login") + "?" + urlencode({"next": target}),
                    {"login": "alice@example.org", "password": PASSWORD},
                )
                self.assertEqual(r.status_code, 302)
                self.assertTrue(is_on_site(r["Location"]), r["Location"])
                r = Client().post(
                    reverse("account_login"),
                    {"login": "alice@example.org", "password": PASSWORD, "next": target},
                )
                self.assertTrue(is_on_site(r["Location"]), r["Location"])

    def test_the_login_page_of_a_logged_in_user_never_redirects_off_site(self) -> None:
        self.login(self.alice)
        for target in EVIL_NEXTS:
            with self.subTest(next=target):
                r = self.client.get(reverse("account_login"), {"next": target})
                if r.status_code in (301, 302, 303, 307, 308):
                    self.assertTrue(is_on_site(r["Location"]), r["Location"])
                else:
                    self.assertEqual(r.status_code, 200)

    def test_logout_never_redirects_off_site_through_next(self) -> None:
        for target in EVIL_NEXTS:
            with self.subTest(next=target):
                self.login(self.alice)
                r = self.client.post(reverse("account_logout"), {"next": target})
                self.assertEqual(r.status_code, 302)
                self.assertTrue(is_on_site(r["Location"]), r["Location"])
                self.login(self.alice)
                r = self.client.post(reverse("account_logout") + "?" + urlencode({"next": target}))
                self.assertTrue(is_on_site(r["Location"]), r["Location"])

    def test_signup_never_redirects_off_site_through_next(self) -> None:
        for i, target in enumerate(EVIL_NEXTS):
            with self.subTest(next=target):
                r = Client().post(
                    reverse("account_signup") + "?" + urlencode({"next": target}),
                    {
                        "email": f"new{i}@example.org",
                        "password1": PASSWORD,
                        "password2": PASSWORD,
                        "company": f"New {i}",
                    },
                )
                self.assertEqual(r.status_code, 302)
                self.assertTrue(is_on_site(r["Location"]), r["Location"])

    def test_set_language_never_redirects_off_site_through_next_or_referer(self) -> None:
        for target in EVIL_NEXTS:
            with self.subTest(next=target):
                r = self.client.post(reverse("set_language"), {"language": "en", "next": target})
                self.assertEqual(r.status_code, 302)
                self.assertTrue(is_on_site(r["Location"]), r["Location"])
                r = self.client.post(reverse("set_language"), {"language": "en"}, HTTP_REFERER=target)
                self.assertTrue(is_on_site(r["Location"]), r["Location"])
                r = self.client.get(reverse("set_language"), {"language": "en", "next": target})
                self.assertTrue(r.status_code == 405 or is_on_site(r["Location"]))


class AppstoreRedirectTests(OAuthTestCase):
    def login_uri(self, capability: str = "orders", **params: str) -> str:
        return reverse("amazon:appstore_login", args=[capability]) + "?" + urlencode(params)

    def amazon_starts(self) -> str:
        """The seller presses "Authorize" in the sandbox's Appstore: our login URI with Amazon's parameters."""
        amazon = Client(HTTP_HOST="sandbox.test")
        amazon.get("/sandbox/")  # syncs the sandbox's applications from settings
        app = SandboxApplication.objects.get(application_id__contains="sandbox-orders")
        r = amazon.post(reverse("sandbox:control_appstore", args=[self.seller.pk, app.pk]))
        self.assertEqual(r.status_code, 302)
        return str(r["Location"])

    def evil_callbacks(self) -> list[str]:
        sandbox = f"{SANDBOX_BASE}/sellercentral"
        return [
            EVIL + "apps/authorize/confirm/x",
            "//evil.example/",
            "javascript:alert(1)",
            "https://sellercentral.amazon.com.evil.example/apps/authorize/confirm/x",
            "https://sellercentral.amazon.com@evil.example/apps/authorize/confirm/x",
            "https://evil.example\\@sellercentral.amazon.com/apps/authorize/confirm/x",
            "http://sellercentral.amazon.com/apps/authorize/confirm/x",
            "https://sellercentral.amazon.com:8443/apps/authorize/confirm/x",
            f"{sandbox}/evil.example/apps/authorize/confirm/x",
            "http://sandbox.test.evil.example/sandbox/sellercentral/sellercentral.amazon.com/x",
            # Same origin, but dot segments walk out of Seller Central to a page of the portal.
            f"{sandbox}/sellercentral.amazon.com/../../../../team/members/",
            f"{sandbox}/sellercentral.amazon.com/apps/authorize/confirm/{ORDERS_APP}/../../../../../team/",
            f"{sandbox}/sellercentral.amazon.com/%2e%2e/%2e%2e/team/members/",
            f"{sandbox}/sellercentral.amazon.com/apps/authorize/confirm/another-app",
            f"https://sellercentral.amazon.com/apps/authorize/confirm/{ORDERS_APP}/../../x",
            f"https://sellercentral.amazon.com:abc/apps/authorize/confirm/{ORDERS_APP}",
            f"https://sellercentral.amazon.com:99999/apps/authorize/confirm/{ORDERS_APP}",
            "https://sellercentral.amazon.com/team/members/",
        ]

    def test_the_appstore_login_uri_refuses_a_non_amazon_callback_with_400(self) -> None:
        for use_sandbox in (True, False):
            with self.settings(AMAZON_USE_SANDBOX=use_sandbox):
                for uri in self.evil_callbacks():
                    with self.subTest(sandbox=use_sandbox, uri=uri):
                        r = Client().get(
                            self.login_uri(
                                amazon_callback_uri=uri, amazon_state="s", selling_partner_id="A1B2C3"
                            )
                        )
                        self.assertEqual(r.status_code, 400)

    def test_the_appstore_login_uri_accepts_amazon_seller_central(self) -> None:
        # The control for the test above: the same request with Amazon's own host goes on to the login page.
        with self.settings(AMAZON_USE_SANDBOX=False):
            r = Client().get(
                self.login_uri(
                    amazon_callback_uri=f"https://sellercentral.amazon.com/apps/authorize/confirm/{ORDERS_APP}",
                    amazon_state="s",
                    selling_partner_id="A1B2C3",
                )
            )
        self.assertEqual(r.status_code, 302)
        self.assertTrue(r["Location"].startswith(reverse("account_login")))

    def test_a_redirect_uri_given_to_the_login_uri_is_ignored(self) -> None:
        browser = Client()
        browser.force_login(self.alice)
        entry = self.amazon_starts() + "&" + urlencode({"redirect_uri": EVIL + "cb", "next": EVIL})
        r = browser.get(entry)
        self.assertEqual(r["Location"], reverse("amazon:appstore_continue"))
        r = browser.post(
            reverse("amazon:appstore_confirm"),
            {"region": "NA", "store": str(self.store.code), "usual_environment": "on"},
        )
        self.assertEqual(r.status_code, 302)
        self.assertTrue(
            r["Location"].startswith(f"{SANDBOX_BASE}/sellercentral/amazon.com/apps/authorize/confirm/")
        )
        self.assertNotIn("evil.example", r["Location"])
        self.assertEqual(query(r["Location"])["redirect_uri"], CALLBACK_URI)
