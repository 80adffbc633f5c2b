"""Request-time guard wrapped around every sandbox view (in sandbox/urls.py).

- 404 unless settings.SANDBOX_ACTIVE: config/urls.py only mounts the sandbox when it is active, and this check makes
  sure a view reached any other way (or under override_settings) refuses as well.
- 400 for a NUL character anywhere in the path, the query string, a form field or a header: PostgreSQL cannot store
  or compare text containing NUL, so such a value would otherwise end in a 500. Each family of views answers in its
  own error format (the `refuse` callable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

NUL = "\x00"
NUL_MESSAGE = "A request parameter contains a NUL character."

View = Callable[..., HttpResponse]
Refuse = Callable[[HttpRequest, str], HttpResponse]


def contains_nul(request: HttpRequest, kwargs: dict[str, Any] | None = None) -> bool:
    if NUL in request.path or any(NUL in str(v) for v in (kwargs or {}).values()):
        return True
    for data in (request.GET, request.POST):
        for key, values in data.lists():
            if NUL in key or any(NUL in v for v in values):
                return True
    return any(
        NUL in value
        for key, value in request.META.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    )


def guarded(view: View, refuse: Refuse) -> View:
    @functools.wraps(view)  # keeps csrf_exempt and the view's name
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_ACTIVE:
            raise Http404("The sandbox is not active.")
        if contains_nul(request, kwargs):
            return refuse(request, NUL_MESSAGE)
        return view(request, *args, **kwargs)

    wrapper.sandbox_guarded = True  # type: ignore[attr-defined]
    return wrapper
