from __future__ import annotations

from io import StringIO

from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from authorizations import crypto
from authorizations.models import Authorization
from tests.base import BaseTestCase

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


class TokenEncryptionTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.auth = Authorization.objects.get(store=self.store, capability="orders")

    def test_tokens_are_stored_encrypted_and_read_back(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD]):
            self.auth.set_refresh_token("Atzr|secret-refresh")
            self.auth.save()
            self.auth.refresh_from_db()
            self.assertNotIn("secret-refresh", self.auth.refresh_token_encrypted)
            self.assertEqual(self.auth.get_refresh_token(), "Atzr|secret-refresh")

    def test_rotation_re_encrypts_with_the_newest_key_so_the_old_key_can_go(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD]):
            self.auth.set_refresh_token("Atzr|rotate-me")
            self.auth.save()
        before = Authorization.objects.get(pk=self.auth.pk).refresh_token_encrypted
        out = StringIO()
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW, OLD]):
            call_command("rotate_tokens", stdout=out)
        self.assertIn("Re-encrypted 1 authorization token", out.getvalue())
        self.auth.refresh_from_db()
        self.assertNotEqual(self.auth.refresh_token_encrypted, before)
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW]):
            self.assertEqual(self.auth.get_refresh_token(), "Atzr|rotate-me")

    def test_rotation_without_the_old_key_fails_clearly_and_changes_nothing(self) -> None:
        with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD]):
            self.auth.set_refresh_token("Atzr|x")
            self.auth.save()
        before = Authorization.objects.get(pk=self.auth.pk).refresh_token_encrypted
        with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW]), self.assertRaises(CommandError):
            call_command("rotate_tokens", stdout=StringIO())
        self.assertEqual(Authorization.objects.get(pk=self.auth.pk).refresh_token_encrypted, before)

    def test_an_invalid_key_is_a_configuration_error(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        with override_settings(TOKEN_ENCRYPTION_KEYS=["not-a-key"]), self.assertRaises(ImproperlyConfigured):
            crypto.encrypt("x")
