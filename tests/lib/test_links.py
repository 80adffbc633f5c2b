"""Absolute links (lib/links.py): the public URL, else the request's origin, else the demo's address; never a path."""

from __future__ import annotations

from django.core import mail
from django.test import RequestFactory, SimpleTestCase, override_settings

from accounts import invitations
from accounts.models import Membership
from lib.links import absolute_url
from tests.base import BaseTestCase


@override_settings(PUBLIC_BASE_URL="", EMAIL_LINK_BASE_URL="http://demo.example:8000")
class AbsoluteUrlTests(SimpleTestCase):
    @override_settings(PUBLIC_BASE_URL="https://portal.example.com/")
    def test_the_public_base_url_wins_over_the_request_and_the_demo_address(self) -> None:
        request = RequestFactory().get("/", HTTP_HOST="elsewhere.example")
        self.assertEqual(absolute_url("/team/", request), "https://portal.example.com/team/")
        self.assertEqual(absolute_url("/team/"), "https://portal.example.com/team/")

    def test_without_a_public_base_url_the_request_gives_its_own_origin(self) -> None:
        request = RequestFactory().get("/", HTTP_HOST="testserver")
        self.assertEqual(absolute_url("/team/", request), "http://testserver/team/")

    def test_without_a_public_base_url_or_a_request_the_link_goes_to_the_demo_address(self) -> None:
        self.assertEqual(absolute_url("/team/"), "http://demo.example:8000/team/")


@override_settings(PUBLIC_BASE_URL="", EMAIL_LINK_BASE_URL="http://demo.example:8000")
class InvitationLinkTests(BaseTestCase):
    def test_an_invitation_sent_without_a_request_carries_an_absolute_link(self) -> None:
        owner = Membership.objects.get(tenant=self.tenant, user=self.alice)
        invitations.invite(owner, "dana@example.org", Membership.Role.MEMBER)
        self.assertEqual(len(mail.outbox), 1)
        self.assertRegex(mail.outbox[0].body, r"http://demo\.example:8000/team/invitations/[A-Za-z0-9_-]+/")
        self.assertIn("http://demo.example:8000/team/", mail.outbox[0].body)
