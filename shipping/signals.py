"""Signals of the shipping layer: upper layers (webhooks) listen without shipping importing them.

`package_settled` is sent inside the transaction that settled a package, once per outcome: when it became confirmed
(exactly once per send that Amazon accepted) or failed. Keyword arguments: `package` (the Package, its order and
store loaded).
"""

from __future__ import annotations

from django.dispatch import Signal

package_settled = Signal()
