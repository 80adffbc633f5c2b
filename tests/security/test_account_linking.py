"""Account linking under attack: grants that reach another browser, rewritten seller ids, one account per tenant.

Every attack goes through HTTP (the test client playing the browsers, the sandbox playing Amazon).
"""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from authorizations import holding, install
from authorizations.models import AuditEvent, Authorization, AuthorizationAttempt, AuthStatus
from sandbox import api as sandbox_api
from stores.models import Store
from tests.authorizations.helpers import US, FlowTestCase
from tests.base import PASSWORD, make_store
from tests.sandbox_http import sandbox_path

Outcome = AuthorizationAttempt.Outcome


def rewrite(url: str, **params: str) -> str:
    """The callback URL with some query parameters replaced, as a hostile browser would."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


class LinkingTestCase(FlowTestCase):
    def status(self, store: Store | None = None, capability: str = "orders") -> str:
        return Authorization.objects.get(store=store or self.store, capability=capability).status

    def browser(self, user: User | None = None) -> Client:
        c = Client()
        if user is not None:
            c.force_login(user)
        return c


class ForcedMembershipTests(LinkingTestCase):
    """The attack of the report: the victim is a member of the attacker's tenant and consents in their browser."""

    def setUp(self) -> None:
        super().setUp()
        # Charlie (attacker) owns "Charlie Imports"; Alice (victim) became a member of it somehow (an invitation
        # she accepted long ago). Her own browser is logged in to the portal.
        Membership.objects.create(tenant=self.other_tenant, user=self.alice, role=Membership.Role.MEMBER)
        self.trap = make_store(self.other_tenant, nickname="Trap store")
        self.victim = self.browser(self.alice)

    def test_a_grant_started_by_the_attacker_does_not_attach_in_the_victim_browser(self) -> None:
        attempt = self.begin(user=self.charlie, store=self.trap)
        r = self.callback(self.amazon_answer(attempt), client=self.victim)
        finish = reverse("amazon:finish", args=[attempt.code])
        self.assertRedirects(r, finish, fetch_redirect_response=False)
        self.assertEqual(self.status(self.trap), AuthStatus.PENDING)
        self.trap.refresh_from_db()
        self.assertEqual(self.trap.selling_partner_id, "")
        page = self.victim.get(finish)
        # The page names who would get the seller: the distributor account, the store and the seller.
        self.assertContains(page, "Charlie Imports")
        self.assertContains(page, "Trap store")
        self.assertContains(page, self.seller.selling_partner_id)
        self.assertContains(page, "charlie@example.org")

    def test_declining_discards_the_grant_and_tells_the_starter(self) -> None:
        attempt = self.begin(user=self.charlie, store=self.trap)
        self.callback(self.amazon_answer(attempt), client=self.victim)
        mail.outbox.clear()
        r = self.victim.post(reverse("amazon:finish_decline", args=[attempt.code]))
        self.assertEqual(r.status_code, 302)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "declined"))
        self.assertEqual((attempt.quarantined_token_encrypted, attempt.holder_hash), ("", ""))
        self.assertEqual(self.status(self.trap), AuthStatus.NOT_AUTHORIZED)
        self.assertEqual([m.to for m in mail.outbox], [["charlie@example.org"]])
        self.assertIn("declined", mail.outbox[0].body)
        # The starter's waiting page says so, and a later confirm is refused.
        page = self.client.get(
            reverse("authorizations:attempt", args=[self.trap.code, "orders", attempt.code])
        )
        self.assertContains(page, "declined to connect")
        # Nothing about the seller who said no reaches the starter.
        self.assertNotContains(page, self.seller.selling_partner_id)
        self.assertNotIn(self.seller.selling_partner_id, mail.outbox[0].body)
        again = self.victim.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(again.status_code, 400)
        self.assertEqual(self.status(self.trap), AuthStatus.NOT_AUTHORIZED)

    def test_the_finish_page_is_a_get_that_changes_nothing(self) -> None:
        attempt = self.begin(user=self.charlie, store=self.trap)
        self.callback(self.amazon_answer(attempt), client=self.victim)
        for _ in range(2):
            self.victim.get(reverse("amazon:finish", args=[attempt.code]))
        self.assertEqual(self.status(self.trap), AuthStatus.PENDING)
        attempt.refresh_from_db()
        self.assertEqual(attempt.outcome, Outcome.QUARANTINED)

    def test_confirming_needs_the_csrf_token(self) -> None:
        attempt = self.begin(user=self.charlie, store=self.trap)
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(self.alice)
        self.callback(self.amazon_answer(attempt), client=strict)
        r = strict.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self.status(self.trap), AuthStatus.PENDING)

    def test_the_grant_is_attached_only_once_a_member_confirms(self) -> None:
        attempt = self.begin(user=self.charlie, store=self.trap)
        self.callback(self.amazon_answer(attempt), client=self.victim)
        r = self.victim.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(r.status_code, 302)
        self.assertEqual(self.status(self.trap), AuthStatus.AUTHORIZED)


class StarterSessionTests(LinkingTestCase):
    def test_the_session_that_started_the_attempt_attaches_at_once(self) -> None:
        attempt = self.begin()
        r = self.callback(self.amazon_answer(attempt))
        self.assertRedirects(
            r, reverse("stores:detail", args=[self.store.code]), fetch_redirect_response=False
        )
        self.assertEqual(self.status(), AuthStatus.AUTHORIZED)

    def test_a_held_grant_cannot_be_confirmed_from_a_browser_without_its_holder_cookie(self) -> None:
        attempt = self.begin()
        holder_browser = self.browser()
        self.callback(self.amazon_answer(attempt), client=holder_browser)
        for other in (self.browser(self.bob), self.client):
            with self.subTest(browser=other):
                r = other.post(reverse("amazon:finish_confirm", args=[attempt.code]))
                self.assertEqual(r.status_code, 400)
                self.assertEqual(other.get(reverse("amazon:finish", args=[attempt.code])).status_code, 400)
        self.assertEqual(self.status(), AuthStatus.PENDING)

    def test_a_forged_or_borrowed_holder_cookie_is_refused(self) -> None:
        first = self.begin()
        self.callback(self.amazon_answer(first), client=self.browser())
        second = self.begin("listings")
        holder_browser = self.browser()
        self.callback(self.amazon_answer(second), client=holder_browser)
        cookie = holder_browser.cookies[holding.COOKIE].value
        # Unsigned JSON naming the first attempt, and the second attempt's signed cookie replayed for the first.
        for value in (json.dumps({str(first.code): "guess"}), cookie):
            mallory = self.browser(self.bob)
            mallory.cookies[holding.COOKIE] = value
            r = mallory.post(reverse("amazon:finish_confirm", args=[first.code]))
            self.assertEqual(r.status_code, 400)
        self.assertEqual(self.status(), AuthStatus.PENDING)


class HeldAcrossLoginTests(LinkingTestCase):
    def test_a_held_grant_survives_logout_and_finishes_after_a_login_through_the_header(self) -> None:
        attempt = self.begin()
        phone = self.browser(self.charlie)  # logged in as someone who may not connect this store
        r = self.callback(self.amazon_answer(attempt), client=phone)
        self.assertContains(r, "may not connect this store")
        self.assertNotContains(r, "Main US store")
        phone.post(reverse("account_logout"))
        # The header's plain "Log in" link: no `next`.
        login = phone.post(reverse("account_login"), {"login": "bob@example.org", "password": PASSWORD})
        finish = reverse("amazon:finish", args=[attempt.code])
        self.assertEqual(login["Location"], finish)
        self.assertContains(phone.get(finish), "Main US store")
        phone.post(reverse("amazon:finish_confirm", args=[attempt.code]))
        self.assertEqual(self.status(), AuthStatus.AUTHORIZED)

    def test_pages_show_a_banner_while_a_grant_waits_in_this_browser(self) -> None:
        attempt = self.begin()
        phone = self.browser()
        self.callback(self.amazon_answer(attempt), client=phone)
        phone.force_login(self.bob)
        page = phone.get(reverse("accounts:members"))
        self.assertContains(page, 'data-testid="held-grant-banner"')
        self.assertContains(page, reverse("amazon:finish", args=[attempt.code]))

    def test_the_finish_page_offers_nothing_after_expiry(self) -> None:
        attempt = self.begin()
        phone = self.browser()
        self.callback(self.amazon_answer(attempt), client=phone)
        phone.force_login(self.bob)
        AuthorizationAttempt.objects.filter(pk=attempt.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        page = phone.get(reverse("amazon:finish", args=[attempt.code]))
        self.assertContains(page, "expired", status_code=400)
        self.assertNotContains(page, "finish-connect", status_code=400)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.quarantined_token_encrypted), (Outcome.EXPIRED, ""))
        self.assertEqual(phone.post(reverse("amazon:finish_confirm", args=[attempt.code])).status_code, 400)
        self.assertEqual(self.status(), AuthStatus.NOT_AUTHORIZED)


class TamperedSellerIdTests(LinkingTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.mallory_seller = sandbox_api.create_seller("Mallory's Amazon", "NA", [US])
        self.trap = make_store(self.other_tenant, nickname="Trap store", sites=["US"])

    def charlie_consents_claiming_alice(self, capability: str) -> AuthorizationAttempt:
        attempt = self.begin(capability, user=self.charlie, store=self.trap)
        url = self.amazon_answer(attempt, self.mallory_seller.selling_partner_id)
        self.callback(rewrite(url, selling_partner_id=self.seller.selling_partner_id))
        attempt.refresh_from_db()
        return attempt

    def test_a_rewritten_seller_id_fails_where_amazon_can_check_it(self) -> None:
        attempt = self.charlie_consents_claiming_alice("listings")
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "seller_mismatch"))
        self.trap.refresh_from_db()
        self.assertEqual(self.trap.selling_partner_id, "")
        # The real seller connects without hindrance.
        self.authorize("listings")
        self.assertEqual(self.status(capability="listings"), AuthStatus.AUTHORIZED)

    def test_an_unverified_claim_never_locks_the_real_seller_out(self) -> None:
        # Order loading: the claim cannot be verified (a 403 from the seller check cannot tell), so it is kept
        # unverified; it blocks nobody.
        attempt = self.charlie_consents_claiming_alice("orders")
        self.assertEqual(attempt.outcome, Outcome.SUCCEEDED)
        self.trap.refresh_from_db()
        self.assertEqual(
            (self.trap.selling_partner_id, self.trap.selling_partner_verified),
            (self.seller.selling_partner_id, False),
        )
        self.authorize("orders")
        self.assertEqual(self.status(), AuthStatus.AUTHORIZED)
        self.authorize("listings")
        self.assertEqual(self.status(capability="listings"), AuthStatus.AUTHORIZED)
        self.store.refresh_from_db()
        self.assertTrue(self.store.selling_partner_verified)
        # The verified claim withdrew the forged one.
        self.trap.refresh_from_db()
        self.assertEqual(self.trap.selling_partner_id, "")
        self.assertTrue(
            AuditEvent.objects.filter(store=self.trap, action="store.seller_claim_withdrawn").exists()
        )

    def test_a_verified_account_stays_one_tenant_only(self) -> None:
        self.authorize("listings")
        attempt = self.begin("listings", user=self.charlie, store=self.trap)
        self.callback(self.amazon_answer(attempt))
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "account_taken"))


class AdsOneTenantTests(LinkingTestCase):
    def allow_ads(self, attempt: AuthorizationAttempt) -> str:
        url = sandbox_path(attempt.consent_url)
        self.amazon.get(url)
        r = self.amazon.post(url, {"seller": self.seller.selling_partner_id, "action": "allow"})
        return str(r["Location"])

    def test_the_same_advertising_account_cannot_serve_two_tenants(self) -> None:
        self.callback(self.allow_ads(self.begin("ads")))
        self.assertEqual(self.status(capability="ads"), AuthStatus.AUTHORIZED)
        theirs = make_store(self.other_tenant, nickname="Charlie US")
        attempt = self.begin("ads", user=self.charlie, store=theirs)
        r = self.callback(self.allow_ads(attempt))
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "account_taken"))
        self.assertEqual(self.status(theirs, "ads"), AuthStatus.NOT_AUTHORIZED)
        page = self.client.get(r["Location"])
        self.assertContains(page, "already connected to another distributor account")


class RaceTests(LinkingTestCase):
    def test_the_loser_of_a_same_tenant_race_is_told_it_is_another_of_its_stores(self) -> None:
        second = make_store(self.tenant, nickname="Second US store")
        self.authorize("listings")
        attempt = self.begin("listings", store=second)
        url = self.amazon_answer(attempt)
        # Both callbacks passed the rule checks before either committed: only the database constraint is left.
        real = install._conflict
        calls: list[int] = []

        def raced(store: Store, sp_id: str) -> str | None:
            calls.append(1)
            return None if len(calls) <= 2 else real(store, sp_id)

        with mock.patch("authorizations.install._conflict", side_effect=raced):
            self.callback(url)
        self.assertEqual(len(calls), 3)
        attempt.refresh_from_db()
        self.assertEqual((attempt.outcome, attempt.reason), (Outcome.FAILED, "account_in_other_store"))
