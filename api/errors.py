"""One error shape for every API answer: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = CODES.get(response.status_code, "error")
    fields: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        message = _("Some values are not valid.")
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        message = str(exc.detail)
        detail_code = exc.get_codes()
        if isinstance(detail_code, str):
            code = detail_code
    else:
        message = str(response.data.get("detail", "")) if isinstance(response.data, dict) else ""
    response.data = error_body(code, message, fields)
    return response


def invalid_cursor() -> exceptions.NotFound:
    """A cursor the API never handed out (or mangled on the way): 404 `invalid_cursor`, every paged route alike (DRF's
    cursor pages answer 404 too: there is no such page)."""
    return exceptions.NotFound(
        _("This cursor is not one the API handed out; start again without it."), code="invalid_cursor"
    )


@csrf_exempt
def not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Any other path under /api/v1/: the API's 404, in its shape (not the portal's HTML page)."""
    return JsonResponse(error_body("not_found", _("There is nothing at this address.")), status=404)
