"""LWA client-secret rotation as the sandbox plays it, against a real SQS-protocol server (moto_server) with boto3.

Amazon's sources: "Rotating your apps' LWA credentials" (180-day secrets, the old one works seven more days), the
Application Management API use case guide and model (rotateApplicationClientSecret: grantless, 204, usage plan
0.0167/s burst 1), and github:amzn/selling-partner-api-samples use-cases/lwa-rotation (the client_credentials scope
and the sample notifications below). selling-partner-api-models has no JSON schema for these two notification
types under schemas/notifications, so the messages are validated against schemas derived from the samples.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client, TestCase, override_settings
from django.utils.dateparse import parse_datetime
from jsonschema import Draft4Validator

from accounts.models import User
from sandbox import api, applications, services
from sandbox.models import SandboxApplication
from tests.base import PASSWORD
from tests.sandbox.helpers import US, ads_app, connect, listings_app, new_seller, orders_app, refresh
from tests.sqs_server import MOTO_SERVER, REGION, SqsServer, SqsServerMissing, shared_server, sqs_queue

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/sandbox/na/auth/o2/token"
ROTATE_URL = "/sandbox/na/sp/applications/2023-11-30/clientSecret"
PARTICIPATIONS_URL = "/sandbox/na/sp/sellers/v1/marketplaceParticipations"
ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
DAY = 86400

# github:amzn/selling-partner-api-samples use-cases/lwa-rotation/docs/DEPLOYMENT.md, steps 4.1 and 4.2.
SAMPLE_EXPIRY = {
    "notificationVersion": "1.0",
    "notificationType": "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY",
    "payloadVersion": "2023-11-30",
    "eventTime": "2024-01-10T02:15:10.045Z",
    "payload": {
        "applicationOAuthClientSecretExpiry": {
            "clientId": "amzn1.application-oa2-client.xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "clientSecretExpiryTime": "2024-03-03T22:06:39.224Z",
            "clientSecretExpiryReason": "PERIODIC_ROTATION",
        }
    },
    "notificationMetadata": {
        "applicationId": "amzn1.sp.solution.xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "subscriptionId": "a275c00d-260c-4xxxxxxxxxxxf25",
        "publishTime": "2024-01-10T02:15:14.269Z",
        "notificationId": "e7e27216-4970-477a-882c-e4xxxxxxxxxxxxxdc",
    },
}
SAMPLE_NEW_SECRET = {
    "notificationVersion": "1.0",
    "notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET",
    "payloadVersion": "2023-11-30",
    "eventTime": "2024-01-10T22:09:17.456Z",
    "payload": {
        "applicationOAuthClientNewSecret": {
            "clientId": "amzn1.application-oa2-client.6XXXXXXXXXXXXXXXXXXXXXXXXX",
            "newClientSecret": "amzn1.oa2-cs.v1.8b6XXXXXXXXXXXXXXXXXXXXXXXXX",
            "newClientSecretExpiryTime": "2024-07-08T22:09:17.198Z",
            "oldClientSecretExpiryTime": "2024-01-17T22:09:17.180Z",
        }
    },
    "notificationMetadata": {
        "applicationId": "amzn1.sp.solution.6XXXXXXXXXXXXXXXXXXXXXXXXX",
        "subscriptionId": "8594dc0e-78dc-4b05-83a4-a6XXXXXXXXXXXXXX",
        "publishTime": "2024-01-10T22:09:18.706Z",
        "notificationId": "b0805eb9-78f7-49bb-ac0e-XXXXXXXXXXX",
    },
}
AMAZON_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def schema_of(sample: Any, key: str = "") -> dict[str, Any]:
    """A strict JSON schema of the sample: the same keys (all required, no others), strings where it has strings,
    Amazon's time format for *Time keys, and the sample's constant for the version and type fields."""
    if isinstance(sample, dict):
        return {
            "type": "object",
            "required": sorted(sample),
            "additionalProperties": False,
            "properties": {k: schema_of(v, k) for k, v in sample.items()},
        }
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if key.endswith("Time"):
        schema["pattern"] = AMAZON_TIME
    if key in ("notificationVersion", "notificationType", "payloadVersion", "clientSecretExpiryReason"):
        schema["enum"] = [sample]
    return schema


def assert_shaped_like(message: dict[str, Any], sample: dict[str, Any]) -> None:
    validator = Draft4Validator(schema_of(sample))
    assert validator.is_valid(sample)  # the schema describes the sample it comes from
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(message)]
    assert not errors, errors


def at(value: str) -> datetime:
    parsed = parse_datetime(value)
    assert parsed is not None, value
    return parsed


class RotationTestCase(TestCase):
    """A frozen clock, a fresh queue on the real SQS-protocol server, and the settings pointing at it."""

    sqs: SqsServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.sqs = shared_server()

    def setUp(self) -> None:
        api.set_time_scale(0)
        self.endpoint_url, self.queue_url = self.enterContext(sqs_queue(self.sqs))
        self.enterContext(
            override_settings(
                AWS_SQS_ENDPOINT_URL=self.endpoint_url,
                SANDBOX_NOTIFICATIONS_QUEUE_URL=self.queue_url,
                AWS_REGION=REGION,
            )
        )
        services.sync_applications()

    def notifications(self, wait: int = 0) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.sqs.receive(self.queue_url, wait_seconds=wait)]

    def grantless(self, scope: str = ROTATION_SCOPE, app: dict[str, Any] | None = None, **extra: str) -> Any:
        app = app or orders_app()
        return self.client.post(
            TOKEN_URL,
            {
                "grant_type": "client_credentials",
                "scope": scope,
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                **extra,
            },
        )

    def rotation_token(self, app: dict[str, Any] | None = None) -> str:
        response = self.grantless(app=app)
        assert response.status_code == 200, response.content
        return str(response.json()["access_token"])

    def rotate(self, token: str | None = None) -> Any:
        headers = {} if token is None else {"HTTP_X_AMZ_ACCESS_TOKEN": token}
        return self.client.post(ROTATE_URL, **headers)

    def application(self, app: dict[str, Any] | None = None) -> SandboxApplication:
        return SandboxApplication.objects.get(application_id=(app or orders_app())["app_id"])

    def assert_amazon_error(self, response: Any, status: int, code: str) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content)
        body = response.json()
        # application_2023-11-30.json: ErrorList {errors: [Error {code, message, details?}]}.
        self.assertEqual(set(body), {"errors"})
        self.assertEqual(len(body["errors"]), 1)
        self.assertLessEqual(set(body["errors"][0]), {"code", "message", "details"})
        self.assertEqual(body["errors"][0]["code"], code)
        self.assertIn("x-amzn-RequestId", response)
        return dict(body["errors"][0])


class GrantlessTokenTests(RotationTestCase):
    def test_the_rotation_scope_gives_a_grantless_access_token(self) -> None:
        response = self.grantless()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "no-store")
        body = response.json()
        self.assertEqual(set(body), {"access_token", "scope", "token_type", "expires_in"})
        self.assertTrue(body["access_token"].startswith("Atc|"))
        self.assertEqual(
            (body["token_type"], body["expires_in"], body["scope"]), ("bearer", 3600, ROTATION_SCOPE)
        )

    def test_basic_auth_and_both_documented_scopes_are_accepted(self) -> None:
        import base64

        app = orders_app()
        basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
        response = self.client.post(
            TOKEN_URL,
            {"grant_type": "client_credentials", "scope": f"{NOTIFICATIONS_SCOPE}  {ROTATION_SCOPE}"},
            HTTP_AUTHORIZATION=f"Basic {basic}",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(set(response.json()["scope"].split()), {NOTIFICATIONS_SCOPE, ROTATION_SCOPE})

    def test_unknown_scopes_are_invalid_scope_and_a_missing_scope_an_invalid_request(self) -> None:
        for scope in ("profile", f"{ROTATION_SCOPE} profile", "sellingpartnerapi::migration", "x" * 600):
            with self.subTest(scope=scope[:40]):
                response = self.grantless(scope)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"], "invalid_scope")
        for scope in ("", "   "):
            response = self.grantless(scope)
            self.assertEqual((response.status_code, response.json()["error"]), (400, "invalid_request"))

    def test_a_wrong_secret_is_invalid_client_and_an_ads_client_is_unauthorized(self) -> None:
        response = self.grantless(app={**orders_app(), "client_secret": "wrong"})
        self.assertEqual((response.status_code, response.json()["error"]), (401, "invalid_client"))
        response = self.grantless(app=ads_app())
        self.assertEqual((response.status_code, response.json()["error"]), (400, "unauthorized_client"))

    def test_a_rotation_token_opens_no_other_api_and_a_notifications_token_cannot_rotate(self) -> None:
        token = self.rotation_token()
        response = self.client.get(PARTICIPATIONS_URL, HTTP_X_AMZ_ACCESS_TOKEN=token)
        self.assert_amazon_error(response, 403, "Unauthorized")
        notifications = self.grantless(NOTIFICATIONS_SCOPE).json()["access_token"]
        self.assert_amazon_error(self.rotate(notifications), 403, "Unauthorized")
        self.assertEqual(self.notifications(), [])

    def test_a_grantless_token_expires_after_an_hour(self) -> None:
        token = self.rotation_token()
        api.advance_clock(3600)
        error = self.assert_amazon_error(self.rotate(token), 403, "Unauthorized")
        self.assertEqual(error["details"], services.TOKEN_EXPIRED)


class RotationRefusedTests(RotationTestCase):
    def test_without_a_token_or_with_a_wrong_one_nothing_rotates(self) -> None:
        seller = new_seller("Rotation Seller", marketplace_ids=[US])
        seller_token = connect(self.client, seller)["access_token"]
        forged = "Atc|" + self.rotation_token()[4:-3] + "abc"
        before = self.application().client_secret
        for token in (None, "", "Atc|not-a-token", forged, seller_token, "x" * 5000):
            with self.subTest(token=(token or "")[:20]):
                error = self.assert_amazon_error(self.rotate(token), 403, "Unauthorized")
                self.assertEqual(error["message"], "Access to requested resource is denied.")
        self.assertEqual(self.application().client_secret, before)
        self.assertEqual(self.notifications(), [])

    def test_a_token_rotates_only_its_own_application(self) -> None:
        orders_before = self.application().client_secret
        self.assertEqual(self.rotate(self.rotation_token(listings_app())).status_code, 204)
        self.assertEqual(self.application().client_secret, orders_before)
        self.assertNotEqual(self.application(listings_app()).client_secret, listings_app()["client_secret"])
        (message,) = self.notifications()
        self.assertEqual(
            message["payload"]["applicationOAuthClientNewSecret"]["clientId"], listings_app()["client_id"]
        )

    def test_without_a_registered_queue_amazon_answers_400(self) -> None:
        token = self.rotation_token()
        with override_settings(SANDBOX_NOTIFICATIONS_QUEUE_URL=""):
            response = self.rotate(token)
        error = self.assert_amazon_error(response, 400, "InvalidInput")
        self.assertEqual(error["message"], applications.NOT_ENROLLED)
        self.assertEqual(self.application().client_secret, orders_app()["client_secret"])

    def test_a_queue_that_refuses_the_message_leaves_the_secret_as_it_was(self) -> None:
        token = self.rotation_token()
        with override_settings(SANDBOX_NOTIFICATIONS_QUEUE_URL=self.queue_url + "-gone"):
            self.assert_amazon_error(self.rotate(token), 500, "InternalFailure")
        app = self.application()
        self.assertEqual((app.client_secret, app.previous_client_secret), (orders_app()["client_secret"], ""))
        self.assertIsNone(app.secret_rotated_at)
        self.assertEqual(self.rotate(token).status_code, 204)  # and the failure did not spend the quota

    def test_the_usage_plan_allows_one_rotation_a_minute(self) -> None:
        token = self.rotation_token()
        self.assertEqual(self.rotate(token).status_code, 204)
        response = self.rotate(token)
        self.assert_amazon_error(response, 429, "QuotaExceeded")
        self.assertNotIn("x-amzn-RateLimit-Limit", response)
        api.advance_clock(59)
        self.assertEqual(self.rotate(token).status_code, 429)
        api.advance_clock(1)
        self.assertEqual(self.rotate(token).status_code, 204)
        self.assertEqual(len(self.notifications()), 2)

    def test_only_post_is_allowed(self) -> None:
        token = self.rotation_token()
        response = self.client.get(ROTATE_URL, HTTP_X_AMZ_ACCESS_TOKEN=token)
        self.assert_amazon_error(response, 405, "MethodNotAllowed")
        self.assertEqual(self.application().client_secret, orders_app()["client_secret"])


class RotationTests(RotationTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.seller = new_seller("Rotation Seller", marketplace_ids=[US])
        self.tokens = connect(self.client, self.seller)

    def rotate_once(self) -> dict[str, Any]:
        response = self.rotate(self.rotation_token())
        self.assertEqual(response.status_code, 204, response.content)
        self.assertEqual(response.content, b"")
        self.assertEqual(response["x-amzn-RateLimit-Limit"], "0.0167")
        self.assertIn("x-amzn-RequestId", response)
        (message,) = self.notifications(wait=1)
        return message

    def refresh_with(self, secret: str) -> Any:
        return refresh(
            self.client, self.tokens["refresh_token"], app={**orders_app(), "client_secret": secret}
        )

    def test_the_new_secret_notification_has_amazons_shape(self) -> None:
        now = api.now()
        message = self.rotate_once()
        assert_shaped_like(message, SAMPLE_NEW_SECRET)
        secret = message["payload"]["applicationOAuthClientNewSecret"]
        metadata = message["notificationMetadata"]
        app = self.application()
        self.assertEqual(secret["clientId"], orders_app()["client_id"])
        self.assertEqual(secret["newClientSecret"], app.client_secret)
        self.assertTrue(secret["newClientSecret"].startswith("amzn1.oa2-cs.v1."))
        self.assertEqual(metadata["applicationId"], orders_app()["app_id"])
        self.assertEqual(at(metadata["publishTime"]), at(message["eventTime"]))
        self.assertLess(abs(at(metadata["publishTime"]) - now), timedelta(seconds=1))
        published = at(metadata["publishTime"])
        self.assertEqual(at(secret["newClientSecretExpiryTime"]) - published, timedelta(days=180))
        self.assertEqual(at(secret["oldClientSecretExpiryTime"]) - published, timedelta(days=7))
        self.assertEqual(app.previous_client_secret, orders_app()["client_secret"])

    def test_the_new_secret_works_and_the_old_one_until_the_overlap_ends(self) -> None:
        old = orders_app()["client_secret"]
        new = self.rotate_once()["payload"]["applicationOAuthClientNewSecret"]["newClientSecret"]
        self.assertEqual(self.refresh_with(new).status_code, 200)
        self.assertEqual(self.refresh_with(old).status_code, 200)
        self.assertEqual(self.grantless(app={**orders_app(), "client_secret": old}).status_code, 200)
        api.advance_clock(7 * DAY - 1)
        self.assertEqual(self.refresh_with(old).status_code, 200)
        api.advance_clock(1)
        response = self.refresh_with(old)
        self.assertEqual((response.status_code, response.json()["error"]), (401, "invalid_client"))
        self.assertEqual(self.grantless(app={**orders_app(), "client_secret": old}).status_code, 401)
        self.assertEqual(self.refresh_with(new).status_code, 200)

    def test_a_second_rotation_keeps_only_the_secret_before_it(self) -> None:
        first = self.rotate_once()["payload"]["applicationOAuthClientNewSecret"]["newClientSecret"]
        api.advance_clock(60)
        response = self.rotate(
            self.grantless(app={**orders_app(), "client_secret": first}).json()["access_token"]
        )
        self.assertEqual(response.status_code, 204)
        second = self.notifications()[0]["payload"]["applicationOAuthClientNewSecret"]["newClientSecret"]
        self.assertEqual(self.refresh_with(second).status_code, 200)
        self.assertEqual(self.refresh_with(first).status_code, 200)
        self.assertEqual(self.refresh_with(orders_app()["client_secret"]).status_code, 401)

    def test_the_portals_own_clients_rotate_and_read_the_new_secret(self) -> None:
        from amazon import applications as amazon_applications
        from amazon import lwa, sqs
        from tests.sandbox_http import SANDBOX_BASE, sandbox_http

        client = lwa.Client(orders_app()["client_id"], orders_app()["client_secret"])
        with sandbox_http():
            token = lwa.grantless(f"{SANDBOX_BASE}/na/auth/o2/token", client, ROTATION_SCOPE)
            amazon_applications.rotate_client_secret(f"{SANDBOX_BASE}/na/sp", token.access_token)
        received: list[sqs.Notification] = []
        self.assertEqual(sqs.drain(self.queue_url, received.append), 1)
        self.assertEqual(received[0].type, "APPLICATION_OAUTH_CLIENT_NEW_SECRET")
        new = received[0].payload["applicationOAuthClientNewSecret"]["newClientSecret"]
        self.assertEqual(new, self.application().client_secret)
        self.assertEqual(received[0].metadata["applicationId"], orders_app()["app_id"])

    def test_api_rotate_does_the_same_without_http(self) -> None:
        message = api.rotate(orders_app()["client_id"])
        self.assertEqual(self.notifications(), [message])
        new = message["payload"]["applicationOAuthClientNewSecret"]["newClientSecret"]
        self.assertEqual(self.refresh_with(new).status_code, 200)
        with self.assertRaises(applications.RotationRefused) as refused:
            api.rotate(orders_app()["app_id"])
        self.assertEqual(refused.exception.status, 429)
        with self.assertRaises(LookupError):
            api.rotate(ads_app()["client_id"])


class SyncApplicationsTests(RotationTestCase):
    def test_a_new_row_is_seeded_from_the_settings_with_180_days(self) -> None:
        SandboxApplication.objects.all().delete()
        services.sync_applications()
        app = self.application()
        self.assertEqual(app.client_secret, orders_app()["client_secret"])
        self.assertEqual(app.secret_expires_at, api.now() + timedelta(days=180))
        self.assertEqual((app.previous_client_secret, app.previous_secret_expires_at), ("", None))

    def test_a_row_without_an_expiry_gets_one_and_keeps_its_secret(self) -> None:
        SandboxApplication.objects.filter(pk=self.application().pk).update(
            secret_expires_at=None, client_secret="set-in-the-admin"
        )
        services.sync_applications()
        app = self.application()
        self.assertEqual(app.secret_expires_at, api.now() + timedelta(days=180))
        self.assertEqual(app.client_secret, "set-in-the-admin")

    def test_a_rotated_secret_is_never_overwritten_from_the_settings(self) -> None:
        new = api.rotate(orders_app()["app_id"])["payload"]["applicationOAuthClientNewSecret"][
            "newClientSecret"
        ]
        apps = {k: dict(v) for k, v in orders_and_listings().items()}
        apps["orders"]["beta"] = True  # another field changes: the row is updated, the secret is not
        with self.settings(AMAZON_SPAPI_APPS=apps):
            services.sync_applications()
            app = self.application()
            self.assertTrue(app.draft)
            self.assertEqual(app.client_secret, new)
        services.sync_applications()
        self.assertEqual(self.application().client_secret, new)
        response = self.client.get("/sandbox/")  # every request syncs
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.application().client_secret, new)

    def test_a_new_client_id_in_the_settings_seeds_its_secret_again(self) -> None:
        api.rotate(orders_app()["app_id"])
        apps = {k: dict(v) for k, v in orders_and_listings().items()}
        apps["orders"].update(
            client_id="amzn1.application-oa2-client.replaced", client_secret="replaced-secret"
        )
        with self.settings(AMAZON_SPAPI_APPS=apps):
            services.sync_applications()
            app = self.application()
        self.assertEqual(
            (app.client_id, app.client_secret), ("amzn1.application-oa2-client.replaced", "replaced-secret")
        )
        self.assertEqual((app.previous_client_secret, app.secret_rotated_at), ("", None))


def orders_and_listings() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.AMAZON_SPAPI_APPS)


class SecretExpiryTests(RotationTestCase):
    def test_announce_secret_expiry_sends_amazons_expiry_notification(self) -> None:
        expires = self.application().secret_expires_at
        assert expires is not None
        message = api.announce_secret_expiry(orders_app()["client_id"])
        (received,) = self.notifications(wait=1)
        self.assertEqual(received, message)
        assert_shaped_like(received, SAMPLE_EXPIRY)
        payload = received["payload"]["applicationOAuthClientSecretExpiry"]
        self.assertEqual(payload["clientId"], orders_app()["client_id"])
        self.assertEqual(payload["clientSecretExpiryReason"], "PERIODIC_ROTATION")
        self.assertLess(abs(at(payload["clientSecretExpiryTime"]) - expires), timedelta(milliseconds=1))
        self.assertEqual(received["notificationMetadata"]["applicationId"], orders_app()["app_id"])

    def test_days_left_moves_the_expiry_first(self) -> None:
        message = api.announce_secret_expiry(orders_app()["app_id"], days_left=5)
        expiry = at(message["payload"]["applicationOAuthClientSecretExpiry"]["clientSecretExpiryTime"])
        self.assertLess(abs(expiry - (api.now() + timedelta(days=5))), timedelta(milliseconds=1))
        self.assertEqual(self.application().secret_expires_at, api.now() + timedelta(days=5))
        self.assertEqual(len(self.notifications()), 1)

    def test_bad_inputs_send_nothing(self) -> None:
        for days in (-1, 181, 10**9, True, 2.5):
            with self.subTest(days=days), self.assertRaises(ValueError):
                api.announce_secret_expiry(orders_app()["app_id"], days_left=days)  # type: ignore[arg-type]
        for unknown in ("amzn1.sp.solution.unknown", ads_app()["client_id"]):
            with self.subTest(unknown=unknown), self.assertRaises(LookupError):
                api.announce_secret_expiry(unknown)
        with (
            override_settings(SANDBOX_NOTIFICATIONS_QUEUE_URL=""),
            self.assertRaises(applications.NotificationError),
        ):
            api.announce_secret_expiry(orders_app()["app_id"])
        self.assertEqual(self.notifications(), [])

    def test_the_management_command(self) -> None:
        out = StringIO()
        call_command("sandbox_secret_expiry", orders_app()["app_id"], "--days-left", "3", stdout=out)
        self.assertIn("Sent APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY", out.getvalue())
        (message,) = self.notifications()
        self.assertEqual(message["notificationType"], "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY")
        for args in (["amzn1.sp.solution.unknown"], [orders_app()["app_id"], "--days-left", "181"]):
            with self.subTest(args=args), self.assertRaises(CommandError):
                call_command("sandbox_secret_expiry", *args, stdout=StringIO())
        self.assertEqual(self.notifications(), [])


class ControlButtonTests(RotationTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.staff = User.objects.create_user(email="staff@example.org", password=PASSWORD, is_staff=True)
        self.member = User.objects.create_user(email="member@example.org", password=PASSWORD)

    def post(self, user: User | None, **data: str) -> Any:
        client = Client()
        if user is not None:
            client.force_login(user)
        form = {"action": "announce_secret_expiry", "application": str(self.application().pk), **data}
        return client.post("/sandbox/", form)

    @override_settings(SANDBOX_CONTROL_OPEN=False)
    def test_staff_announce_from_the_control_page(self) -> None:
        client = Client()
        client.force_login(self.staff)
        page = client.get("/sandbox/")
        # One button per SP-API application (orders, listings), none for the Ads client.
        self.assertContains(page, 'value="announce_secret_expiry"', count=2)
        response = self.post(self.staff, days_left="7")
        self.assertRedirects(response, "/sandbox/", fetch_redirect_response=False)
        self.assertTrue(any("Announced" in str(m) for m in get_messages(response.wsgi_request)))
        (message,) = self.notifications()
        expiry = at(message["payload"]["applicationOAuthClientSecretExpiry"]["clientSecretExpiryTime"])
        self.assertLess(abs(expiry - (api.now() + timedelta(days=7))), timedelta(milliseconds=1))

    @override_settings(SANDBOX_CONTROL_OPEN=False)
    def test_others_cannot_and_bad_inputs_send_nothing(self) -> None:
        self.assertEqual(self.post(self.member).status_code, 403)
        self.assertEqual(self.post(None).status_code, 302)
        ads = SandboxApplication.objects.get(client_id=ads_app()["client_id"])
        for data in (
            {"days_left": "-1"},
            {"days_left": "181"},
            {"days_left": "1e3"},
            {"days_left": "9" * 5000},
            {"application": str(ads.pk)},
            {"application": "9" * 40},
            {"application": "x"},
        ):
            with self.subTest(data={k: v[:10] for k, v in data.items()}):
                response = self.post(self.staff, **data)
                self.assertEqual(response.status_code, 302)
                self.assertTrue(get_messages(response.wsgi_request))
        response = self.post(self.staff, action="something-else")
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.notifications(), [])

    def test_the_button_is_csrf_protected(self) -> None:
        strict = Client(enforce_csrf_checks=True)
        response = strict.post("/sandbox/", {"action": "announce_secret_expiry", "application": "1"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.notifications(), [])


def test_a_missing_moto_server_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.sqs_server.MOTO_SERVER", Path("/nonexistent/moto_server"))
    with pytest.raises(SqsServerMissing):
        SqsServer()
    assert MOTO_SERVER.exists()


@pytest.mark.process
def test_scripts_sqs_sh_starts_a_server_with_the_queue_and_stops_it() -> None:
    script = """
source scripts/lib.sh
source scripts/sqs.sh
sqs_start >/dev/null
"$PY" - <<'PY'
import os
import boto3
sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["AWS_SQS_ENDPOINT_URL"])
url = os.environ["AMAZON_NOTIFICATIONS_QUEUE_URL"]
assert url.endswith("/portal-notifications"), url
assert os.environ["AWS_SQS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
sqs.send_message(QueueUrl=url, MessageBody="ping")
print(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"])
PY
pid=$SQS_PID
sqs_stop
sleep 0.2
if kill -0 "$pid" 2>/dev/null; then echo "still running"; exit 1; fi
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ping"), result.stdout
