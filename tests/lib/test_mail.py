"""Plain-text mail (lib/mail.py) and the mails sent through it: one-line subjects, the portal's language."""

from __future__ import annotations

from unittest import mock

from django.core import mail
from django.test import TestCase, override_settings

from authorizations import alarms
from authorizations.models import PlatformAlarm
from lib import mail as lib_mail
from tests.base import make_user


class SendTests(TestCase):
    def test_recipients_are_sent_one_mail_once_each_and_empty_addresses_dropped(self) -> None:
        lib_mail.send(
            "authorizations/email/alarm", {"alarm": self.alarm()}, ["a@example.org", "", "a@example.org"]
        )
        self.assertEqual([m.to for m in mail.outbox], [["a@example.org"]])

    def test_no_recipient_sends_nothing(self) -> None:
        lib_mail.send("authorizations/email/alarm", {"alarm": self.alarm()}, ["", ""])
        self.assertEqual(mail.outbox, [])

    def test_a_notice_that_cannot_be_sent_is_logged_and_any_other_mail_raises(self) -> None:
        ctx = {"alarm": self.alarm()}
        with mock.patch("django.core.mail.send_mail", side_effect=OSError("smtp down")):
            with self.assertLogs("lib.mail", "ERROR") as logs:
                lib_mail.send("authorizations/email/alarm", ctx, ["a@example.org"], notice=True)
            self.assertIn(
                "could not send the authorizations/email/alarm email to 1 recipient(s)", logs.output[0]
            )
            with self.assertRaises(OSError):
                lib_mail.send("authorizations/email/alarm", ctx, ["a@example.org"])

    def alarm(self) -> PlatformAlarm:
        return PlatformAlarm(kind="invalid_client", subject="orders\r\nBcc: x@example.org", detail="refused")

    def test_the_subject_is_one_line_whatever_the_data(self) -> None:
        subject, _ = lib_mail.render("authorizations/email/alarm", {"alarm": self.alarm()})
        self.assertEqual(subject, "Platform alarm: invalid_client (orders Bcc: x@example.org)")


class AlarmMailTests(TestCase):
    def setUp(self) -> None:
        make_user("root@example.org").__class__.objects.filter(email="root@example.org").update(
            is_superuser=True
        )

    def test_an_alarm_mails_the_superusers_when_no_admins_are_set(self) -> None:
        alarms.raise_alarm("invalid_client", "orders", "Login with Amazon refused the client credentials")
        self.assertEqual(len(mail.outbox), 1)
        message = mail.outbox[0]
        self.assertEqual(
            (message.to, message.subject), (["root@example.org"], "Platform alarm: invalid_client (orders)")
        )
        self.assertIn("Login with Amazon refused the client credentials", message.body)
        self.assertRegex(
            message.body, r"Since \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Stores are not changed by this alarm"
        )

    @override_settings(ADMINS=[("Ops", "ops@example.org")], EMAIL_SUBJECT_PREFIX="[portal] ")
    def test_an_alarm_mails_the_admins_when_they_are_set(self) -> None:
        alarms.raise_alarm("invalid_client", "orders")
        self.assertEqual(
            [(m.to, m.subject) for m in mail.outbox],
            [(["ops@example.org"], "[portal] Platform alarm: invalid_client (orders)")],
        )

    @override_settings(LANGUAGE_CODE="zh-hans")
    def test_the_alarm_mail_is_written_in_the_portals_language(self) -> None:
        alarms.raise_alarm("invalid_client", "orders", "detail")
        message = mail.outbox[0]
        self.assertEqual(message.subject, "平台告警：invalid_client（orders）")
        self.assertIn("此告警不会改变任何店铺", message.body)
