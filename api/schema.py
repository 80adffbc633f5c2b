"""The OpenAPI document's shared parts: every operation documents the error answers it can give, in the one error
shape of api/errors.py, so a client generated from the document (and schemathesis in tests/api) knows them."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable machine value, e.g. `not_found`, `invalid`.",
                },
                "message": {"type": "string", "description": "In the request's language (Accept-Language)."},
                "fields": {
                    "type": "object",
                    "description": "For `invalid`: each field (or filter) with its messages.",
                    "additionalProperties": True,
                },
            },
        }
    },
}

ALWAYS = {
    "401": "No key, or a key that is not valid, revoked (`key_revoked`) or expired (`key_expired`).",
    "404": "Nothing here for this key: another tenant's resource, one outside the key's stores, no such path, or "
    "a cursor the API never handed out (`invalid_cursor`).",
    "406": "The API answers JSON only (`Accept`).",
    "429": "Over the key's rate (`API_KEY_RATE`) or an action's own limit; wait `Retry-After` seconds.",
}
WRITES = {
    "400": "A value is not valid: `fields` says which.",
    "403": "A read key may not write (`permission_denied`).",
    "415": "Send JSON (`Content-Type: application/json`).",
}
READS = {"400": "A filter or cursor is not valid: `fields` says which."}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).

    Also marks each request body's schema `additionalProperties: false`: the API refuses a field it does not know
    (a typo must not pass silently as "check every capability"), and the document says so; and each optional query
    parameter `allowEmptyValue: true`: an empty filter is no filter, as an empty form field (DRF's reading of a
    query string), which the document would otherwise call invalid.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if not operation.get("security"):
                continue  # the public document itself
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            for media in operation.get("requestBody", {}).get("content", {}).values():
                name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                if name in schemas:
                    schemas[name]["additionalProperties"] = False
            errors = {**ALWAYS, **(READS if method == "get" else WRITES)}
            for status, text in errors.items():
                operation["responses"].setdefault(status, {"description": text, "content": ref})
    return result
