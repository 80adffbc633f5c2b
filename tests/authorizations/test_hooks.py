"""The hooks that let authorizations start and stop sync's work without importing sync (authorizations/hooks.py)."""

from __future__ import annotations

import inspect

from django.test import SimpleTestCase

from authorizations import hooks


def named(listener: hooks.Listener) -> str:
    return f"{listener.__module__}.{listener.__qualname__}"


class HookTests(SimpleTestCase):
    def test_what_each_hook_starts_is_named_where_it_is_called(self) -> None:
        for hook, listeners in ((hooks.authorized, hooks._listeners), (hooks.ended, hooks._ended_listeners)):
            with self.subTest(hook=hook.__name__):
                self.assertTrue(listeners)
                doc = inspect.getdoc(hook) or ""
                self.assertEqual([n for n in map(named, listeners) if n not in " ".join(doc.split())], [])
