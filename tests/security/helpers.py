from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log line of every logger, at DEBUG, formatted as it would be written (exceptions included)."""
    root = logging.getLogger()
    handler = _ListHandler()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


PORTAL_APPS = ("accounts", "stores", "authorizations", "sync")


def portal_rows() -> Iterator[tuple[Any, dict[str, Any]]]:
    """(model, row values) of every row of every model of the portal's own apps (not the sandbox)."""
    for label in PORTAL_APPS:
        for model in apps.get_app_config(label).get_models():
            for row in model.objects.values():
                yield model, row


def is_on_site(location: str) -> bool:
    """A redirect target a browser resolves to this site (not //host, /\\host, or another scheme/host)."""
    if location.startswith(("http://testserver/", "https://testserver/")):
        return True
    return location.startswith("/") and not location.startswith(("//", "/\\"))
