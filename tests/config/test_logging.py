"""One line in the log for each event: Django's own records are not printed twice, nor a 403's traceback."""

from __future__ import annotations

import io
import logging

from django.urls import reverse

from tests.base import BaseTestCase


def handlers_reached(name: str) -> list[logging.Handler]:
    """The handlers a record of this logger passes through (its own, then its parents' while it propagates)."""
    found: list[logging.Handler] = []
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        found += logger.handlers
        logger = logger.parent if logger.propagate else None
    return found


class LoggingTests(BaseTestCase):
    def test_a_403_prints_its_traceback_once(self) -> None:
        out = io.StringIO()
        for handler in handlers_reached("django.request"):
            if type(handler) is logging.StreamHandler:  # the configured ones, not the test runner's capture
                self.addCleanup(handler.setStream, handler.setStream(out))
        self.login(self.vera)  # a viewer: the edit page is forbidden
        with self.settings(DEBUG=True):
            r = self.client.get(reverse("stores:edit", args=[self.store.code]))
        self.assertEqual(r.status_code, 403)
        self.assertEqual(out.getvalue().count("Forbidden"), 1, out.getvalue())
        self.assertEqual(out.getvalue().count("Traceback"), 1)
