from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from amazon import marketplaces
from authorizations import appstore, flow, holding, lifecycle
from authorizations.access import get_authorization_for_user
from authorizations.attempts import AttemptError, CallbackResult, CallbackState, expire_stale
from authorizations.forms import AppstoreForm, StartForm
from authorizations.grant_checks import on_demand as live_check
from authorizations.grant_checks import recheck as recheck_grant
from authorizations.models import Authorization, AuthorizationAttempt, AuthStatus, Capability
from authorizations.reasons import describe
from authorizations.status import explain
from authorizations.store_actions import create_store
from stores.models import Store

log = logging.getLogger(__name__)
Outcome = AuthorizationAttempt.Outcome


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # OAuth values travel in query strings; Amazon asks that they never leak through a Referer header. Only on
    # redirects: a page with a form needs the site-wide "same-origin" policy, because browsers send "Origin: null"
    # for a POST from a no-referrer page and the CSRF check would refuse it. "same-origin" never leaks off-site.
    if response.status_code in (301, 302, 303, 307, 308):
        response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@login_required
def authorize_start(request: AuthenticatedHttpRequest, code: str, capability: str) -> HttpResponse:
    auth, membership = get_authorization_for_user(request, code, capability, change=True)
    ctx = {"store": auth.store, "capability": Capability(auth.capability), "auth": auth, "form": StartForm()}
    return render(request, "authorizations/start.html", ctx)


@require_POST
@login_required
def authorize_begin(request: AuthenticatedHttpRequest, code: str, capability: str) -> HttpResponse:
    auth, membership = get_authorization_for_user(request, code, capability, change=True)
    store, cap = auth.store, Capability(auth.capability)
    form = StartForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors}, status=400)
        ctx = {"store": store, "capability": cap, "auth": auth, "form": form}
        return render(request, "authorizations/start.html", ctx, status=400)
    attempt = flow.start_attempt(request, store, cap)
    waiting = reverse("authorizations:attempt", args=[store.code, cap.value, attempt.code])
    if wants_json:
        return JsonResponse({"consent_url": attempt.consent_url, "waiting_url": waiting})
    return redirect(waiting)


@require_GET
@login_required
@never_cache
def attempt_detail(
    request: AuthenticatedHttpRequest, code: str, capability: str, attempt_code: str
) -> HttpResponse:
    auth, membership = get_authorization_for_user(request, code, capability)
    store, cap = auth.store, Capability(auth.capability)
    attempt = get_object_or_404(AuthorizationAttempt, store=store, capability=cap, code=attempt_code)
    if attempt.is_open and attempt.is_expired:
        expire_stale()
        attempt.refresh_from_db()
        # The attempt's end may have moved the capability back to "not authorized".
        auth.refresh_from_db()
    if request.GET.get("format") == "json":
        return JsonResponse({"outcome": attempt.outcome, "status": auth.status})
    reason_text, todo = (
        describe(attempt.reason) if attempt.reason and attempt.reason != "renewed" else ("", "")
    )
    others = (
        Authorization.objects.filter(store=store)
        .exclude(capability=cap)
        .exclude(status=AuthStatus.AUTHORIZED)
    )
    ctx = {
        "store": store,
        "membership": membership,
        "capability": cap,
        "attempt": attempt,
        "auth": auth,
        "reason_text": reason_text,
        "todo": todo,
        "next_capabilities": [a for a in others if a.capability != Capability.ADS or cap != Capability.ADS],
        "Outcome": Outcome,
        # The capability's state now: a finished attempt's page leads with it when the two no longer agree.
        "current": explain(auth),
    }
    return _no_referrer(render(request, "authorizations/attempt.html", ctx))


def _latest_attempt(store: Store, cap: Capability) -> AuthorizationAttempt | None:
    return (
        AuthorizationAttempt.objects.filter(store=store, capability=cap)
        .order_by("-started_at", "-id")
        .first()
    )


def _to_attempt(attempt: AuthorizationAttempt) -> HttpResponse:
    return redirect(
        "authorizations:attempt",
        code=attempt.store.code,
        capability=attempt.capability,
        attempt_code=attempt.code,
    )


@require_GET
@login_required
def latest_attempt(request: AuthenticatedHttpRequest, code: str, capability: str) -> HttpResponse:
    """The latest attempt's page (the read-only way to see an authorization result)."""
    auth, membership = get_authorization_for_user(request, code, capability)
    store = auth.store
    attempt = _latest_attempt(store, Capability(auth.capability))
    if attempt is None:
        messages.info(request, _("No authorization was started for this capability yet."))
        return redirect("stores:detail", code=store.code)
    return _to_attempt(attempt)


@require_POST
@login_required
def query_result(request: AuthenticatedHttpRequest, code: str, capability: str) -> HttpResponse:
    """ "Query authorization result" (SaleYee's 查询授权结果): the live result, not a replay of an old attempt.

    While an attempt is open its page says what the seller must still do. Otherwise the capability's current state
    is the answer: a capability holding a token is checked at Amazon now, as "Re-check now" does, and the attempt
    page leads with that state (after a revoke it no longer says the old attempt's "succeeded").
    """
    auth, membership = get_authorization_for_user(request, code, capability, change=True)
    store, cap = auth.store, Capability(auth.capability)
    if expire_stale():
        # An attempt that ended may have moved the capability back to "not authorized".
        auth.refresh_from_db()
    attempt = _latest_attempt(store, cap)
    live = auth.has_token and auth.status in (AuthStatus.AUTHORIZED, AuthStatus.NEEDS_REAUTHORIZATION)
    if attempt is not None and attempt.is_open:
        if auth.has_token:
            result = live_check(auth, request)
            if result == "ok":
                messages.info(
                    request,
                    _(
                        "Amazon confirms the current authorization still works. The new one is not finished yet."
                    ),
                )
            else:
                messages.warning(request, describe(result)[0])
        return _to_attempt(attempt)
    if live:
        result = live_check(auth, request)
        if result == "ok":
            messages.success(
                request,
                _("%(capability)s: Amazon confirms the authorization works.") % {"capability": cap.label},
            )
        elif result != "not_authorized":
            text, todo = describe(result)
            messages.warning(request, f"{cap.label}: {text} {todo}")
    if attempt is None:
        now = explain(auth)
        messages.info(request, " ".join(p for p in (now.headline + ".", now.reason, now.todo) if p))
        return redirect("stores:detail", code=store.code)
    return _to_attempt(attempt)


@require_POST
@login_required
def recheck(request: AuthenticatedHttpRequest, code: str, capability: str) -> HttpResponse:
    auth, membership = get_authorization_for_user(request, code, capability, change=True)
    store, cap = auth.store, Capability(auth.capability)
    result = live_check(auth, request)
    if result == "ok":
        messages.success(
            request, _("%(capability)s: Amazon confirms the authorization works.") % {"capability": cap.label}
        )
    elif result == "not_authorized":
        messages.info(
            request,
            _("%(capability)s is not authorized, so there is nothing to check.") % {"capability": cap.label},
        )
    else:
        text, todo = describe(result)
        messages.warning(request, f"{cap.label}{pgettext('label separator', ': ')}{text} {todo}")
    return redirect("stores:detail", code=store.code)


def _callback_response(request: HttpRequest, result: CallbackResult) -> HttpResponse:
    attempt = result.attempt
    store = attempt.store
    if result.state == CallbackState.QUARANTINED:
        finish = reverse("amazon:finish", args=[attempt.code])
        if flow.may_attach_here(request, attempt):
            # Even a member of the tenant first sees what would be connected, and confirms with a POST.
            response: HttpResponse = redirect(finish)
        else:
            response = _quarantine_page(request, finish)
        if result.holder:
            holding.remember(request, response, attempt, result.holder)
        return _no_referrer(response)
    if flow.may_attach_here(request, attempt):
        if result.state == CallbackState.COMPLETED:
            messages.success(
                request,
                _("%(capability)s is authorized for “%(store)s”.")
                % {"capability": attempt.get_capability_display(), "store": store.nickname},
            )
            return _no_referrer(redirect("stores:detail", code=store.code))
        return _no_referrer(
            redirect(
                "authorizations:attempt",
                code=store.code,
                capability=attempt.capability,
                attempt_code=attempt.code,
            )
        )
    # A browser that is not a member: say what happened, reveal nothing about the tenant or store.
    text, todo = describe(attempt.reason)
    return _no_referrer(
        render(request, "authorizations/callback_ended.html", {"text": text, "todo": todo}, status=200)
    )


def _quarantine_page(request: HttpRequest, finish_url: str) -> HttpResponse:
    """Ask this browser to log in as a member; reveals nothing about the tenant, the store or the seller."""
    login = f"{reverse('account_login')}?{urlencode({'next': finish_url})}"
    ctx = {"login_url": login, "finish_url": finish_url, "logged_in": request.user.is_authenticated}
    return render(request, "authorizations/callback_quarantine.html", ctx)


def _callback_error(request: HttpRequest, reason: str) -> HttpResponse:
    texts = {
        "unknown": _("This authorization link is not valid. Start the authorization again from the portal."),
        "used": _(
            "This authorization link was already used. Open the store in the portal to see the result."
        ),
        "expired": _(
            "This authorization link expired (it is valid for 15 minutes). Start the authorization again from the portal."
        ),
    }
    log.info("callback refused: %s", reason)
    return _no_referrer(
        render(
            request,
            "authorizations/callback_error.html",
            {"text": texts.get(reason, texts["unknown"])},
            status=400,
        )
    )


@require_GET
@never_cache
def callback(request: HttpRequest) -> HttpResponse:
    try:
        result = flow.handle_spapi_callback(request)
    except AttemptError as e:
        return _callback_error(request, e.reason)
    return _callback_response(request, result)


@require_GET
@never_cache
def ads_callback(request: HttpRequest) -> HttpResponse:
    try:
        result = flow.handle_ads_callback(request)
    except AttemptError as e:
        return _callback_error(request, e.reason)
    return _callback_response(request, result)


def _held_or_error(request: HttpRequest, attempt_code: str) -> AuthorizationAttempt | HttpResponse:
    """The held attempt this browser may act on, or the error page (unknown, used, expired)."""
    attempt = holding.held_attempt(request, attempt_code)
    if attempt is None:
        return _callback_error(request, "unknown")
    try:
        flow.open_held(request, attempt)
    except AttemptError as e:
        response = _callback_error(request, e.reason)
        holding.forget(request, response, attempt)
        return response
    return attempt


def _held_here(request: HttpRequest, attempt_code: str) -> AuthorizationAttempt | HttpResponse:
    """For Connect and Decline: the held attempt, which this logged-in member may settle (403 otherwise)."""
    attempt = _held_or_error(request, attempt_code)
    if not isinstance(attempt, HttpResponse) and not flow.may_attach_here(request, attempt):
        raise PermissionDenied
    return attempt


@require_GET
@login_required
@never_cache
def finish(request: AuthenticatedHttpRequest, attempt_code: str) -> HttpResponse:
    """In the browser holding a grant: name what it would connect and ask to confirm or decline."""
    attempt = _held_or_error(request, attempt_code)
    if isinstance(attempt, HttpResponse):
        return attempt
    if not flow.may_attach_here(request, attempt):
        return _no_referrer(_quarantine_page(request, reverse("amazon:finish", args=[attempt.code])))
    ctx = {"attempt": attempt, "store": attempt.store, "tenant": attempt.store.tenant}
    return _no_referrer(render(request, "authorizations/finish.html", ctx))


@require_POST
@login_required
def finish_confirm(request: AuthenticatedHttpRequest, attempt_code: str) -> HttpResponse:
    attempt = _held_here(request, attempt_code)
    if isinstance(attempt, HttpResponse):
        return attempt
    try:
        result = flow.release_quarantine(request, attempt)
    except AttemptError as e:
        return _callback_error(request, e.reason)
    response = _callback_response(request, result)
    holding.forget(request, response, attempt)
    return response


@require_POST
@login_required
def finish_decline(request: AuthenticatedHttpRequest, attempt_code: str) -> HttpResponse:
    """Discard the held grant; the person who started the attempt is told."""
    attempt = _held_here(request, attempt_code)
    if isinstance(attempt, HttpResponse):
        return attempt
    try:
        flow.decline_quarantine(request, attempt)
    except AttemptError as e:
        return _callback_error(request, e.reason)
    messages.info(request, _("Nothing was connected. The person who started the authorization is told."))
    response = redirect("home")
    holding.forget(request, response, attempt)
    return response


LIFECYCLE_ACTIONS = {
    "disable": lifecycle.disable,
    "enable": lifecycle.enable,
    "revoke": lifecycle.revoke,
}


def _lifecycle_target(
    request: HttpRequest, code: str, capability: str, action: str
) -> tuple[Store, Authorization]:
    auth, membership = get_authorization_for_user(request, code, capability, change=True)
    if action not in LIFECYCLE_ACTIONS:
        raise Http404
    return auth.store, auth


@require_GET
@login_required
def lifecycle_confirm(
    request: AuthenticatedHttpRequest, code: str, capability: str, action: str
) -> HttpResponse:
    store, auth = _lifecycle_target(request, code, capability, action)
    return render(
        request, "authorizations/lifecycle_confirm.html", {"store": store, "auth": auth, "action": action}
    )


@require_POST
@login_required
def lifecycle_apply(
    request: AuthenticatedHttpRequest, code: str, capability: str, action: str
) -> HttpResponse:
    store, auth = _lifecycle_target(request, code, capability, action)
    try:
        LIFECYCLE_ACTIONS[action](request, auth)
    except lifecycle.LifecycleError as e:
        log.info("lifecycle %s refused for %s/%s: %s", action, store.code, capability, e)
        messages.error(request, _("This cannot be done in the capability's current state."))
        return redirect("stores:detail", code=store.code)
    done = {
        "disable": _("%(capability)s is disabled. Its token is kept; its jobs are stopped."),
        "enable": _("%(capability)s is enabled again."),
        "revoke": _(
            "%(capability)s is revoked: the portal deleted its token. Also remove the app in Seller Central under “Manage your apps”."
        ),
    }
    messages.success(request, done[action] % {"capability": auth.get_capability_display()})
    if action == "enable":
        recheck_grant(auth, request)
    return redirect("stores:detail", code=store.code)


@require_GET
@never_cache
def appstore_login(request: HttpRequest, capability: str) -> HttpResponse:
    """Our OAuth Login URI: Amazon sends the seller here from the Appstore or from "Manage your apps"."""
    req = appstore.parse(capability, request.GET.dict())
    if req is None:
        log.info("appstore login refused: bad parameters")
        return render(
            request,
            "authorizations/callback_error.html",
            {
                "text": _(
                    "This link from Amazon is not valid. Start again from Amazon, or add the store in the portal."
                )
            },
            status=400,
        )
    request.session[appstore.SESSION_KEY] = req.as_session()
    target = reverse("amazon:appstore_continue")
    if not request.user.is_authenticated:
        messages.info(
            request,
            _(
                "Amazon sent you here to connect the seller account %(seller)s (%(capability)s). Log in, or sign "
                "up if you are new; you then choose the store it belongs to."
            )
            % {"seller": req.selling_partner_id, "capability": Capability(req.capability).label},
        )
        return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
    return redirect(target)


def _appstore_context(
    request: AuthenticatedHttpRequest, choice: str
) -> tuple[appstore.AppstoreRequest | None, Membership | None, str, list[Store]]:
    """The entry, the membership, the region offered ("" until known or chosen) and the stores offered in it."""
    req = appstore.from_session(request)
    membership = request.membership
    if req is None or membership is None:
        return req, membership, "", []
    region = appstore.chosen_region(req, membership.tenant, choice)
    return req, membership, region, appstore.offered_stores(req, membership.tenant, region)


def _appstore_blocked(req: appstore.AppstoreRequest, membership: Membership, region: str) -> str:
    other = (
        Store.objects.active()
        .filter(selling_partner_id=req.selling_partner_id, **({"region": region} if region else {}))
        .exclude(tenant=membership.tenant)
    )
    if other.exists():
        return describe("account_taken")[0]
    if not membership.can_change:
        return _(
            "Your role in this distributor account does not allow connecting stores. Ask an owner or admin."
        )
    return ""


def _appstore_page(
    request: HttpRequest,
    req: appstore.AppstoreRequest,
    region: str,
    form: AppstoreForm | None,
    blocked: str,
    status: int = 200,
) -> HttpResponse:
    ctx = {
        "req": req,
        "form": form,
        "blocked": blocked,
        "capability": Capability(req.capability),
        "region": region,
        "region_label": marketplaces.region_label(region) if region else "",
        # Only an entry whose callback names no region lets the user choose (or change) it.
        "regions": [] if req.region else marketplaces.REGIONS,
    }
    return render(request, "authorizations/appstore.html", ctx, status=status)


@require_GET
@login_required
@never_cache
def appstore_continue(request: AuthenticatedHttpRequest) -> HttpResponse:
    req, membership, region, stores = _appstore_context(request, request.GET.get("region", ""))
    if req is None:
        return render(
            request, "authorizations/callback_error.html", {"text": _("Start again from Amazon.")}, status=400
        )
    if membership is None:
        return redirect(f"{reverse('accounts:create_tenant')}")
    blocked = _appstore_blocked(req, membership, region)
    form = AppstoreForm(stores=stores, tenant=membership.tenant, region=region) if region else None
    return _appstore_page(request, req, region, form, blocked)


@require_POST
@login_required
def appstore_confirm(request: AuthenticatedHttpRequest) -> HttpResponse:
    req, membership, region, stores = _appstore_context(request, request.POST.get("region", ""))
    if req is None or membership is None:
        return render(
            request, "authorizations/callback_error.html", {"text": _("Start again from Amazon.")}, status=400
        )
    blocked = _appstore_blocked(req, membership, region)
    if blocked:
        if not membership.can_change:
            raise PermissionDenied
        return redirect("amazon:appstore_continue")
    if not region:
        return redirect("amazon:appstore_continue")
    form = AppstoreForm(request.POST, stores=stores, tenant=membership.tenant, region=region)
    if not form.is_valid():
        return _appstore_page(request, req, region, form, "", status=400)
    if form.cleaned_data["store"] == "new":
        store = create_store(request, membership, **form.cleaned_data["new_store"])
    else:
        store = next(s for s in stores if str(s.code) == form.cleaned_data["store"])
    attempt = flow.start_attempt(request, store, req.capability, appstore_request=req)
    request.session.pop(appstore.SESSION_KEY, None)
    return redirect(attempt.consent_url)


@require_POST
@login_required
def appstore_cancel(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Cancel on the Appstore entry: forget Amazon's request. Amazon issues the authorization code only after we
    send the browser back to amazon_callback_uri (Selling Partner Appstore authorization workflow, steps 5 to 7),
    so not going back declines: nothing is authorized at Amazon and nothing changes here."""
    had = request.session.pop(appstore.SESSION_KEY, None) is not None
    if had:
        messages.info(
            request,
            _(
                "Nothing was connected: Amazon received no authorization. To connect this seller account later, "
                "start again from Amazon or authorize a store here."
            ),
        )
    return redirect("stores:list" if request.membership else "stores:index")
