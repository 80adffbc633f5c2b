"""Cross-cutting request guards."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext

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
            if request.path_info.startswith("/api/"):
                # The platform API answers every error in its one JSON shape, this one too.
                from api.errors import error_body

                body = error_body("invalid", gettext("A value contains a NUL character."))
                return JsonResponse(body, status=400)
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


# Django's session keys: 32 characters of lower-case letters and digits (sessions.backends.base.VALID_KEY_CHARS).
_SESSION_KEY = re.compile(r"[a-z0-9]{32,40}")


class SessionCookieGuardMiddleware:
    """Forget a session cookie that cannot be a session key, before SessionMiddleware looks it up.

    Django only checks a key's length before querying the session table; a NUL in the cookie made PostgreSQL raise
    on every page (500, even anonymously). Such a cookie is treated as absent (a fresh anonymous session) and the
    browser is told to drop it. Placed before SessionMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = settings.SESSION_COOKIE_NAME
        value = request.COOKIES.get(name)
        if value is None or _SESSION_KEY.fullmatch(value):
            return self.get_response(request)
        log.info("session cookie ignored: not a session key (%d characters)", len(value))
        del request.COOKIES[name]
        response = self.get_response(request)
        if name not in response.cookies:  # a new session set in this response wins
            response.delete_cookie(
                name,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,  # type: ignore[arg-type]  # "Lax" (settings)
            )
        return response
