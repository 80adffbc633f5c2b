from __future__ import annotations

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from accounts.models import Membership, Tenant, User
from tests.accounts.invitation_helpers import confirm_email
from tests.base import PASSWORD


class SignupTests(TestCase):
    def test_signing_up_creates_a_tenant_owned_by_the_new_user(self) -> None:
        r = self.client.post(
            reverse("account_signup"),
            {
                "email": "new@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "company": "  New Co  ",
            },
        )
        self.assertRedirects(r, reverse("account_email_verification_sent"), fetch_redirect_response=False)
        user = User.objects.get(email="new@example.org")
        m = Membership.objects.get(user=user)
        self.assertEqual(m.role, Membership.Role.OWNER)
        self.assertEqual(m.tenant.name, "New Co")
        # Logged in once the emailed link confirms the address.
        self.assertTrue(
            self.client.get(reverse("stores:list"))["Location"].startswith(reverse("account_login"))
        )
        confirm_email(self.client, "new@example.org")
        self.assertContains(self.client.get(reverse("stores:list")), "New Co")

    def test_signup_needs_a_company_name(self) -> None:
        r = self.client.post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD, "company": "   "},
        )
        self.assertEqual(r.status_code, 200)
        self.assertFalse(User.objects.filter(email="new@example.org").exists())
        self.assertEqual(Tenant.objects.count(), 0)

    def test_a_registered_email_makes_no_second_account_and_its_owner_is_told_by_email(self) -> None:
        User.objects.create_user("taken@example.org", PASSWORD)
        r = self.client.post(
            reverse("account_signup"),
            {"email": "taken@example.org", "password1": PASSWORD, "password2": PASSWORD, "company": "X"},
        )
        # The same answer as for a new address (tests/security/test_invitation_abuse.py compares them).
        self.assertRedirects(r, reverse("account_email_verification_sent"), fetch_redirect_response=False)
        self.assertEqual(User.objects.filter(email="taken@example.org").count(), 1)
        self.assertEqual(Tenant.objects.count(), 0)
        self.assertEqual([m.to for m in mail.outbox], [["taken@example.org"]])


class LoginLogoutResetTests(TestCase):
    def setUp(self) -> None:
        self.user = User.objects.create_user("user@example.org", PASSWORD)
        Tenant.create_for_owner(self.user, "User Co")

    def test_log_in_and_out(self) -> None:
        r = self.client.post(reverse("account_login"), {"login": "user@example.org", "password": PASSWORD})
        self.assertRedirects(r, reverse("stores:list"), fetch_redirect_response=False)
        self.assertEqual(self.client.get(reverse("stores:list")).status_code, 200)
        self.client.post(reverse("account_logout"))
        self.assertEqual(self.client.get(reverse("stores:list")).status_code, 302)

    def test_a_wrong_password_is_refused(self) -> None:
        r = self.client.post(reverse("account_login"), {"login": "user@example.org", "password": "nope"})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.client.get(reverse("stores:list")).status_code, 302)

    def test_password_reset_sends_an_email_with_a_working_link(self) -> None:
        r = self.client.post(reverse("account_reset_password"), {"email": "user@example.org"})
        self.assertEqual(r.status_code, 302)
        self.assertEqual(len(mail.outbox), 1)
        body = mail.outbox[0].body
        link = next(line for line in body.splitlines() if "/accounts/password/reset/key/" in line).strip()
        path = link[link.index("/accounts/") :]
        r = self.client.get(path, follow=True)
        self.assertEqual(r.status_code, 200)
        form_url = r.redirect_chain[-1][0] if r.redirect_chain else path
        r = self.client.post(
            form_url, {"password1": "a-brand-new-passphrase-77", "password2": "a-brand-new-passphrase-77"}
        )
        self.assertEqual(r.status_code, 302)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("a-brand-new-passphrase-77"))
