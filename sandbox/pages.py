"""Browser pages: the Seller Central consent page, the Login with Amazon authorize page and the control page."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sandbox import catalog, clock, faults, services
from sandbox.models import SandboxAppAuthorization, SandboxApplication, SandboxAppstoreRequest, SandboxSeller
from stores import marketplaces


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


def _region_marketplaces(region: str) -> list[marketplaces.Marketplace]:
    return marketplaces.sites_in_region(region)


def _pick_seller(request: HttpRequest, region: str) -> tuple[SandboxSeller | None, str]:
    """The seller chosen on a sign-in form (an existing one or a new one); an error message otherwise."""
    choice = request.POST.get("seller", "")
    if choice and choice != "new":
        seller = SandboxSeller.objects.filter(selling_partner_id=choice, region=region).first()
        return (seller, "") if seller else (None, "Choose a simulated seller of this region.")
    name = request.POST.get("new_name", "").strip()
    if not name:
        return None, "Choose a simulated seller, or give a name to create one."
    chosen = request.POST.getlist("new_marketplaces")
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
    if not redirect_uri:
        return error_page(request, "MD5101", "No redirect_uri was given.")
    if urlsplit(redirect_uri).path not in application.redirect_paths:
        return error_page(
            request, "MD5101", "The redirect_uri is not one of the application's registered URIs."
        )

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
    if not redirect_uri or urlsplit(redirect_uri).path not in application.redirect_paths:
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


def control(request: HttpRequest) -> HttpResponse:
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
        },
    )  # fmt: skip


@require_POST
def control_revoke(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    auth = get_object_or_404(SandboxAppAuthorization.objects.select_related("seller", "application"), pk=pk)
    services.revoke(auth, clock.now())
    messages.success(request, f"Revoked {auth.application.name} for {auth.seller.name}.")
    return redirect(reverse("sandbox:control"))


@require_POST
def control_expire(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    auth = get_object_or_404(SandboxAppAuthorization.objects.select_related("seller", "application"), pk=pk)
    services.expire(auth, clock.now())
    messages.success(request, f"Expired {auth.application.name} for {auth.seller.name}.")
    return redirect(reverse("sandbox:control"))


@require_POST
def control_create_seller(request: HttpRequest) -> HttpResponseRedirect:
    name = request.POST.get("name", "").strip()
    region = request.POST.get("region", "")
    try:
        orders_per_day = int(request.POST.get("orders_per_day") or 4)
        if not name:
            raise ValueError("A seller needs a name.")
        if orders_per_day < 0 or orders_per_day > 500:
            raise ValueError("Orders per day must be between 0 and 500.")
        chosen = [m for m in request.POST.getlist("marketplaces") if catalog.marketplace(m)]
        in_region = [m for m in chosen if catalog.marketplace(m).region == region]  # type: ignore[union-attr]
        seller = services.create_seller(name, region, in_region or None, orders_per_day, clock.now())
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Created {seller.name} ({seller.selling_partner_id}).")
    return redirect(reverse("sandbox:control"))


@require_POST
def control_faults(request: HttpRequest) -> HttpResponseRedirect:
    try:
        for endpoint in faults.ENDPOINTS:
            kind = request.POST.get(f"kind_{endpoint}", "none")
            raw_delay = request.POST.get(f"delay_{endpoint}", "").strip()
            faults.set_fault(endpoint, kind, float(raw_delay) if raw_delay else None)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Faults saved.")
    return redirect(reverse("sandbox:control"))


@require_POST
def control_time_scale(request: HttpRequest) -> HttpResponseRedirect:
    try:
        clock.set_scale(float(request.POST.get("time_scale", "")))
    except ValueError:
        messages.error(request, "The time scale must be a number of zero or more.")
    else:
        messages.success(request, "Time scale saved.")
    return redirect(reverse("sandbox:control"))


APPSTORE_REQUEST_TTL = timedelta(minutes=15)


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
    host = catalog.seller_central_host_for_region(seller.region)
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
    if not redirect_uri or urlsplit(redirect_uri).path not in application.redirect_paths:
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
