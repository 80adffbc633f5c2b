"""POST /api/v1/stores/{code}/recheck: the live "query authorization result" for a key, the way the store page's
buttons ask it (authorizations.grant_checks.on_demand: the same check, the same per-authorization limit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from api.models import ApiKey
from authorizations.attempts import expire_stale
from authorizations.grant_checks import checkable, live_retry_after, on_demand
from authorizations.models import Authorization
from authorizations.reasons import describe
from authorizations.status import explain
from stores.models import Store


@dataclass(frozen=True)
class TooManyChecks(Exception):
    """Some authorization asked for was checked as often as the live-check limit allows: nothing was checked."""

    retry_after: int


def recheck_store(
    request: HttpRequest, key: ApiKey, store: Store, capability: str | None
) -> list[dict[str, Any]]:
    """Check each of the store's authorizations holding a token (or only `capability`) at Amazon now.

    All or nothing against the limit: when one of them may not be checked yet, none is, and TooManyChecks says
    when to come back (a half-done answer would leave the caller guessing which statuses are fresh).
    """
    if expire_stale():
        # An attempt that ended may have moved a capability back to "not authorized".
        store.refresh_from_db()
    auths = [
        a
        for a in Authorization.objects.filter(store=store).select_related("store")
        if not capability or a.capability == capability
    ]
    waits = [live_retry_after(a) for a in auths if checkable(a)]
    if any(waits):
        raise TooManyChecks(max(waits))
    detail = f"API key {key.prefix} {key.name}"
    return [_check(request, a, detail) for a in sorted(auths, key=lambda a: a.capability)]


def _check(request: HttpRequest, auth: Authorization, detail: str) -> dict[str, Any]:
    asked = checkable(auth)
    result = on_demand(auth, request, detail=detail) if asked else "not_checked"
    if result == "ok":
        message, todo = explain(auth).headline, ""
    elif asked:
        message, todo = describe(result)
    else:
        now = explain(auth)
        message, todo = now.headline, now.todo
    return {
        "capability": auth.capability,
        "checked": asked and result != "too_many_checks",
        "result": result,
        "status": auth.status,
        "message": message,
        "todo": todo,
    }
