"""Signals of the authorizations layer: upper layers (webhooks) listen without authorizations importing them.

`authorization_changed` is sent by `status.recompute`, inside the transaction that changed a capability's status or
the store's combined status, once per such change (a save that changed neither sends nothing). Keyword argument:
`store` (the Store, its combined status and signature already updated). A receiver that writes rows (an outbox)
writes them in that transaction, so they commit or roll back with the change.
"""

from __future__ import annotations

from django.dispatch import Signal

authorization_changed = Signal()
