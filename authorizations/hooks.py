"""What other layers start when a capability becomes authorized, without authorizations importing them.

The arrows of docs/architecture.md run authorizations → sync, yet installing a grant must start sync's work (the
order backfill, the first inventory push). sync registers its starter here in `SyncConfig.ready()`; authorizations
calls `authorized()` after the grant is installed. The work itself stays in sync.jobs.
"""

from __future__ import annotations

from collections.abc import Callable

from authorizations.models import Authorization

Listener = Callable[[Authorization], None]
_listeners: list[Listener] = []


def on_authorized(listener: Listener) -> Listener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def authorized(auth: Authorization) -> None:
    for listener in _listeners:
        listener(auth)
