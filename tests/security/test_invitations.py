"""Membership needs the invitee's consent: nobody is added to a distributor account by someone else.

Without it an owner could add anyone who signed up to their tenant, and that person could then connect their own
Amazon account inside the attacker's tenant without noticing (account-linking CSRF by forced membership). Every
check here goes through the HTTP client, reading the link out of the email as the invitee would.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SESSION_KEY
from accounts.models import Invitation, Membership, Tenant, User
from tests.accounts.invitation_helpers import (
    accept_url,
    after_the_resend_pause,
    confirm_email,
    decline_url,
    invite,
    page,
    token_of,
)
from tests.base import PASSWORD, BaseTestCase, make_user
from tests.security.helpers import captured_logs, portal_rows
from tests.security.routes import PUBLIC_ROUTES, all_routes, tenant_url
from tests.security.test_url_access import AccessTestCase

HTML_ENTITIES = ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;")


class InvitationTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.owner = Client()
        self.owner.force_login(self.alice)

    def as_user(self, user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    def memberships_of(self, email: str) -> list[Membership]:
        return list(Membership.objects.filter(user__email=email, tenant=self.tenant))


class ConsentTests(InvitationTestCase):
    def test_an_invited_person_is_not_a_member_until_they_accept(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org", "admin")
        self.assertEqual(self.memberships_of("dana@example.org"), [])
        r = self.as_user(dana).get(page(token))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.memberships_of("dana@example.org"), [])
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)

    def test_the_invitation_page_shows_the_account_the_inviter_and_the_role_with_accept_and_decline(
        self,
    ) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org", "viewer")
        r = self.as_user(dana).get(page(token))
        self.assertContains(r, "Alice Trading")
        self.assertContains(r, "alice@example.org")
        self.assertContains(r, "Viewer")
        self.assertContains(r, f'action="{accept_url(token)}"')
        self.assertContains(r, f'action="{decline_url(token)}"')
        self.assertEqual(r["Cache-Control"].count("no-cache") + r["Cache-Control"].count("no-store"), 2)

    def test_inviting_a_registered_and_an_unregistered_address_answers_identically(self) -> None:
        make_user("dana@example.org")

        def answer(email: str) -> tuple[Any, ...]:
            r = self.owner.post(reverse("accounts:member_invite"), {"email": email, "role": "member"})
            shown = [str(m) for m in get_messages(r.wsgi_request)]
            followed = self.owner.get(r["Location"])
            body = followed.content.decode().replace(email, "EMAIL")
            body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
            body = re.sub(r"/team/invitations/[0-9a-f-]{36}/", "/team/invitations/CODE/", body)
            return (
                r.status_code,
                r["Location"],
                r.content,
                [m.replace(email, "EMAIL") for m in shown],
                followed.status_code,
                body,
            )

        registered = answer("dana@example.org")
        Invitation.objects.all().delete()  # the page lists pending invitations: compare like with like
        unregistered = answer("ghost@example.org")
        self.assertEqual(registered, unregistered)
        self.assertEqual(registered[3], ["An invitation was sent to EMAIL."])
        self.assertEqual(len(mail.outbox), 2)

    def test_inviting_an_existing_member_gives_the_same_message_and_no_second_membership(self) -> None:
        r = self.owner.post(reverse("accounts:member_invite"), {"email": "BOB@example.org", "role": "owner"})
        self.assertRedirects(r, reverse("accounts:members"), fetch_redirect_response=False)
        self.assertEqual(
            [str(m) for m in get_messages(r.wsgi_request)], ["An invitation was sent to bob@example.org."]
        )
        self.assertEqual([m.role for m in self.memberships_of("bob@example.org")], ["member"])

    def test_the_invitee_accepts_becomes_a_member_and_works_in_the_new_account(self) -> None:
        token = invite(self.owner, "charlie@example.org", "member")
        charlie = self.as_user(self.charlie)
        charlie.get(page(token))
        r = charlie.post(accept_url(token))
        self.assertRedirects(r, reverse("stores:list"), fetch_redirect_response=False)
        self.assertEqual([m.role for m in self.memberships_of("charlie@example.org")], ["member"])
        self.assertEqual(charlie.session[SESSION_KEY], str(self.tenant.code))
        self.assertContains(charlie.get(reverse("stores:list")), self.store.nickname)
        invitation = Invitation.objects.get()
        self.assertEqual(invitation.status, Invitation.Status.ACCEPTED)
        self.assertEqual(invitation.accepted_by, self.charlie)
        self.assertIsNotNone(invitation.responded_at)
        welcome, joined = mail.outbox[1:]
        self.assertEqual(welcome.to, ["charlie@example.org"])
        self.assertIn("Alice Trading", welcome.subject)
        self.assertEqual(joined.to, ["alice@example.org"])
        self.assertIn("charlie@example.org", joined.subject)

    def test_the_invited_address_matches_whatever_its_letter_case(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "Dana@EXAMPLE.org")
        self.as_user(dana).post(accept_url(token))
        self.assertEqual(len(self.memberships_of("dana@example.org")), 1)

    def test_another_logged_in_user_with_the_link_gets_403_and_nothing_changes(self) -> None:
        make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org", "admin")
        charlie = self.as_user(self.charlie)
        r = charlie.get(page(token))
        self.assertContains(r, "sent to another email address")
        self.assertNotContains(r, f'action="{accept_url(token)}"')
        r = charlie.post(accept_url(token))
        self.assertEqual(r.status_code, 403)
        self.assertContains(r, "The invitation was sent to another email address", status_code=403)
        r = charlie.post(decline_url(token))
        self.assertEqual(r.status_code, 403)
        self.assertEqual(self.memberships_of("charlie@example.org"), [])
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)
        self.assertNotIn(str(self.tenant.code), str(charlie.session.get(SESSION_KEY)))

    def test_anonymous_accept_goes_to_the_login_page_and_back_to_the_invitation(self) -> None:
        token = invite(self.owner, "dana@example.org")
        r = Client().post(accept_url(token))
        self.assertEqual(r.status_code, 302)
        self.assertTrue(r["Location"].startswith(reverse("account_login")))
        self.assertIn("next=" + page(token).replace("/", "%2F"), r["Location"])
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)

    def test_anonymous_visitors_see_the_invitation_with_log_in_and_sign_up_links_back_to_it(self) -> None:
        token = invite(self.owner, "dana@example.org")
        r = Client().get(page(token))
        self.assertContains(r, "Alice Trading")
        self.assertContains(r, "alice@example.org")
        nxt = "next=" + page(token).replace("/", "%2F")
        self.assertContains(r, f'href="{reverse("account_login")}?{nxt}"')
        self.assertContains(r, f'href="{reverse("account_signup")}?{nxt}"')
        self.assertNotContains(r, f'action="{accept_url(token)}"')

    def test_a_get_on_accept_or_decline_changes_nothing_and_goes_back_to_the_invitation(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        client = self.as_user(dana)
        for url in (accept_url(token), decline_url(token)):
            self.assertRedirects(client.get(url), page(token))
        self.assertEqual(self.memberships_of("dana@example.org"), [])
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)


class UnusableLinkTests(InvitationTestCase):
    def assert_unusable(self, token: str, user: User | None = None) -> None:
        client = self.as_user(user)
        for r in (client.get(page(token)), client.post(accept_url(token)), client.post(decline_url(token))):
            self.assertEqual(r.status_code, 400, r)
            self.assertContains(r, "This invitation cannot be used", status_code=400)
            self.assertNotContains(r, "Alice Trading", status_code=400)

    def test_a_forged_or_garbled_token_gets_400(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        swapped = ("A" if token[0] != "A" else "B") + token[1:]
        for forged in (secrets.token_urlsafe(32), swapped, token[:-1], token + "x", "x", "a" * 500):
            with self.subTest(token=forged[:10]):
                self.assert_unusable(forged, dana)
                self.assert_unusable(forged, None)
        self.assertEqual(self.memberships_of("dana@example.org"), [])

    def test_the_manage_code_of_an_invitation_is_not_a_token(self) -> None:
        dana = make_user("dana@example.org")
        invite(self.owner, "dana@example.org")
        self.assert_unusable(str(Invitation.objects.get().code), dana)

    def test_a_cancelled_link_gets_400(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        self.owner.post(reverse("accounts:invitation_cancel", args=[Invitation.objects.get().code]))
        self.assert_unusable(token, dana)
        self.assertContains(self.as_user(dana).get(page(token)), "was cancelled", status_code=400)
        self.assertEqual(self.memberships_of("dana@example.org"), [])

    def test_a_declined_link_gets_400(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        self.assertEqual(Client().post(decline_url(token)).status_code, 200)
        self.assert_unusable(token, dana)
        self.assertEqual(self.memberships_of("dana@example.org"), [])

    def test_an_expired_link_gets_400_and_the_invitation_becomes_expired(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        r = self.as_user(dana).post(accept_url(token))
        self.assertContains(r, "has expired", status_code=400)
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.EXPIRED)
        self.assert_unusable(token, dana)
        self.assertEqual(self.memberships_of("dana@example.org"), [])

    @override_settings(INVITATION_TTL_DAYS=3)
    def test_an_invitation_expires_after_the_configured_number_of_days(self) -> None:
        before = timezone.now()
        invite(self.owner, "dana@example.org")
        expires_at = Invitation.objects.get().expires_at
        self.assertLess(abs(expires_at - before - timedelta(days=3)), timedelta(minutes=1))

    def test_the_old_link_of_a_resent_invitation_gets_400_and_the_new_one_works(self) -> None:
        dana = make_user("dana@example.org")
        old = invite(self.owner, "dana@example.org")
        after_the_resend_pause()
        self.owner.post(reverse("accounts:invitation_resend", args=[Invitation.objects.get().code]))
        new = token_of(mail.outbox[-1].body)
        self.assertNotEqual(old, new)
        self.assertEqual(mail.outbox[-1].to, ["dana@example.org"])
        self.assert_unusable(old, dana)
        self.assertEqual(self.as_user(dana).post(accept_url(new)).status_code, 302)
        self.assertEqual(len(self.memberships_of("dana@example.org")), 1)

    def test_accepting_twice_creates_one_membership(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        first, second = self.as_user(dana), self.as_user(dana)  # two browsers holding the same link
        first.get(page(token))
        second.get(page(token))
        self.assertEqual(first.post(accept_url(token)).status_code, 302)
        r = second.post(accept_url(token))
        self.assertContains(r, "already accepted", status_code=400)
        self.assertEqual(len(self.memberships_of("dana@example.org")), 1)
        self.assertEqual(len(mail.outbox), 3)  # the invitation, the welcome, the owners' notice: once each

    def test_a_member_who_accepts_an_invitation_only_ends_it(self) -> None:
        token = invite(self.owner, "dana@example.org", "owner")
        dana = make_user("dana@example.org")
        Membership.objects.create(tenant=self.tenant, user=dana, role=Membership.Role.VIEWER)
        r = self.as_user(dana).post(accept_url(token))
        self.assertEqual(r.status_code, 302)
        self.assertEqual([m.role for m in self.memberships_of("dana@example.org")], ["viewer"])
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.ACCEPTED)


class DeclineTests(InvitationTestCase):
    def test_declining_adds_no_member_and_emails_the_inviter(self) -> None:
        admin = make_user("adam@example.org")
        Membership.objects.create(tenant=self.tenant, user=admin, role=Membership.Role.ADMIN)
        token = invite(self.as_user(admin), "dana@example.org")
        r = Client().get(page(token))
        self.assertContains(r, f'action="{decline_url(token)}"')
        r = Client().post(decline_url(token))
        self.assertContains(r, "You declined the invitation")
        self.assertEqual(self.memberships_of("dana@example.org"), [])
        invitation = Invitation.objects.get()
        self.assertEqual(invitation.status, Invitation.Status.DECLINED)
        notice = mail.outbox[-1]
        self.assertEqual(notice.to, ["adam@example.org", "alice@example.org"])  # the inviter, then the owners
        self.assertIn("dana@example.org declined", notice.subject)

    def test_the_invitee_logged_in_may_decline(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        self.assertEqual(self.as_user(dana).post(decline_url(token)).status_code, 200)
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.DECLINED)
        self.assertEqual(self.memberships_of("dana@example.org"), [])


class ManagerOnlyTests(InvitationTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.token = invite(self.owner, "dana@example.org")
        self.invitation = Invitation.objects.get()
        self.outbox_before = len(mail.outbox)

    def assert_unchanged(self) -> None:
        before = (self.invitation.status, self.invitation.token_hash, self.invitation.expires_at)
        self.invitation.refresh_from_db()
        self.assertEqual(
            before, (self.invitation.status, self.invitation.token_hash, self.invitation.expires_at)
        )
        self.assertEqual(len(mail.outbox), self.outbox_before)

    def urls(self) -> list[str]:
        code = self.invitation.code
        return [
            reverse("accounts:invitation_resend", args=[code]),
            reverse("accounts:invitation_cancel", args=[code]),
        ]

    def test_an_outsider_cannot_resend_or_cancel_another_tenants_invitation(self) -> None:
        charlie = self.as_user(self.charlie)
        for url in self.urls():
            self.assertEqual(charlie.post(url).status_code, 404)
        self.assert_unchanged()

    def test_a_viewer_or_member_gets_403_on_resend_and_cancel(self) -> None:
        for user in (self.vera, self.bob):
            client = self.as_user(user)
            for url in self.urls():
                self.assertEqual(client.post(url).status_code, 403, (user, url))
        self.assert_unchanged()

    def test_anonymous_resend_and_cancel_go_to_the_login_page(self) -> None:
        for url in self.urls():
            r = Client().post(url)
            self.assertTrue(r["Location"].startswith(reverse("account_login")))
        self.assert_unchanged()

    def test_an_owner_of_another_tenant_cannot_invite_into_this_one(self) -> None:
        charlie = self.as_user(self.charlie)
        invite(charlie, "zed@example.org")
        self.assertEqual(Invitation.objects.filter(tenant=self.tenant).count(), 1)
        self.assertEqual(Invitation.objects.get(email="zed@example.org").tenant, self.other_tenant)

    def test_a_viewer_or_member_cannot_invite(self) -> None:
        for user in (self.vera, self.bob):
            r = self.as_user(user).post(
                reverse("accounts:member_invite"), {"email": "x@example.org", "role": "member"}
            )
            self.assertEqual(r.status_code, 403)
        self.assertFalse(Invitation.objects.filter(email="x@example.org").exists())


class SignupFromInvitationTests(InvitationTestCase):
    def test_a_person_without_an_account_signs_up_from_the_link_and_joins_without_a_tenant_of_their_own(
        self,
    ) -> None:
        token = invite(self.owner, "newbie@example.org", "member")
        tenants_before = Tenant.objects.count()
        browser = Client()
        r = browser.get(page(token))
        signup_link = re.search(r'href="(/accounts/signup/\?next=[^"]+)"', r.content.decode())
        assert signup_link is not None
        r = browser.get(signup_link[1].replace("&amp;", "&"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "Distributor account name (optional)")
        self.assertContains(r, 'value="newbie@example.org"')  # prefilled with the invited address
        form = r.context["form"]
        self.assertFalse(form.fields["company"].required)
        nxt = re.search(r'name="next" value="([^"]+)"', r.content.decode())
        assert nxt is not None
        self.assertEqual(nxt[1], page(token))
        r = browser.post(
            reverse("account_signup"),
            {
                "email": "newbie@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "company": "",
                "next": nxt[1],
            },
        )
        # The address is confirmed first (the link alone may have leaked); confirming comes back to the invitation.
        self.assertRedirects(r, reverse("account_email_verification_sent"), fetch_redirect_response=False)
        user = User.objects.get(email="newbie@example.org")
        self.assertFalse(Membership.objects.filter(user=user).exists())
        self.assertEqual(Tenant.objects.count(), tenants_before)
        r = confirm_email(browser, "newbie@example.org")
        self.assertRedirects(r, page(token), fetch_redirect_response=False)
        r = browser.get(r["Location"])
        self.assertContains(r, f'action="{accept_url(token)}"')
        r = browser.post(accept_url(token))
        self.assertRedirects(r, reverse("stores:list"), fetch_redirect_response=False)
        self.assertEqual(
            list(Membership.objects.filter(user=user).values_list("tenant", "role")),
            [(self.tenant.pk, "member")],
        )
        self.assertEqual(Tenant.objects.count(), tenants_before)
        self.assertContains(browser.get(reverse("stores:list")), self.store.nickname)

    def test_the_sign_up_may_still_create_a_tenant_of_ones_own_from_an_invitation(self) -> None:
        token = invite(self.owner, "newbie@example.org")
        browser = Client()
        browser.get(page(token))
        browser.post(
            reverse("account_signup"),
            {
                "email": "newbie@example.org",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "company": "Newbie Co",
            },
        )
        user = User.objects.get(email="newbie@example.org")
        self.assertEqual([m.tenant.name for m in Membership.objects.filter(user=user)], ["Newbie Co"])

    def test_without_an_open_invitation_the_company_is_still_required(self) -> None:
        token = invite(self.owner, "newbie@example.org")
        browser = Client()
        browser.get(page(token))
        self.owner.post(reverse("accounts:invitation_cancel", args=[Invitation.objects.get().code]))
        r = browser.post(
            reverse("account_signup"),
            {"email": "newbie@example.org", "password1": PASSWORD, "password2": PASSWORD, "company": ""},
        )
        self.assertEqual(r.status_code, 200)
        self.assertFalse(User.objects.filter(email="newbie@example.org").exists())

    def test_a_forged_session_value_does_not_make_the_company_optional(self) -> None:
        browser = Client()
        session = browser.session
        session["pending_invitation"] = "0" * 64
        session.save()
        r = browser.post(
            reverse("account_signup"),
            {"email": "newbie@example.org", "password1": PASSWORD, "password2": PASSWORD, "company": ""},
        )
        self.assertEqual(r.status_code, 200)
        self.assertFalse(User.objects.filter(email="newbie@example.org").exists())


class CsrfTests(InvitationTestCase):
    def test_accept_and_decline_without_a_csrf_token_are_refused(self) -> None:
        dana = make_user("dana@example.org")
        token = invite(self.owner, "dana@example.org")
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(dana)
        browser.get(page(token))  # sets the csrftoken cookie
        self.assertIn("csrftoken", browser.cookies)
        anonymous = Client(enforce_csrf_checks=True)
        anonymous.get(page(token))
        for client, url in (
            (browser, accept_url(token)),
            (browser, decline_url(token)),
            (anonymous, decline_url(token)),
        ):
            with self.subTest(url=url), self.assertLogs("django.security.csrf", "WARNING"):
                self.assertEqual(client.post(url).status_code, 403)
        self.assertEqual(self.memberships_of("dana@example.org"), [])
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.PENDING)
        # The control: the same browser with the token from its cookie accepts.
        r = browser.post(accept_url(token), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
        self.assertEqual(r.status_code, 302)
        self.assertEqual(len(self.memberships_of("dana@example.org")), 1)


class EmailTests(InvitationTestCase):
    def run_every_email(self) -> None:
        """Invitation, welcome, joined, declined and role-change emails, through the pages that send them."""
        dana = make_user("dana@example.org")
        accepted = invite(self.owner, "dana@example.org")
        self.as_user(dana).post(accept_url(accepted))
        declined = invite(self.owner, "erin@example.org")
        Client().post(decline_url(declined))
        target = Membership.objects.get(user=dana, tenant=self.tenant)
        self.owner.post(reverse("accounts:member_role", args=[target.code]), {"role": "viewer"})

    def test_a_tenant_name_with_crlf_gives_single_line_subjects_and_no_error(self) -> None:
        Tenant.objects.filter(pk=self.tenant.pk).update(name="Evil\r\nBcc: victim@example.org\nX")
        self.run_every_email()
        self.assertEqual(len(mail.outbox), 6)
        for message in mail.outbox:
            with self.subTest(subject=message.subject):
                self.assertNotIn("\n", message.subject)
                self.assertNotIn("\r", message.subject)
                self.assertIn("Evil Bcc: victim@example.org X", message.subject)
                self.assertNotIn("victim@example.org", message.to + message.cc + message.bcc)

    def test_plain_text_emails_contain_no_html_entities(self) -> None:
        Tenant.objects.filter(pk=self.tenant.pk).update(name='O\'Brien & "Co" <Ltd>')
        self.run_every_email()
        self.assertEqual(len(mail.outbox), 6)
        for message in mail.outbox:
            with self.subTest(subject=message.subject):
                self.assertIn('O\'Brien & "Co" <Ltd>', message.subject)
                self.assertIn('O\'Brien & "Co" <Ltd>', message.body)
                for entity in HTML_ENTITIES:
                    self.assertNotIn(entity, message.subject)
                    self.assertNotIn(entity, message.body)

    @override_settings(PUBLIC_BASE_URL="https://portal.example.com/")
    def test_the_link_is_built_from_the_public_base_url_when_set(self) -> None:
        token = invite(self.owner, "dana@example.org")
        self.assertIn(f"https://portal.example.com/team/invitations/{token}/", mail.outbox[0].body)

    def test_without_a_public_base_url_the_link_is_built_from_the_request(self) -> None:
        token = invite(self.owner, "dana@example.org")
        self.assertIn(f"http://testserver/team/invitations/{token}/", mail.outbox[0].body)


class UrlCensusTests(AccessTestCase):
    def test_the_url_census_fills_invitation_codes_with_a_pending_invitation_of_the_tenant_under_test(
        self,
    ) -> None:
        routes = [r for r in all_routes() if r.route.startswith("team/invitations/<uuid:code>/")]
        self.assertEqual(len(routes), 2)
        for route in routes:
            url = tenant_url(route, self.fx)
            self.assertIn(self.fx.invitation_code, url)
        invitation = Invitation.objects.get(code=self.fx.invitation_code)
        self.assertEqual((invitation.tenant, invitation.status), (self.tenant, Invitation.Status.PENDING))

    def test_the_invitee_routes_are_public_and_the_manage_routes_are_not(self) -> None:
        for name in ("invitation", "invitation_accept", "invitation_decline"):
            route = next(r for r in all_routes() if r.name == f"accounts:{name}")
            self.assertIn(route.route, PUBLIC_ROUTES)
        for name in ("invitation_resend", "invitation_cancel", "member_invite"):
            route = next(r for r in all_routes() if r.name == f"accounts:{name}")
            self.assertNotIn(route.route, PUBLIC_ROUTES)


class SecretTests(InvitationTestCase):
    def test_the_token_is_never_stored_logged_or_shown_to_the_team(self) -> None:
        with captured_logs() as lines:
            token = invite(self.owner, "dana@example.org")
            self.owner.post(reverse("accounts:invitation_resend", args=[Invitation.objects.get().code]))
            resent = token_of(mail.outbox[-1].body)
            dana = make_user("dana@example.org")
            self.as_user(dana).get(page(resent))
            self.as_user(dana).post(accept_url(resent))
        logs = "\n".join(lines)
        self.assertIn("accepted", logs)
        for secret in (token, resent):
            self.assertNotIn(secret, logs)
            for _model, row in portal_rows():
                self.assertNotIn(secret, str(row))
            self.assertNotIn(secret, self.owner.get(reverse("accounts:members")).content.decode())

    def test_django_admin_never_shows_the_token_hash(self) -> None:
        invite(self.owner, "dana@example.org")
        invitation = Invitation.objects.get()
        staff = User.objects.create_superuser("root@example.org", PASSWORD)
        client = self.as_user(staff)
        for url in (
            reverse("admin:accounts_invitation_changelist"),
            reverse("admin:accounts_invitation_change", args=[invitation.pk]),
        ):
            r = client.get(url)
            self.assertEqual(r.status_code, 200)
            self.assertContains(r, "dana@example.org")
            self.assertNotContains(r, invitation.token_hash)
            self.assertNotContains(r, "token_hash")
        self.assertEqual(client.get(reverse("admin:accounts_invitation_add")).status_code, 403)
