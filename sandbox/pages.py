"""Browser pages: the Seller Central consent page, the Login with Amazon authorize page and the control page."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from amazon import marketplaces
from sandbox import applications, catalog, clock, faults, services
from sandbox.models import SandboxAppAuthorization, SandboxApplication, SandboxAppstoreRequest, SandboxSeller


def with_params(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # Pages whose URLs carry OAuth values must not leak them off-site. "same-origin" rather than "no-referrer":
    # browsers send "Origin: null" for a form POST from a no-referrer page, which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def error_page(request: HttpRequest, code: str, message: str, status: int = 400) -> HttpResponse:
    return _no_referrer(
        render(request, "sandbox/error.html", {"code": code, "message": message}, status=status)
    )


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The guard's refusal (sandbox/guard.py) in the pages' format."""
    return error_page(request, "invalid_request", message, 400)


# Longest redirect_uri accepted (SandboxAuthCode.redirect_uri stores it).
MAX_REDIRECT_URI = 2000


def _redirect_uri_error(redirect_uri: str, application: SandboxApplication) -> str:
    """Amazon compares the redirect_uri whole with the registered ones (scheme, host, port, path)."""
    if not redirect_uri:
        return "No redirect_uri was given."
    if len(redirect_uri) > MAX_REDIRECT_URI or redirect_uri not in application.redirect_uris:
        return "The redirect_uri is not one of the application's registered URIs."
    return ""


def _region_marketplaces(region: str) -> list[marketplaces.Marketplace]:
    return marketplaces.sites_in_region(region)


def _pick_seller(request: HttpRequest, region: str) -> tuple[SandboxSeller | None, str]:
    """The seller chosen on a sign-in form (an existing one or a new one); an error message otherwise."""
    choice = request.POST.get("seller", "")
    if choice and choice != "new":
        seller = None
        if len(choice) <= services.MAX_SELLER_ID:
            seller = SandboxSeller.objects.filter(selling_partner_id=choice, region=region).first()
        return (seller, "") if seller else (None, "Choose a simulated seller of this region.")
    name = request.POST.get("new_name", "").strip()
    if not name:
        return None, "Choose a simulated seller, or give a name to create one."
    chosen = request.POST.getlist("new_marketplaces")
    if len(chosen) > len(marketplaces.MARKETPLACES):
        return None, "Choose the new seller's marketplaces from this region's list."
    try:
        return services.create_seller(name, region, chosen or None, 4, clock.now()), ""
    except ValueError as exc:
        return None, str(exc)


def _sign_in_context(region: str) -> dict[str, Any]:
    return {
        "region": region,
        "region_label": marketplaces.region_label(region),
        "sellers": SandboxSeller.objects.filter(region=region),
        "marketplaces": _region_marketplaces(region),
    }


def consent(request: HttpRequest, host: str) -> HttpResponse:
    region = catalog.region_for_seller_central_host(host)
    if region is None:
        raise Http404("Unknown Seller Central host")
    application_id = request.GET.get("application_id", "")
    state = request.GET.get("state", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    application = services.application_by_id(application_id) if application_id else None
    if application is None or application.kind != SandboxApplication.Kind.SP:
        return error_page(request, "MD1000", "This application is not available for authorization.")
    if application.draft and request.GET.get("version") != "beta":
        return error_page(
            request, "MD1000", "This application is in draft; it can only be authorized with version=beta."
        )
    # redirect_uri is optional in the consent URL: without it Amazon uses the app's first registered OAuth
    # Redirect URI (SP-API "Website authorization workflow", step 1 parameters).
    redirect_uri = redirect_uri or (application.redirect_uris[0] if application.redirect_uris else "")
    redirect_error = _redirect_uri_error(redirect_uri, application)
    if redirect_error:
        return error_page(request, "MD5101", redirect_error)

    context = {**_sign_in_context(region), "application": application, "host": host, "error": ""}
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return redirect(
                with_params(
                    redirect_uri,
                    {
                        "state": state,
                        "error": "access_denied",
                        "error_description": "The seller denied the request.",
                    },
                )
            )
        # Checked before picking, so an unticked box never leaves a half-created seller behind.
        seller, error = (None, "Tick “I understand” to confirm.")
        if request.POST.get("understand"):
            seller, error = _pick_seller(request, region)
        if seller is None:
            context["error"] = error
            return _no_referrer(render(request, "sandbox/consent.html", context, status=200))
        at = clock.now()
        auth = services.authorize(seller, application, at)
        code = services.issue_code(auth, redirect_uri, at)
        return redirect(
            with_params(
                redirect_uri,
                {
                    "state": state,
                    "selling_partner_id": seller.selling_partner_id,
                    "spapi_oauth_code": code.code,
                },
            )
        )
    return _no_referrer(render(request, "sandbox/consent.html", context))


def lwa_authorize(request: HttpRequest, region: str) -> HttpResponse:
    client_id = request.GET.get("client_id", "")
    scope = request.GET.get("scope", "")
    state = request.GET.get("state", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    application = services.application_by_client_id(client_id) if client_id else None
    if application is None:
        return error_page(request, "invalid_client", "The client_id is unknown.")
    if _redirect_uri_error(redirect_uri, application):
        return error_page(
            request, "invalid_request", "The redirect_uri is not an allowed return URL of this client."
        )
    if application.kind != SandboxApplication.Kind.ADS:
        return redirect(with_params(redirect_uri, {"error": "unauthorized_client", "state": state}))
    if request.GET.get("response_type") != "code":
        return redirect(
            with_params(
                redirect_uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": "response_type must be code",
                    "state": state,
                },
            )  # fmt: skip
        )
    if scope != services.ADS_SCOPE:
        return redirect(
            with_params(
                redirect_uri,
                {"error": "invalid_scope", "error_description": f"Unknown scope: {scope}", "state": state},
            )
        )
    context = {**_sign_in_context(region), "application": application, "scope": scope, "error": ""}
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return redirect(
                with_params(
                    redirect_uri,
                    {
                        "error": "access_denied",
                        "error_description": "The user denied the request.",
                        "state": state,
                    },
                )
            )
        seller, error = _pick_seller(request, region)
        if seller is None:
            context["error"] = error
            return _no_referrer(render(request, "sandbox/lwa_authorize.html", context))
        at = clock.now()
        auth = services.authorize(seller, application, at)
        code = services.issue_code(auth, redirect_uri, at, scope=scope)
        return redirect(with_params(redirect_uri, {"code": code.code, "scope": scope, "state": state}))
    return _no_referrer(render(request, "sandbox/lwa_authorize.html", context))


ControlView = Callable[..., HttpResponse]


def control_access(view: ControlView) -> ControlView:
    """The control page is the sandbox operator's console, not part of the simulated Amazon: staff only, unless
    settings.SANDBOX_CONTROL_OPEN (development) opens it. Anonymous → the portal's login page; others → 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_CONTROL_OPEN:
            if not request.user.is_authenticated:
                # After logging in, come back to the page (a POST-only action's URL would answer 405).
                back = request.get_full_path() if request.method == "GET" else reverse("sandbox:control")
                return redirect_to_login(back, reverse("account_login"))
            if not request.user.is_staff:
                return error_page(
                    request, "forbidden", "The sandbox control page is only open to staff.", status=403
                )
        return view(request, *args, **kwargs)

    return wrapper


def _announce_secret_expiry(request: HttpRequest) -> HttpResponseRedirect:
    """The control page's "Announce secret expiry" button (an SP-API application, optional days left 0-180)."""
    raw_pk = request.POST.get("application", "")
    application = None
    if raw_pk.isdigit() and len(raw_pk) <= 18:
        application = SandboxApplication.objects.filter(
            pk=int(raw_pk), kind=SandboxApplication.Kind.SP
        ).first()
    try:
        if application is None:
            raise ValueError("Choose an SP-API application.")
        message = applications.announce_secret_expiry(application, request.POST.get("days_left", ""))
    except (ValueError, applications.NotificationError) as exc:
        messages.error(request, str(exc))
    else:
        expiry = message["payload"]["applicationOAuthClientSecretExpiry"]["clientSecretExpiryTime"]
        messages.success(request, f"Announced the secret expiry of {application.name} ({expiry}).")
    return redirect(reverse("sandbox:control"))


@control_access
def control(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The page's own form (no route of its own): the control page's access rules and CSRF apply.
        if request.POST.get("action") == "announce_secret_expiry":
            return _announce_secret_expiry(request)
        messages.error(request, "Unknown action.")
        return redirect(reverse("sandbox:control"))
    services.sync_applications()
    at = clock.now()
    # Explicit order_by: Meta.ordering is dropped from GROUP BY queries.
    sellers = (
        SandboxSeller.objects.annotate(
            order_count=Count("orders", filter=Q(orders__created_time__lte=at), distinct=True),
            listing_count=Count("listings", distinct=True),
        )
        .order_by("region", "name", "id")
        .prefetch_related("authorizations__application")
    )
    sp_apps = [
        a for a in SandboxApplication.objects.all() if a.kind == SandboxApplication.Kind.SP and a.login_path
    ]
    rows = []
    for seller in sellers:
        authorized_ids = {a.application_id for a in seller.authorizations.all()}
        rows.append(
            {
                "seller": seller,
                "sites": [m.site for m in map(catalog.marketplace, seller.marketplace_ids) if m],
                "authorizations": [{"auth": a, "status": a.status(at)} for a in seller.authorizations.all()],
                "appstore_apps": [a for a in sp_apps if a.pk not in authorized_ids],
            }
        )
    current_faults = faults.all_faults()
    cfg = clock.config()
    return render(
        request,
        "sandbox/control.html",
        {
            "now": at,
            "time_scale": cfg.time_scale,
            "rows": rows,
            "applications": SandboxApplication.objects.all(),
            "regions": [(code, marketplaces.region_label(code), _region_marketplaces(code))
                        for code in marketplaces.REGION_CODES],
            "fault_rows": [(e, current_faults.get(e, {})) for e in faults.ENDPOINTS],
            "fault_kinds": faults.KINDS,
            "max_delay": f"{faults.MAX_DELAY_SECONDS:g}",
            "min_scale": f"{clock.MIN_SCALE:g}",
            "max_scale": f"{clock.MAX_SCALE:g}",
            "max_days_left": applications.MAX_DAYS_LEFT,
        },
    )  # fmt: skip


@control_access
@require_POST
def control_revoke(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    auth = get_object_or_404(SandboxAppAuthorization.objects.select_related("seller", "application"), pk=pk)
    services.revoke(auth, clock.now())
    messages.success(request, f"Revoked {auth.application.name} for {auth.seller.name}.")
    return redirect(reverse("sandbox:control"))


@control_access
@require_POST
def control_expire(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    auth = get_object_or_404(SandboxAppAuthorization.objects.select_related("seller", "application"), pk=pk)
    services.expire(auth, clock.now())
    messages.success(request, f"Expired {auth.application.name} for {auth.seller.name}.")
    return redirect(reverse("sandbox:control"))


@control_access
@require_POST
def control_create_seller(request: HttpRequest) -> HttpResponseRedirect:
    name = request.POST.get("name", "")
    region = request.POST.get("region", "")
    try:
        orders_per_day = services.clean_orders_per_day(request.POST.get("orders_per_day") or "4")
        chosen = request.POST.getlist("marketplaces")
        if len(chosen) > len(marketplaces.MARKETPLACES):
            raise ValueError("Choose the seller's marketplaces from the list.")
        known = [m for m in map(catalog.marketplace, chosen) if m]
        in_region = [m.marketplace_id for m in known if m.region == region]
        seller = services.create_seller(name, region, in_region or None, orders_per_day, clock.now())
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Created {seller.name} ({seller.selling_partner_id}).")
    return redirect(reverse("sandbox:control"))


@control_access
@require_POST
def control_faults(request: HttpRequest) -> HttpResponseRedirect:
    # Every row is checked before any is saved, so a bad row leaves the faults as they were.
    try:
        wanted = [
            (
                endpoint,
                request.POST.get(f"kind_{endpoint}", "none"),
                faults.parse_delay(request.POST.get(f"delay_{endpoint}", "")),
            )
            for endpoint in faults.ENDPOINTS
        ]
        for endpoint, kind, delay in wanted:
            faults.validate(endpoint, kind, delay)
        for endpoint, kind, delay in wanted:
            faults.set_fault(endpoint, kind, delay)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Faults saved.")
    return redirect(reverse("sandbox:control"))


@control_access
@require_POST
def control_time_scale(request: HttpRequest) -> HttpResponseRedirect:
    try:
        clock.set_scale(clock.parse_scale(request.POST.get("time_scale", "")))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Time scale saved.")
    return redirect(reverse("sandbox:control"))


APPSTORE_REQUEST_TTL = timedelta(minutes=15)


@control_access
@require_POST
def control_appstore(request: HttpRequest, seller_pk: int, app_pk: int) -> HttpResponseRedirect:
    """ "Authorize from the Appstore" / "Re-authorize" in Manage your apps: send the seller to the developer's
    Login URI with amazon_callback_uri, amazon_state and selling_partner_id, as Amazon does."""
    seller = get_object_or_404(SandboxSeller, pk=seller_pk)
    application = get_object_or_404(SandboxApplication, pk=app_pk, kind=SandboxApplication.Kind.SP)
    if not application.login_path:
        messages.error(request, "This application has no Login URI.")
        return redirect(reverse("sandbox:control"))
    amazon_state = secrets.token_urlsafe(24)
    SandboxAppstoreRequest.objects.create(
        amazon_state=amazon_state, seller=seller, application=application, created_at=clock.now()
    )
    # Amazon documents amazon_callback_uri on the Appstore's own host: https://amazon.com/apps/authorize/confirm/
    # <app id> ("Selling Partner Appstore authorization workflow", step 2); the sandbox plays it at sellercentral/
    # amazon.com/.
    host = "amazon.com"
    callback = request.build_absolute_uri(
        reverse("sandbox:appstore_confirm", args=[host, application.application_id])
    )
    params = {
        "amazon_callback_uri": callback,
        "amazon_state": amazon_state,
        "selling_partner_id": seller.selling_partner_id,
    }
    if application.draft:
        params["version"] = "beta"
    return redirect(with_params(application.login_path, params))


def appstore_confirm(request: HttpRequest, host: str, application_id: str) -> HttpResponse:
    """`apps/authorize/confirm/{app id}`: the developer sends the seller back with redirect_uri, amazon_state and
    its own state; Amazon then calls redirect_uri with a code, as in the website workflow."""
    application = services.application_by_id(application_id)
    if application is None or application.kind != SandboxApplication.Kind.SP:
        return error_page(request, "MD1000", "This application is not available for authorization.")
    redirect_uri = request.GET.get("redirect_uri", "")
    state = request.GET.get("state", "")
    if _redirect_uri_error(redirect_uri, application):
        return error_page(
            request, "MD5101", "The redirect_uri is not one of the application's registered URIs."
        )
    at = clock.now()
    pending = (
        SandboxAppstoreRequest.objects.filter(
            amazon_state=request.GET.get("amazon_state", ""), application=application, used_at__isnull=True
        )
        .select_related("seller")
        .first()
    )
    if pending is None or at - pending.created_at > APPSTORE_REQUEST_TTL:
        return error_page(
            request, "MD9100", "The amazon_state is unknown, used or expired. Start again from the Appstore."
        )
    if not SandboxAppstoreRequest.objects.filter(pk=pending.pk, used_at__isnull=True).update(used_at=at):
        return error_page(request, "MD9100", "The amazon_state was already used.")
    auth = services.authorize(pending.seller, application, at)
    code = services.issue_code(auth, redirect_uri, at)
    return redirect(
        with_params(
            redirect_uri,
            {
                "state": state,
                "selling_partner_id": pending.seller.selling_partner_id,
                "spapi_oauth_code": code.code,
            },
        )
    )
