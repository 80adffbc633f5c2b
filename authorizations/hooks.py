"""What other layers start or stop when a capability becomes authorized or stops being authorized, without
authorizations importing them.

The arrows of docs/architecture.md run authorizations → sync, yet installing a grant must start sync's work (the
order backfill, the first inventory push), and ending one must let sync undo what it set up at Amazon (the seller's
ORDER_CHANGE subscription). sync registers its listeners here in `SyncConfig.ready()`; authorizations calls
`authorized()` after the grant is installed and `ended()` when a capability stops being authorized (disable, revoke,
archive, needs re-authorization). The work itself stays in sync.
"""

from __future__ import annotations

from collections.abc import Callable

from authorizations.models import Authorization

Listener = Callable[[Authorization], None]
_listeners: list[Listener] = []
_ended_listeners: list[Listener] = []


def on_authorized(listener: Listener) -> Listener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def authorized(auth: Authorization) -> None:
    """Called when a capability becomes authorized (install.py, lifecycle.enable).

    What it starts lives in sync, subscribed in sync/apps.py (`SyncConfig.ready`):
    sync.tasks.start_authorized_work (orders: prepare the backfill, enqueue the first order sync and the
    ORDER_CHANGE subscription; listings: the first inventory push).
    """
    for listener in _listeners:
        listener(auth)


def on_ended(listener: Listener) -> Listener:
    if listener not in _ended_listeners:
        _ended_listeners.append(listener)
    return listener


def ended(auth: Authorization) -> None:
    """Called inside the transaction that ends the authorization, with the authorization as it stood (its seller id
    and its store's still set): a listener reads what it needs now and defers its work until after the commit.

    Subscribed in sync/apps.py: sync.tasks.end_authorized_work (deletes an ORDER_CHANGE subscription no live
    authorization uses).
    """
    for listener in _ended_listeners:
        listener(auth)
