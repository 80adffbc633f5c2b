from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from authorizations.attempts import expire_stale
from authorizations.models import AuditEvent, Authorization, AuthorizationAttempt, AuthStatus
from authorizations.status import label as status_label
from sandbox import api as sandbox_api
from stores.models import CombinedStatus
from tests.authorizations.helpers import CA, US, FlowTestCase
from tests.base import PASSWORD, make_store

Outcome = AuthorizationAttempt.Outcome


class StartTests(FlowTestCase):
    def test_the_start_page_asks_for_the_usual_environment(self) -> None:
        self.login(self.bob)
        r = self.client.get(reverse("authorizations:start", args=[self.store.code, "orders"]))
        self.assertContains(r, "my usual environment for this Amazon account")
        self.assertContains(r, "Go to Amazon Seller Central")

    def test_starting_without_the_checkbox_is_a_field_error(self) -> None:
        self.login(self.bob)
        r = self.client.post(reverse("authorizations:begin", args=[self.store.code, "orders"]), {})
        self.assertContains(r, "Confirm that you are in your usual environment", status_code=400)
        self.assertFalse(AuthorizationAttempt.objects.exists())

    def test_starting_creates_an_attempt_and_marks_the_capability_authorizing(self) -> None:
        attempt = self.begin()
        self.assertEqual(attempt.outcome, Outcome.PENDING)
        self.assertEqual(attempt.user, self.alice)
        self.assertIn("/sellercentral/sellercentral.amazon.com/apps/authorize/consent?", attempt.consent_url)
        self.assertIn("application_id=amzn1.sp.solution.sandbox-orders", attempt.consent_url)
        self.assertIn("redirect_uri=http%3A%2F%2Ftestserver%2Famazon%2Fcallback%2F", attempt.consent_url)
        self.assertAlmostEqual((attempt.expires_at - attempt.started_at).total_seconds(), 900, delta=1)
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.PENDING)
        r = self.client.get(reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code]))
        self.assertContains(r, "Waiting for Amazon")
        self.assertContains(r, "Copy the Amazon link")
        self.assertContains(r, "Query authorization result")

    def test_the_state_has_at_least_128_bits_and_only_its_hash_is_stored(self) -> None:
        attempt = self.begin()
        state = attempt.consent_url.split("state=")[1].split("&")[0]
        self.assertGreaterEqual(len(state), 22)  # 22 URL-safe base64 characters = 132 bits
        self.assertNotIn(state, attempt.state_hash)
        self.assertTrue(attempt.state_matches(state))
        self.assertFalse(attempt.state_matches(state[:-1] + ("A" if state[-1] != "A" else "B")))

    def test_the_json_start_returns_the_consent_and_waiting_urls(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            reverse("authorizations:begin", args=[self.store.code, "listings"]),
            {"usual_environment": "on"},
            HTTP_ACCEPT="application/json",
        )
        doc = r.json()
        self.assertIn("application_id=amzn1.sp.solution.sandbox-listings", doc["consent_url"])
        self.assertIn("/authorize/listings/attempts/", doc["waiting_url"])

    def test_a_draft_app_adds_version_beta(self) -> None:
        from django.conf import settings

        apps = {k: dict(v) for k, v in settings.AMAZON_SPAPI_APPS.items()}
        apps["orders"]["beta"] = True
        with self.settings(AMAZON_SPAPI_APPS=apps):
            attempt = self.begin()
        self.assertIn("version=beta", attempt.consent_url)

    def test_a_europe_store_goes_to_the_european_seller_central(self) -> None:
        eu = make_store(self.tenant, nickname="EU", region="EU", sites=["DE", "FR"])
        attempt = self.begin(store=eu)
        self.assertIn("/sellercentral/sellercentral-europe.amazon.com/apps/", attempt.consent_url)

    def test_a_viewer_cannot_start_and_an_outsider_gets_404(self) -> None:
        for user, code in ((self.vera, 403), (self.charlie, 404)):
            self.login(user)
            url = reverse("authorizations:begin", args=[self.store.code, "orders"])
            self.assertEqual(self.client.post(url, {"usual_environment": "on"}).status_code, code)
            self.assertEqual(
                self.client.get(
                    reverse("authorizations:start", args=[self.store.code, "orders"])
                ).status_code,
                code,
            )
        self.assertFalse(AuthorizationAttempt.objects.exists())

    def test_an_unknown_capability_is_404(self) -> None:
        self.login(self.alice)
        self.assertEqual(
            self.client.get(reverse("authorizations:start", args=[self.store.code, "payments"])).status_code,
            404,
        )


class HappyPathTests(FlowTestCase):
    def test_order_loading_is_authorized_through_the_sandbox(self) -> None:
        r = self.authorize("orders")
        self.assertRedirects(
            r, reverse("stores:detail", args=[self.store.code]), fetch_redirect_response=False
        )
        self.assertEqual(r["Referrer-Policy"], "no-referrer")
        self.store.refresh_from_db()
        self.assertEqual(self.store.selling_partner_id, self.seller.selling_partner_id)
        self.assertEqual(self.store.authorization_status, CombinedStatus.PARTIAL)
        with override("en"):
            self.assertEqual(
                status_label(self.store), "Order loading authorized, listing/inventory not authorized"
            )
        auth = Authorization.objects.get(store=self.store, capability="orders")
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assertTrue(auth.refresh_token_encrypted)
        self.assertTrue(auth.get_refresh_token().startswith("Atzr|"))
        self.assertNotIn("Atzr|", auth.refresh_token_encrypted)
        self.assertEqual(auth.expires_at - auth.authorized_at, timedelta(days=365))
        self.assertEqual({m["id"] for m in auth.granted_marketplaces}, {US, CA})
        attempt = AuthorizationAttempt.objects.get()
        self.assertEqual(attempt.outcome, Outcome.SUCCEEDED)
        self.assertIsNotNone(attempt.callback_ip)
        actions = list(AuditEvent.objects.filter(store=self.store).values_list("action", flat=True))
        self.assertIn("authorization.started", actions)
        self.assertIn("authorization.succeeded", actions)
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Order loading is authorized for")
        self.assertContains(page, "Order loading authorized, listing/inventory not authorized")

    def test_both_capabilities_in_any_order_make_the_store_authorized(self) -> None:
        self.authorize("listings")
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.PARTIAL)
        self.authorize("orders")
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.AUTHORIZED)
        with override("zh-hans"):
            self.assertEqual(status_label(self.store), "已授权")

    def test_a_chosen_site_the_seller_does_not_sell_on_is_warned_about(self) -> None:
        self.store.sites = ["US", "MX"]
        self.store.save()
        self.authorize("orders")
        page = self.client.get(reverse("stores:detail", args=[self.store.code]))
        self.assertContains(page, "Amazon does not list these chosen sites")
        self.assertContains(page, "Mexico (MX)")

    def test_tokens_never_appear_in_pages_admin_or_audit(self) -> None:
        self.authorize("orders")
        token = Authorization.objects.get(store=self.store, capability="orders").get_refresh_token()
        pages = [
            self.client.get(reverse("stores:detail", args=[self.store.code])),
            self.client.get(reverse("stores:list")),
        ]
        from accounts.models import User

        admin = User.objects.create_superuser("root@example.org", PASSWORD)
        self.client.force_login(admin)
        auth = Authorization.objects.get(store=self.store, capability="orders")
        attempt = AuthorizationAttempt.objects.get()
        pages += [
            self.client.get(reverse("admin:stores_store_change", args=[self.store.pk])),
            self.client.get(reverse("admin:authorizations_authorization_change", args=[auth.pk])),
            self.client.get(reverse("admin:authorizations_authorizationattempt_change", args=[attempt.pk])),
            self.client.get(reverse("admin:authorizations_auditevent_changelist")),
        ]
        for page in pages:
            self.assertEqual(page.status_code, 200)
            self.assertNotIn(token, page.content.decode())
            self.assertNotIn(auth.refresh_token_encrypted, page.content.decode())
        self.assertNotIn(token, str(auth))
        for e in AuditEvent.objects.all():
            self.assertNotIn("Atzr|", e.detail)


class CallbackFailureTests(FlowTestCase):
    def test_cancel_at_amazon_is_shown_as_cancelled(self) -> None:
        attempt = self.begin()
        r = self.callback(self.amazon_answer(attempt, action="cancel"))
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.CANCELLED, "cancelled"))
        self.assertRedirects(
            r,
            reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code]),
            fetch_redirect_response=False,
        )
        page = self.client.get(r["Location"])
        self.assertContains(page, "Cancelled at Amazon")
        self.assertContains(page, "Try again")
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.NOT_AUTHORIZED)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.NOT_AUTHORIZED
        )

    def test_an_unknown_state_is_a_clear_400_page(self) -> None:
        r = self.client.get(
            reverse("amazon:callback"),
            {"state": "forged", "spapi_oauth_code": "x", "selling_partner_id": "A1"},
        )
        self.assertContains(r, "This authorization link is not valid", status_code=400)
        r = self.client.get(reverse("amazon:callback"))
        self.assertEqual(r.status_code, 400)

    def test_a_reused_state_is_refused(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        self.callback(url)
        r = self.callback(url)
        self.assertContains(r, "already used", status_code=400)
        self.assertEqual(AuditEvent.objects.filter(action="authorization.succeeded").count(), 1)

    def test_an_expired_state_is_refused_and_the_attempt_ends_expired(self) -> None:
        attempt = self.begin()
        url = self.amazon_answer(attempt)
        AuthorizationAttempt.objects.filter(pk=attempt.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        r = self.callback(url)
        self.assertContains(r, "expired", status_code=400)
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.EXPIRED)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.NOT_AUTHORIZED
        )

    def test_the_store_and_capability_come_from_the_attempt_not_the_query(self) -> None:
        other = make_store(self.tenant, nickname="Other")
        attempt = self.begin("orders")
        url = self.amazon_answer(attempt) + f"&store={other.code}&capability=listings"
        self.callback(url)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )
        self.assertEqual(
            Authorization.objects.get(store=other, capability="orders").status, AuthStatus.NOT_AUTHORIZED
        )
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="listings").status,
            AuthStatus.NOT_AUTHORIZED,
        )

    def test_a_different_seller_for_the_second_capability_is_refused(self) -> None:
        self.authorize("orders")
        stranger = sandbox_api.create_seller("Someone else", "NA", [US])
        attempt = self.begin("listings")
        self.callback(self.amazon_answer(attempt, stranger.selling_partner_id))
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "sp_mismatch"))
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="listings").status,
            AuthStatus.NOT_AUTHORIZED,
        )
        page = self.client.get(
            reverse("authorizations:attempt", args=[self.store.code, "listings", attempt.code])
        )
        self.assertContains(page, "different Amazon seller account")

    def test_an_account_connected_to_another_tenant_is_refused_and_theirs_is_untouched(self) -> None:
        theirs = make_store(self.other_tenant, nickname="Charlie US")
        charlie = Client()
        charlie.force_login(self.charlie)
        charlie.post(
            reverse("authorizations:begin", args=[theirs.code, "orders"]), {"usual_environment": "on"}
        )
        first = AuthorizationAttempt.objects.get(store=theirs)
        self.callback(self.amazon_answer(first), client=charlie)
        theirs.refresh_from_db()
        self.assertEqual(theirs.selling_partner_id, self.seller.selling_partner_id)

        attempt = self.begin("orders")  # Alice, same Amazon account
        self.callback(self.amazon_answer(attempt))
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "account_taken"))
        self.store.refresh_from_db()
        self.assertEqual(self.store.selling_partner_id, "")
        theirs.refresh_from_db()
        self.assertEqual(theirs.authorization_status, CombinedStatus.PARTIAL)
        page = self.client.get(
            reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code])
        )
        self.assertContains(page, "already connected to another distributor account")
        self.assertNotContains(page, "Charlie")


class OtherBrowserTests(FlowTestCase):
    def test_a_callback_in_a_fresh_browser_waits_for_a_member_login_then_attaches(self) -> None:
        attempt = self.begin()
        fresh = Client()
        r = self.callback(self.amazon_answer(attempt), client=fresh)
        self.assertContains(r, "Log in to finish connecting your Amazon account")
        self.assertNotContains(r, "Main US store")
        self.assertNotContains(r, "Alice Trading")
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.QUARANTINED)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.PENDING
        )
        finish = reverse("amazon:finish", args=[attempt.code])
        login = fresh.post(
            reverse("account_login") + f"?next={finish}", {"login": "bob@example.org", "password": PASSWORD}
        )
        self.assertEqual(login["Location"], finish)
        page = fresh.get(finish)
        self.assertContains(page, "Connect")
        r = fresh.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertRedirects(
            r, reverse("stores:detail", args=[self.store.code]), fetch_redirect_response=False
        )
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.SUCCEEDED)
        self.assertEqual(attempt.quarantined_token_encrypted, "")

    def test_a_consent_link_completed_in_another_tenant_browser_does_not_attach(self) -> None:
        attempt = self.begin()
        mallory = Client()
        mallory.force_login(self.charlie)
        r = self.callback(self.amazon_answer(attempt), client=mallory)
        self.assertContains(r, "Log in to finish connecting")
        self.assertNotContains(r, "Main US store")
        finish = reverse("amazon:finish", args=[attempt.code])
        self.assertContains(mallory.get(finish), "may not connect this store")
        mallory.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.PENDING
        )
        self.store.refresh_from_db()
        self.assertEqual(self.store.selling_partner_id, "")

    def test_the_starter_tenant_cannot_claim_a_grant_held_in_someone_else_browser(self) -> None:
        # Account-linking CSRF: the attacker started the link; the victim's browser received the callback.
        attempt = self.begin()
        victim = Client()
        self.callback(self.amazon_answer(attempt), client=victim)
        r = self.client.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(r.status_code, 400)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.PENDING
        )

    def test_a_viewer_login_does_not_attach(self) -> None:
        attempt = self.begin()
        fresh = Client()
        self.callback(self.amazon_answer(attempt), client=fresh)
        fresh.post(reverse("account_login"), {"login": "vera@example.org", "password": PASSWORD})
        fresh.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.PENDING
        )

    def test_a_quarantined_grant_is_discarded_after_15_minutes(self) -> None:
        attempt = self.begin()
        fresh = Client()
        self.callback(self.amazon_answer(attempt), client=fresh)
        AuthorizationAttempt.objects.filter(pk=attempt.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        self.assertEqual(expire_stale(), 1)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.quarantined_token_encrypted), (Outcome.EXPIRED, ""))
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.NOT_AUTHORIZED
        )
        fresh.force_login(self.alice)
        r = fresh.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(r.status_code, 400)

    def test_another_member_logged_in_elsewhere_must_confirm_what_is_connected(self) -> None:
        attempt = self.begin()
        phone = Client()
        phone.force_login(self.bob)
        r = self.callback(self.amazon_answer(attempt), client=phone)
        finish = reverse("amazon:finish", args=[attempt.code])
        self.assertRedirects(r, finish, fetch_redirect_response=False)
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.PENDING
        )
        page = phone.get(finish)
        self.assertContains(page, self.seller.selling_partner_id)
        self.assertContains(page, "Main US store")
        self.assertContains(page, "Alice Trading")
        phone.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )

    def test_the_starter_logged_in_on_a_second_device_attaches_at_once(self) -> None:
        attempt = self.begin()
        phone = Client()
        phone.force_login(self.alice)
        r = self.callback(self.amazon_answer(attempt), client=phone)
        self.assertRedirects(
            r, reverse("stores:detail", args=[self.store.code]), fetch_redirect_response=False
        )
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status, AuthStatus.AUTHORIZED
        )


class RecheckAndQueryTests(FlowTestCase):
    def test_recheck_after_a_revoke_needs_reauthorization_with_reason_and_time(self) -> None:
        self.authorize("orders")
        self.authorize("listings")
        sandbox_api.revoke(self.seller, "amzn1.sp.solution.sandbox-orders-0001")
        self.login(self.bob)
        r = self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"]), follow=True)
        self.assertContains(r, "revoked or has expired")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        self.assertEqual(auth.status, AuthStatus.NEEDS_REAUTHORIZATION)
        self.assertIsNotNone(auth.last_error_at)
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.ATTENTION)
        self.assertContains(r, "Order loading needs re-authorization")
        self.assertContains(r, "Re-authorize")
        # The other capability is another application: still fine.
        r = self.client.post(
            reverse("authorizations:recheck", args=[self.store.code, "listings"]), follow=True
        )
        self.assertContains(r, "Amazon confirms the authorization works")

    def test_reauthorizing_restores_the_capability(self) -> None:
        self.authorize("orders")
        sandbox_api.revoke(self.seller, "amzn1.sp.solution.sandbox-orders-0001")
        self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"]))
        self.authorize("orders")
        auth = Authorization.objects.get(store=self.store, capability="orders")
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assertEqual(auth.last_error, "")
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.PARTIAL)

    def test_an_outage_during_recheck_keeps_the_status_and_shows_an_error(self) -> None:
        self.authorize("orders")
        sandbox_api.set_fault("token", "http500")
        self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"]))
        auth = Authorization.objects.get(store=self.store, capability="orders")
        self.assertEqual(auth.status, AuthStatus.AUTHORIZED)
        self.assertEqual(auth.last_error, "amazon_error")
        self.assertIn("Amazon reported an error", auth.last_error_text)

    def test_query_result_while_waiting_says_what_to_do(self) -> None:
        attempt = self.begin()
        r = self.client.post(reverse("authorizations:query", args=[self.store.code, "orders"]), follow=True)
        self.assertContains(r, "Waiting for Amazon")
        self.assertContains(r, "sign in with this store's seller account")
        self.assertEqual(
            r.redirect_chain[-1][0],
            reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code]),
        )

    def test_query_result_checks_live_when_a_token_is_held(self) -> None:
        self.authorize("orders")
        self.begin("orders")  # a renewal attempt, still pending
        sandbox_api.revoke(self.seller, "amzn1.sp.solution.sandbox-orders-0001")
        r = self.client.post(reverse("authorizations:query", args=[self.store.code, "orders"]), follow=True)
        self.assertContains(r, "revoked or has expired")
        self.assertEqual(
            Authorization.objects.get(store=self.store, capability="orders").status,
            AuthStatus.NEEDS_REAUTHORIZATION,
        )

    def test_query_result_after_success_offers_the_other_capability(self) -> None:
        self.authorize("orders")
        r = self.client.post(reverse("authorizations:query", args=[self.store.code, "orders"]), follow=True)
        self.assertContains(r, "Authorization succeeded")
        self.assertContains(r, "Continue with listing/inventory authorization")

    def test_a_viewer_reads_the_result_but_cannot_query_or_recheck(self) -> None:
        attempt = self.begin()
        self.login(self.vera)
        r = self.client.get(reverse("authorizations:latest", args=[self.store.code, "orders"]))
        self.assertEqual(
            r["Location"], reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code])
        )
        self.assertEqual(self.client.get(r["Location"]).status_code, 200)
        self.assertEqual(
            self.client.post(reverse("authorizations:query", args=[self.store.code, "orders"])).status_code,
            403,
        )
        self.assertEqual(
            self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"])).status_code,
            403,
        )

    def test_an_outsider_gets_404_on_results(self) -> None:
        attempt = self.begin()
        self.login(self.charlie)
        for url in (
            reverse("authorizations:attempt", args=[self.store.code, "orders", attempt.code]),
            reverse("authorizations:latest", args=[self.store.code, "orders"]),
        ):
            self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(
            self.client.post(reverse("authorizations:recheck", args=[self.store.code, "orders"])).status_code,
            404,
        )

    def test_another_store_of_the_same_tenant_cannot_take_the_same_account(self) -> None:
        self.authorize("orders")
        second = make_store(self.tenant, nickname="Second")
        attempt = self.begin("orders", store=second)
        self.callback(self.amazon_answer(attempt))
        attempt.refresh_from_db()
        self.assertEqual(attempt.reason, "account_in_other_store")

    def test_a_far_east_seller_may_have_one_store_per_country(self) -> None:
        # A Far East store has one site; JP and AU are separate accounts of the same seller.
        fe = sandbox_api.create_seller("FE Seller", "FE", ["A1VC38T7YXB528", "A39IBJ37TRP1C6"])
        jp = make_store(self.tenant, nickname="JP store", region="FE", sites=["JP"])
        au = make_store(self.tenant, nickname="AU store", region="FE", sites=["AU"])
        for store in (jp, au):
            for capability in ("orders", "listings"):
                self.authorize(capability, seller_id=fe.selling_partner_id, store=store)
                self.assertEqual(
                    Authorization.objects.get(store=store, capability=capability).status,
                    AuthStatus.AUTHORIZED,
                )
        # A second JP store of the same seller is still refused.
        jp2 = make_store(self.tenant, nickname="JP again", region="FE", sites=["JP"])
        attempt = self.begin("listings", store=jp2)
        self.callback(self.amazon_answer(attempt, fe.selling_partner_id))
        attempt.refresh_from_db()
        self.assertEqual(attempt.reason, "account_in_other_store")

    def test_archiving_frees_the_amazon_account(self) -> None:
        self.authorize("orders")
        self.client.post(reverse("stores:archive", args=[self.store.code]))
        theirs = make_store(self.other_tenant, nickname="Charlie US")
        attempt = self.begin("orders", user=self.charlie, store=theirs)
        self.callback(self.amazon_answer(attempt))
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.SUCCEEDED)
        self.store.refresh_from_db()
        self.assertEqual(self.store.authorization_status, CombinedStatus.NOT_AUTHORIZED)
        self.assertTrue(
            AuditEvent.objects.filter(store=self.store, action="authorization.succeeded").exists()
        )
