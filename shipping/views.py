from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from shipping import actions
from shipping.forms import PackageForm
from shipping.models import Package
from shipping.words import reason, what_to_do
from stores.access import get_editable_store_for_user, get_store_for_user
from stores.models import Store
from sync import labels, order_state, ship_to
from sync.models import Order, local_time


def _render(
    request: HttpRequest, store: Store, can_change: bool, order: Order, form: PackageForm
) -> HttpResponse:
    packages = list(order.packages.prefetch_related("items").order_by("package_reference_id"))  # type: ignore[attr-defined]
    ctx = {
        "store": store,
        "can_change": can_change,
        "order": order,
        "purchased_local": local_time(order.purchase_date, order.marketplace_id, store.timezone),
        "status_label": labels.order_status_label(order.status),
        "cancelled": actions.is_cancelled(order),
        "cancel_requested": order_state.cancel_requested(order),
        "packages": [(p, reason(p.problem), what_to_do(p.problem)) for p in packages],
        "form": form,
        # The ship-to address as this user may see it (a member's read is audited): sync/ship_to.py.
        "ship_to": ship_to.for_page(request, order),
    }
    return render(request, "shipping/order.html", ctx, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@login_required
def order_page(request: HttpRequest, code: str, amazon_order_id: str) -> HttpResponse:
    """One order: its items, its packages and what Amazon made of them, and (for members) the tracking form."""
    store, membership = get_store_for_user(request, code)
    if request.method == "POST":
        store, membership = get_editable_store_for_user(request, code)
    order = Order.objects.filter(store=store, amazon_order_id=amazon_order_id).first()
    if order is None:
        raise Http404("No such order")
    can_change = membership.can_change and not store.is_archived
    if request.method != "POST":
        next_reference = (order.packages.aggregate(n=Max("package_reference_id"))["n"] or 0) + 1  # type: ignore[attr-defined]
        form = PackageForm(order=order, initial={"package_reference_id": next_reference})
        return _render(request, store, can_change, order, form)
    form = PackageForm(request.POST, order=order)
    if form.is_valid():
        assert isinstance(request.user, User)
        try:
            actions.submit(order, form.package(), Package.Source.FORM, user=request.user)
        except actions.Refused as e:
            field = e.field if e.field in form.fields else None
            form.add_error(field, e.message)
        else:
            messages.success(request, _("The package was saved; it is being sent to Amazon."))
            return redirect("shipping:order", code=store.code, amazon_order_id=order.amazon_order_id)
    return _render(request, store, can_change, order, form)
