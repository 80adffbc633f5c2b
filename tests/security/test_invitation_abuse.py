"""Invitations cannot be used as a mail relay, and a leaked invitation link does not let its holder join."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from tests.accounts.invitation_helpers import accept_url, invite, page, token_of
from tests.base import PASSWORD, BaseTestCase, make_user

INVITE = reverse("accounts:member_invite")


class InvitationFloodTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.login(self.alice)

    def send(self, email: str, client: Client | None = None) -> int:
        r = (client or self.client).post(INVITE, {"email": email, "role": "member"})
        return r.status_code

    def test_sixty_invitations_in_a_row_send_at_most_the_hourly_limit_and_then_say_why_next_to_the_form(
        self,
    ) -> None:
        statuses = [self.send(f"target{i}@example.net") for i in range(60)]
        self.assertEqual(len(mail.outbox), 20)  # INVITATIONS_PER_USER_PER_HOUR's default
        self.assertEqual(statuses[:20], [302] * 20)
        self.assertEqual(set(statuses[20:]), {429})
        r = self.client.post(INVITE, {"email": "one-more@example.net", "role": "member"})
        self.assertContains(r, "the most allowed", status_code=429)
        form = r.context["form"]
        self.assertIn("the most allowed", " ".join(form.errors["email"]))
        self.assertFalse(Invitation.objects.filter(email="one-more@example.net").exists())

    def test_the_same_address_ten_times_gets_one_email_and_the_repeats_are_refused_with_a_message(
        self,
    ) -> None:
        statuses = [self.send("victim@example.net") for _ in range(10)]
        self.assertEqual(statuses, [302] + [429] * 9)
        self.assertEqual(len(mail.outbox), 1)
        r = self.client.post(INVITE, {"email": "victim@example.net", "role": "member"})
        self.assertContains(r, "less than 10 minutes ago", status_code=429)
        invitation = Invitation.objects.get(email="victim@example.net")
        r = self.client.post(reverse("accounts:invitation_resend", args=[invitation.code]), follow=True)
        self.assertContains(r, "less than 10 minutes ago")
        self.assertEqual(len(mail.outbox), 1)
        # The link of the one email still works: the repeats did not replace it.
        self.assertEqual(Client().get(page(token_of(str(mail.outbox[0].body)))).status_code, 200)

    def test_after_the_pause_the_same_address_may_be_invited_again(self) -> None:
        self.send("dana@example.org")
        Invitation.objects.update(sent_at=timezone.now() - timedelta(minutes=11))
        self.assertEqual(self.send("dana@example.org"), 302)
        self.assertEqual(len(mail.outbox), 2)

    @override_settings(INVITATIONS_PER_USER_PER_HOUR=100, INVITATIONS_PER_TENANT_PER_DAY=5)
    def test_the_managers_of_one_distributor_account_share_its_daily_limit(self) -> None:
        Membership.objects.filter(user=self.bob, tenant=self.tenant).update(role=Membership.Role.ADMIN)
        admin = Client()
        admin.force_login(self.bob)
        for i in range(3):
            self.assertEqual(self.send(f"a{i}@example.net"), 302)
            self.assertEqual(self.send(f"b{i}@example.net", admin), 302 if i < 2 else 429)
        self.assertEqual(len(mail.outbox), 5)
        r = admin.post(INVITE, {"email": "late@example.net", "role": "member"})
        self.assertContains(r, "This distributor account has sent 5 invitations", status_code=429)

    def test_one_address_gets_at_most_three_invitation_emails_a_day_from_all_accounts_together(self) -> None:
        charlie = Client()
        charlie.force_login(self.charlie)
        third = make_user("eve@example.org", "Eve Ltd")
        eve = Client()
        eve.force_login(third)
        fourth = make_user("fay@example.org", "Fay Ltd")
        fay = Client()
        fay.force_login(fourth)
        self.assertEqual(
            [self.send("victim@example.net", c) for c in (self.client, charlie, eve, fay)],
            [302, 302, 302, 429],
        )
        self.assertEqual(len(mail.outbox), 3)

    def test_an_existing_member_is_answered_as_anyone_and_costs_no_email(self) -> None:
        for _ in range(3):
            r = self.client.post(INVITE, {"email": "bob@example.org", "role": "member"}, follow=True)
            self.assertContains(r, "An invitation was sent to bob@example.org.")
        self.assertEqual(len(mail.outbox), 0)


class LeakedLinkTests(BaseTestCase):
    """The link is a bearer token: whoever holds it must still prove they read the invited mailbox."""

    def setUp(self) -> None:
        super().setUp()
        self.owner = Client()
        self.owner.force_login(self.alice)
        self.token = invite(self.owner, "newbie@example.org")
        self.outbox_before = len(mail.outbox)

    def sign_up_from_the_link(self, browser: Client) -> object:
        browser.get(page(self.token))
        return browser.post(
            reverse("account_signup"),
            {
                "email": "newbie@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "company": "",
                "next": page(self.token),
            },
        )

    def test_signing_up_with_the_invited_address_from_a_leaked_link_does_not_join(self) -> None:
        thief = Client()
        r = self.sign_up_from_the_link(thief)
        self.assertEqual(r.status_code, 302)  # type: ignore[attr-defined]
        self.assertEqual(r["Location"], reverse("account_email_verification_sent"))  # type: ignore[index]
        # Not logged in: the account waits for its address to be confirmed.
        self.assertFalse(thief.session.get("_auth_user_id"))
        r = thief.post(accept_url(self.token))
        self.assertEqual(r.status_code, 302)
        self.assertTrue(r["Location"].startswith(reverse("account_login")))
        # Logging in with the password does not get around it either.
        r = thief.post(reverse("account_login"), {"login": "newbie@example.org", "password": PASSWORD})
        self.assertEqual(r["Location"], reverse("account_email_verification_sent"))
        thief.post(accept_url(self.token))
        self.assertFalse(Membership.objects.filter(user__email="newbie@example.org").exists())
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)

    def test_a_logged_in_account_whose_address_is_not_confirmed_must_confirm_before_accepting(self) -> None:
        # An account from before confirmation was required (or an operator's setting): logged in, unconfirmed.
        user = User.objects.create_user("newbie@example.org", PASSWORD, email_confirmed=False)
        browser = Client()
        browser.force_login(user)
        r = browser.get(page(self.token))
        self.assertContains(r, "Confirm your email address first")
        self.assertNotContains(r, f'action="{accept_url(self.token)}"')
        r = browser.post(accept_url(self.token))
        self.assertContains(r, "Confirm your email address first", status_code=403)
        self.assertFalse(Membership.objects.filter(user=user).exists())
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)
        # The confirmation goes to the invited mailbox; once confirmed, the same browser accepts.
        r = browser.post(reverse("accounts:invitation_confirm_email", args=[self.token]), follow=True)
        confirmation = mail.outbox[-1]
        self.assertEqual(confirmation.to, ["newbie@example.org"])
        link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", str(confirmation.body))
        assert link is not None, confirmation.body
        path = link[0].split("testserver", 1)[1]
        browser.post(path)
        r = browser.post(accept_url(self.token))
        self.assertEqual(r.status_code, 302)
        self.assertTrue(Membership.objects.filter(user=user, tenant=self.tenant).exists())

    def test_the_invitee_who_reads_the_mailbox_confirms_then_joins(self) -> None:
        browser = Client()
        self.sign_up_from_the_link(browser)
        confirmation = mail.outbox[-1]
        self.assertEqual(confirmation.to, ["newbie@example.org"])
        link = re.search(r"https?://testserver(/accounts/confirm-email/[^\s]+)", str(confirmation.body))
        assert link is not None, confirmation.body
        r = browser.post(link[1])
        # Confirming logs the new account in and brings it back to the invitation.
        self.assertEqual(r.status_code, 302)
        self.assertEqual(r["Location"], page(self.token))
        r = browser.get(page(self.token))
        self.assertContains(r, f'action="{accept_url(self.token)}"')
        r = browser.post(accept_url(self.token))
        self.assertRedirects(r, reverse("stores:list"), fetch_redirect_response=False)
        self.assertTrue(
            Membership.objects.filter(user__email="newbie@example.org", tenant=self.tenant).exists()
        )


class SignupEnumerationTests(BaseTestCase):
    def sign_up(self, email: str) -> tuple[int, str, str]:
        browser = Client()
        r = browser.post(
            reverse("account_signup"),
            {"email": email, "password1": PASSWORD, "password2": PASSWORD, "company": "Any Co"},
            follow=True,
        )
        # The page repeats the address typed in: compare what it says around it.
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode()).replace(
            email, "EMAIL"
        )
        return r.status_code, r.redirect_chain[-1][0] if r.redirect_chain else "", text

    def test_signing_up_with_a_registered_and_a_new_address_answers_the_same(self) -> None:
        taken = self.sign_up("alice@example.org")
        fresh = self.sign_up("someone-new@example.org")
        self.assertEqual(taken[:2], fresh[:2])
        self.assertEqual(taken[2], fresh[2])
        self.assertNotIn("already", taken[2])
        # The registered address's owner is told by email; no second account is made.
        self.assertEqual(User.objects.filter(email__iexact="alice@example.org").count(), 1)
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox), ["alice@example.org", "someone-new@example.org"]
        )
