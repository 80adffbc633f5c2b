from __future__ import annotations

from django.urls import reverse

from accounts.models import Membership
from tests.base import BaseTestCase, make_user


class MembersTests(BaseTestCase):
    def test_every_member_sees_the_team(self) -> None:
        for user in (self.alice, self.bob, self.vera):
            self.login(user)
            r = self.client.get(reverse("accounts:members"))
            self.assertContains(r, "bob@example.org")
            self.assertNotContains(r, "charlie@example.org")

    def test_an_owner_adds_an_existing_user_with_a_role(self) -> None:
        dana = make_user("dana@example.org")
        self.login(self.alice)
        r = self.client.post(reverse("accounts:member_add"), {"email": "DANA@example.org", "role": "admin"})
        self.assertRedirects(r, reverse("accounts:members"))
        self.assertEqual(Membership.objects.get(user=dana, tenant=self.tenant).role, "admin")

    def test_adding_an_unknown_email_is_a_field_error(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("accounts:member_add"), {"email": "ghost@example.org", "role": "member"})
        self.assertEqual(r.status_code, 400)
        self.assertContains(r, "No one has signed up with this address yet", status_code=400)

    def test_adding_a_member_twice_is_a_field_error(self) -> None:
        self.login(self.alice)
        r = self.client.post(reverse("accounts:member_add"), {"email": "bob@example.org", "role": "member"})
        self.assertContains(r, "already a member", status_code=400)

    def test_a_member_or_viewer_cannot_manage_members(self) -> None:
        dana = make_user("dana@example.org")
        target = Membership.objects.get(user=self.vera, tenant=self.tenant)
        for user in (self.bob, self.vera):
            self.login(user)
            r = self.client.post(reverse("accounts:member_add"), {"email": dana.email, "role": "member"})
            self.assertEqual(r.status_code, 403)
            r = self.client.post(reverse("accounts:member_role", args=[target.code]), {"role": "owner"})
            self.assertEqual(r.status_code, 403)
            r = self.client.post(reverse("accounts:member_remove", args=[target.code]))
            self.assertEqual(r.status_code, 403)
        self.assertFalse(Membership.objects.filter(user=dana).exists())
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
            reverse("accounts:member_add"), {"email": "charlie@example.org", "role": "owner"}
        )
        self.assertContains(r, "Only an owner can add another owner", status_code=400)

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
