"""Validators for names people give things (store nicknames, distributor account names)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Unicode's explicit bidirectional formatting characters (UAX #9): marks, embeddings, overrides and isolates.
# A right-to-left override makes "\u202eevil" read "live" in every list, email and CSV where the name is shown.
BIDI_CONTROLS = frozenset(
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT / RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)


def refuse_bidi_controls(value: str) -> None:
    """Refuse text carrying a bidi control. Right-to-left scripts themselves are fine: they need no controls."""
    if any(ch in BIDI_CONTROLS for ch in value):
        raise ValidationError(
            _(
                "Remove the invisible characters that change the text direction (Unicode bidi controls): "
                "they make a name read differently from what it is."
            ),
            code="bidi_control",
        )
