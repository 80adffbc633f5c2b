"""Cross-cutting request guards."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

log = logging.getLogger(__name__)


class RefuseNulMiddleware:
    """Refuse any request with a NUL character in its path, query or form fields: 400, before a view runs.

    PostgreSQL cannot store U+0000 in text (psycopg raises, which answered 500 on search boxes, the OAuth callback
    and the sandbox's endpoints), and no legitimate input of this portal or of Amazon's callbacks contains one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            log.info("request refused: NUL character in %s %r", request.method, request.path_info)
            return render(request, "400.html", status=400)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = request.META.get("CONTENT_TYPE", "")
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                try:
                    fields = request.POST.lists()
                except MultiPartParserError:
                    return False  # the view answers the malformed body itself
                return any("\x00" in k or any("\x00" in v for v in vs) for k, vs in fields)
        return False
