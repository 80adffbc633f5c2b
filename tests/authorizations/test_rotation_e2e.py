"""A full automatic rotation of an application secret: Amazon's expiry notice, our rotation call, the new secret
from the queue, the old one's expiry — through the sandbox (playing Amazon) and a real SQS-protocol server (moto),
read with the same boto3 code as in production. Calls made all along must all succeed."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.test import override_settings

from authorizations import app_secrets
from authorizations.grant_checks import recheck
from authorizations.models import ApplicationCredential, AuditEvent, Authorization
from sandbox import api as sandbox_api
from sandbox.models import SandboxApplication
from sync import tasks
from tests.authorizations.helpers import FlowTestCase
from tests.sqs_server import sqs_queue

Kind = ApplicationCredential.Kind


class AutomaticRotationTests(FlowTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.queue = self.enterContext(sqs_queue())
        endpoint, queue_url = self.queue
        self.enterContext(
            override_settings(
                AWS_SQS_ENDPOINT_URL=endpoint,
                AMAZON_NOTIFICATIONS_QUEUE_URL=queue_url,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=queue_url,
            )
        )
        self.app_id = settings.AMAZON_SPAPI_APPS["orders"]["app_id"]
        self.authorize("orders")
        self.auth = Authorization.objects.get(store=self.store, capability="orders")
        self.timeline: list[str] = []

    def call(self, when: str) -> None:
        """One real call with the portal's current credentials; every one must succeed."""
        result = recheck(self.auth)
        self.timeline.append(f"{when}: recheck {result}")
        self.assertEqual(result, "ok", when)

    def test_the_secret_rotates_by_itself_with_no_failed_call(self) -> None:
        old_secret = app_secrets.credential(Kind.ORDERS).secret
        self.call("before")
        # Amazon announces the expiry (20 days left): the minute job reads it and rotates at once (lead 30 days);
        # Amazon answers 204 and puts the new secret on the queue, which the same run reads next.
        sandbox_api.announce_secret_expiry(self.app_id, days_left=20)
        self.assertEqual(tasks.read_notifications(), 2)
        self.assertIsNotNone(app_secrets.credential(Kind.ORDERS).rotation_requested_at)
        row = app_secrets.credential(Kind.ORDERS)
        sandbox_secret = SandboxApplication.objects.get(application_id=self.app_id).client_secret
        self.assertEqual(row.secret, sandbox_secret)
        self.assertNotEqual(row.secret, old_secret)
        self.assertEqual(row.previous_secret, old_secret)
        self.assertAlmostEqual((row.secret_expires_at - row.rotated_at).days, 180, delta=1)
        self.assertAlmostEqual((row.previous_expires_at - row.rotated_at).days, 7, delta=1)
        self.call("with the new secret")
        # A re-delivered notification changes nothing.
        sandbox_api.announce_secret_expiry(self.app_id)  # (the new, far expiry: no second rotation)
        self.assertEqual(tasks.read_notifications(), 1)
        self.assertEqual(app_secrets.credential(Kind.ORDERS).secret, sandbox_secret)
        # Amazon's overlap ends: the old secret is refused at Amazon; the portal no longer needs it.
        sandbox_api.advance_clock(timedelta(days=8).total_seconds())
        self.call("after the old secret expired at Amazon")
        actions = list(
            AuditEvent.objects.filter(action__startswith="credentials.").values_list("action", flat=True)
        )
        self.assertEqual(
            sorted(actions),
            [
                "credentials.expiry_announced",
                "credentials.expiry_announced",
                "credentials.rotated",
                "credentials.rotation_requested",
            ],
        )
        print("\n".join(self.timeline))

    def test_the_old_secret_alone_fails_after_the_overlap(self) -> None:
        old_secret = app_secrets.credential(Kind.ORDERS).secret
        sandbox_api.rotate(self.app_id)
        self.assertEqual(tasks.read_notifications(), 1)
        sandbox_api.advance_clock(timedelta(days=8).total_seconds())
        # Forcing the portal back to the old secret alone shows Amazon refuses it now: one alarm, store unchanged.
        row = app_secrets.credential(Kind.ORDERS)
        from authorizations import crypto

        row.secret_encrypted, row.previous_secret_encrypted = crypto.encrypt(old_secret), ""
        row.save()
        self.assertEqual(recheck(self.auth), "platform_credentials")
        self.assertEqual(Authorization.objects.get(pk=self.auth.pk).status, "authorized")
