from __future__ import annotations

from django import template

from webhooks.models import Attempt, Delivery
from webhooks.words import error_words

register = template.Library()


@register.filter
def delivery_error(row: Delivery | Attempt) -> str:
    """Why a delivery or an attempt failed, in the reader's language."""
    if isinstance(row, Delivery):
        return error_words(row.last_error, row.last_error_detail)
    return error_words(row.error, row.error_detail)


@register.filter
def delivery_badge(status: str) -> str:
    return {"succeeded": "authorized", "failed": "failed"}.get(status, "pending")
