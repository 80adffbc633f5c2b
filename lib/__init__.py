"""Helpers every app shares and none owns: absolute links (`links`), plain-text mail (`mail`), the base of errors
that say why in a code (`errors`).

This package knows no app: it imports Django and the standard library only, never a portal module, so any layer
may use it (docs/architecture.md, "Layers"; checked by tests/config/test_layers.py).
"""
