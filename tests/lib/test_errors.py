"""One base for the errors that say why in a code (lib/errors.py)."""

from __future__ import annotations

from django.test import SimpleTestCase

from accounts.invitations import InvitationUnusable
from authorizations.credentials import VerificationError
from authorizations.flow import AttemptError
from authorizations.install import _Conflict
from lib.errors import ReasonError
from sync.order_changes import Refused


class ReasonErrorTests(SimpleTestCase):
    def test_every_error_with_a_reason_shares_the_one_base(self) -> None:
        for cls in (InvitationUnusable, AttemptError, _Conflict, VerificationError, Refused):
            with self.subTest(cls=cls.__name__):
                error = cls("revoked")
                self.assertIsInstance(error, ReasonError)
                self.assertEqual((error.reason, error.detail, str(error)), ("revoked", "", "revoked"))

    def test_the_detail_is_kept_beside_the_reason_and_stays_out_of_the_message(self) -> None:
        error = VerificationError("verification_failed", "participations answered 500")
        self.assertEqual(error.detail, "participations answered 500")
        self.assertEqual(str(error), "verification_failed")
