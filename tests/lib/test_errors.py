"""One base for the errors that say why in a code (lib/errors.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.test import SimpleTestCase

from accounts.invitations import InvitationUnusable
from authorizations.credentials import VerificationError
from lib.errors import ReasonError
from sync.order_changes import Refused

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "amazon", "authorizations", "config", "sandbox", "stores", "sync")


def classes_keeping_their_own_reason() -> list[str]:
    """Classes of the apps whose own methods store `self.reason` (ReasonError does that for them)."""
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ClassDef):
                    continue
                for target in ast.walk(node):
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.ctx, ast.Store)
                        and isinstance(target.value, ast.Name)
                        and (target.value.id, target.attr) == ("self", "reason")
                    ):
                        found.append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


class ReasonErrorTests(SimpleTestCase):
    def test_no_error_class_of_the_apps_keeps_a_reason_of_its_own(self) -> None:
        self.assertEqual(classes_keeping_their_own_reason(), [])

    def test_errors_with_a_reason_share_the_one_base(self) -> None:
        for cls in (InvitationUnusable, VerificationError, Refused):
            with self.subTest(cls=cls.__name__):
                error = cls("revoked")
                self.assertIsInstance(error, ReasonError)
                self.assertEqual((error.reason, error.detail, str(error)), ("revoked", "", "revoked"))

    def test_the_detail_is_kept_beside_the_reason_and_stays_out_of_the_message(self) -> None:
        error = VerificationError("verification_failed", "participations answered 500")
        self.assertEqual(error.detail, "participations answered 500")
        self.assertEqual(str(error), "verification_failed")
