from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership
from tests.accounts.invitation_helpers import accept_url, after_the_resend_pause, invite, page, token_of
from tests.base import BaseTestCase, make_user


class MembersTests(BaseTestCase):
    def test_every_member_sees_the_team(self) -> None:
        for user in (self.alice, self.bob, self.vera):
            self.login(user)
            r = self.client.get(reverse("accounts:members"))
            self.assertContains(r, "bob@example.org")
            self.assertNotContains(r, "charlie@example.org")

    def test_an_owner_invites_an_address_with_a_role_and_nobody_is_added_yet(self) -> None:
        dana = make_user("dana@example.org")
        self.login(self.alice)
        r = self.client.post(
            reverse("accounts:member_invite"), {"email": "DANA@example.org", "role": "admin"}
        )
        self.assertRedirects(r, reverse("accounts:members"))
        invitation = Invitation.objects.get(tenant=self.tenant)
        self.assertEqual(invitation.email, "dana@example.org")
        self.assertEqual(invitation.role, "admin")
        self.assertEqual(invitation.status, Invitation.Status.PENDING)
        self.assertEqual(invitation.invited_by, self.alice)
        self.assertFalse(Membership.objects.filter(user=dana, tenant=self.tenant).exists())
        self.assertEqual([m.to for m in mail.outbox], [["dana@example.org"]])
        self.assertIn("Alice Trading", mail.outbox[0].subject)

    def test_the_invited_address_accepts_and_becomes_a_member_with_the_invited_role(self) -> None:
        dana = make_user("dana@example.org")
        self.login(self.alice)
        token = invite(self.client, "dana@example.org", "admin")
        self.login(dana)
        r = self.client.post(accept_url(token))
        self.assertRedirects(r, reverse("stores:list"), fetch_redirect_response=False)
        self.assertEqual(Membership.objects.get(user=dana, tenant=self.tenant).role, "admin")

    def test_inviting_an_invalid_address_is_a_field_error(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("accounts:member_invite"), {"email": "not-an-address", "role": "member"})
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "Enter a valid email address", status_code=400)
        self.assertFalse(Invitation.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_inviting_a_member_again_adds_no_duplicate_and_says_the_same_as_for_anyone(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            reverse("accounts:member_invite"), {"email": "bob@example.org", "role": "owner"}, follow=True
        )
        self.assertContains(r, "An invitation was sent to bob@example.org.")
        self.assertEqual(Membership.objects.filter(user=self.bob, tenant=self.tenant).count(), 1)
        self.assertEqual(Membership.objects.get(user=self.bob, tenant=self.tenant).role, "member")
        self.assertFalse(Invitation.objects.exists())

    def test_inviting_the_same_address_twice_keeps_one_pending_invitation_with_the_new_role(self) -> None:
        self.login(self.alice)
        first = invite(self.client, "dana@example.org", "viewer")
        after_the_resend_pause()
        second = invite(self.client, "dana@example.org", "admin")
        self.assertNotEqual(first, second)
        invitation = Invitation.objects.get(tenant=self.tenant)
        self.assertEqual(invitation.role, "admin")
        self.assertEqual(self.client.get(page(first)).status_code, 400)
        self.assertEqual(self.client.get(page(second)).status_code, 200)

    def test_managers_see_the_pending_invitations_with_resend_and_cancel(self) -> None:
        self.login(self.alice)
        invite(self.client, "dana@example.org", "viewer")
        invitation = Invitation.objects.get()
        r = self.client.get(reverse("accounts:members"))
        self.assertContains(r, "Invite a member")
        self.assertContains(r, "dana@example.org")
        self.assertContains(r, reverse("accounts:invitation_resend", args=[invitation.code]))
        self.assertContains(r, reverse("accounts:invitation_cancel", args=[invitation.code]))
        self.assertNotContains(r, "Add a member")
        for user in (self.bob, self.vera):
            self.login(user)
            r = self.client.get(reverse("accounts:members"))
            self.assertNotContains(r, "dana@example.org")
            self.assertNotContains(r, "Invite a member")

    def test_an_owner_resends_and_cancels_an_invitation(self) -> None:
        self.login(self.alice)
        first = invite(self.client, "dana@example.org")
        invitation = Invitation.objects.get()
        after_the_resend_pause()
        r = self.client.post(reverse("accounts:invitation_resend", args=[invitation.code]), follow=True)
        self.assertContains(r, "A new invitation was sent to dana@example.org.")
        second = token_of(mail.outbox[-1].body)
        self.assertNotEqual(first, second)
        self.assertEqual(self.client.get(page(first)).status_code, 400)
        r = self.client.post(reverse("accounts:invitation_cancel", args=[invitation.code]), follow=True)
        self.assertContains(r, "The invitation to dana@example.org was cancelled.")
        invitation.refresh_from_db()
        self.assertEqual(invitation.status, Invitation.Status.CANCELLED)
        self.assertEqual(self.client.get(page(second)).status_code, 400)
        self.assertContains(self.client.get(reverse("accounts:members")), "No pending invitations.")

    def test_an_expired_invitation_is_not_listed_and_is_marked_expired(self) -> None:
        self.login(self.alice)
        invite(self.client, "dana@example.org")
        self.client.get(reverse("accounts:members"))  # shows (and so clears) the "invitation sent" message
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        r = self.client.get(reverse("accounts:members"))
        self.assertNotContains(r, "dana@example.org")
        self.assertContains(r, "No pending invitations.")
        self.assertEqual(Invitation.objects.get().status, Invitation.Status.EXPIRED)

    def test_changing_a_role_emails_the_owners(self) -> None:
        second_owner = make_user("olga@example.org")
        Membership.objects.create(tenant=self.tenant, user=second_owner, role=Membership.Role.OWNER)
        target = Membership.objects.get(user=self.bob, tenant=self.tenant)
        self.login(self.alice)
        self.client.post(reverse("accounts:member_role", args=[target.code]), {"role": "viewer"})
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(sorted(message.to), ["alice@example.org", "olga@example.org"])
        self.assertIn("bob@example.org", message.subject)
        self.assertIn("from Member to Viewer", message.body)

    def test_setting_the_same_role_again_sends_no_email(self) -> None:
        target = Membership.objects.get(user=self.bob, tenant=self.tenant)
        self.login(self.alice)
        self.client.post(reverse("accounts:member_role", args=[target.code]), {"role": "member"})
        self.assertEqual(mail.outbox, [])

    def test_a_member_or_viewer_cannot_manage_members(self) -> None:
        dana = make_user("dana@example.org")
        target = Membership.objects.get(user=self.vera, tenant=self.tenant)
        for user in (self.bob, self.vera):
            self.login(user)
            r = self.client.post(reverse("accounts:member_invite"), {"email": dana.email, "role": "member"})
            self.assertEqual(r.status_code, 403)
            r = self.client.post(reverse("accounts:member_role", args=[target.code]), {"role": "owner"})
            self.assertEqual(r.status_code, 403)
            r = self.client.post(reverse("accounts:member_remove", args=[target.code]))
            self.assertEqual(r.status_code, 403)
        self.assertFalse(Membership.objects.filter(user=dana).exists())
        self.assertFalse(Invitation.objects.exists())
        self.assertEqual(mail.outbox, [])
        target.refresh_from_db()
        self.assertEqual(target.role, "viewer")

    def test_an_outsider_gets_404_for_another_tenant_membership(self) -> None:
        target = Membership.objects.get(user=self.bob, tenant=self.tenant)
        self.login(self.charlie)
        self.assertEqual(
            self.client.post(
                reverse("accounts:member_role", args=[target.code]), {"role": "viewer"}
            ).status_code,
            404,
        )
        self.assertEqual(
            self.client.post(reverse("accounts:member_remove", args=[target.code])).status_code, 404
        )

    def test_an_owner_changes_a_role_and_removes_a_member(self) -> None:
        target = Membership.objects.get(user=self.bob, tenant=self.tenant)
        self.login(self.alice)
        self.client.post(reverse("accounts:member_role", args=[target.code]), {"role": "viewer"})
        target.refresh_from_db()
        self.assertEqual(target.role, "viewer")
        self.client.post(reverse("accounts:member_remove", args=[target.code]))
        self.assertFalse(Membership.objects.filter(pk=target.pk).exists())

    def test_an_admin_cannot_touch_owners(self) -> None:
        Membership.objects.filter(user=self.bob, tenant=self.tenant).update(role="admin")
        owner = Membership.objects.get(user=self.alice, tenant=self.tenant)
        self.login(self.bob)
        self.assertEqual(
            self.client.post(
                reverse("accounts:member_role", args=[owner.code]), {"role": "viewer"}
            ).status_code,
            403,
        )
        self.assertEqual(
            self.client.post(reverse("accounts:member_remove", args=[owner.code])).status_code, 403
        )
        r = self.client.post(
            reverse("accounts:member_invite"), {"email": "charlie@example.org", "role": "owner"}
        )
        self.assertContains(r, "Only an owner can invite another owner", status_code=400)
        self.assertFalse(Invitation.objects.exists())
        invite(self.client, "charlie@example.org", "admin")  # an admin may invite below owner
        invitation = Invitation.objects.get()
        invitation.role = Membership.Role.OWNER
        invitation.save()
        r = self.client.post(reverse("accounts:invitation_resend", args=[invitation.code]))
        self.assertEqual(r.status_code, 403)

    def test_the_last_owner_cannot_be_demoted_or_removed(self) -> None:
        owner = Membership.objects.get(user=self.alice, tenant=self.tenant)
        self.login(self.alice)
        self.client.post(reverse("accounts:member_role", args=[owner.code]), {"role": "member"})
        owner.refresh_from_db()
        self.assertEqual(owner.role, "owner")
        self.client.post(reverse("accounts:member_remove", args=[owner.code]))
        self.assertTrue(Membership.objects.filter(pk=owner.pk).exists())

    def test_a_bad_role_value_changes_nothing(self) -> None:
        target = Membership.objects.get(user=self.bob, tenant=self.tenant)
        self.login(self.alice)
        r = self.client.post(reverse("accounts:member_role", args=[target.code]), {"role": "god"})
        self.assertRedirects(r, reverse("accounts:members"))
        target.refresh_from_db()
        self.assertEqual(target.role, "member")

    def test_anonymous_is_sent_to_login(self) -> None:
        r = self.client.get(reverse("accounts:members"))
        self.assertIn(reverse("account_login"), r["Location"])

    def test_switching_tenant_needs_a_membership(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("accounts:switch_tenant", args=[self.other_tenant.code]))
        self.assertEqual(r.status_code, 404)
