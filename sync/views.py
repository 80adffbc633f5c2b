from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Tenant
from amazon import marketplaces
from authorizations.models import AuthStatus, Capability
from stores.access import get_editable_store_for_user, get_store_for_user
from stores.models import CombinedStatus, Store
from sync import csvio, inventory, jobs, rechecks
from sync.forms import CsvUploadForm, SkuMappingForm
from sync.models import InventoryPush, Order, PlatformStock, RecheckBatch, RecheckItem, SkuMapping
from sync.staff import Filters, is_uuid, staff_required, stores_for

# --- orders --------------------------------------------------------------------------------------------------


@require_GET
@login_required
def orders_list(request: HttpRequest, code: str) -> HttpResponse:
    store, membership = get_store_for_user(request, code)
    orders = Order.objects.filter(store=store).prefetch_related("items").order_by("-purchase_date", "-id")
    page = Paginator(orders, settings.SYNC_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    ctx = {"store": store, "membership": membership, "page": page}
    return render(request, "sync/orders.html", ctx)


# --- inventory -----------------------------------------------------------------------------------------------


@require_GET
@login_required
def inventory_page(request: HttpRequest, code: str) -> HttpResponse:
    store, membership = get_store_for_user(request, code)
    return _inventory(request, store, membership.can_change and not store.is_archived)


def _inventory(
    request: HttpRequest,
    store: Store,
    can_change: bool,
    form: SkuMappingForm | None = None,
    upload: csvio.Result | None = None,
) -> HttpResponse:
    mappings = SkuMapping.objects.filter(store=store).order_by("platform_sku", "seller_sku")
    page = Paginator(mappings, settings.SYNC_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    skus = {m.platform_sku for m in page.object_list}
    stock = dict(
        PlatformStock.objects.filter(tenant_id=store.tenant_id, platform_sku__in=skus).values_list(
            "platform_sku", "quantity"
        )
    )
    rows = [(m, stock.get(m.platform_sku)) for m in page.object_list]
    ctx = {
        "store": store,
        "can_change": can_change,
        "page": page,
        "rows": rows,
        "form": form or SkuMappingForm(store=store),
        "upload": upload,
        "pushes": InventoryPush.objects.filter(store=store).prefetch_related("items")[:5],
        "sites": store.ordered_sites,
        # What Amazon made of each accepted quantity, read back with getListingsItem (sync/inventory.py).
        "Confirmation": SkuMapping.Confirmation,
    }
    return render(request, "sync/inventory.html", ctx, status=400 if form is not None else 200)


@require_POST
@login_required
def mapping_add(request: HttpRequest, code: str) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    form = SkuMappingForm(request.POST, store=store)
    if not form.is_valid():
        return _inventory(request, store, True, form=form)
    d = form.cleaned_data
    csvio.save_mapping(store, d["platform_sku"], d["seller_sku"], d["marketplace_id"])
    messages.success(request, _("The SKU mapping was saved."))
    return redirect("sync:inventory", code=store.code)


@require_POST
@login_required
def mapping_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    get_object_or_404(SkuMapping, pk=pk, store=store).delete()
    messages.success(request, _("The SKU mapping was removed."))
    return redirect("sync:inventory", code=store.code)


def _upload(request: HttpRequest, code: str, kind: str) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    form = CsvUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file to upload."))
        return redirect("sync:inventory", code=store.code)
    importer = csvio.import_mappings if kind == "mappings" else csvio.import_stock
    try:
        result = importer(store, form.cleaned_data["file"])
    except csvio.UnreadableFile as e:
        messages.error(request, str(e))
        return redirect("sync:inventory", code=store.code)
    if result.errors:
        return _inventory(request, store, True, upload=result)
    messages.success(request, _("%(n)d rows were saved.") % {"n": result.saved})
    return redirect("sync:inventory", code=store.code)


@require_POST
@login_required
def mapping_upload(request: HttpRequest, code: str) -> HttpResponse:
    return _upload(request, code, "mappings")


@require_POST
@login_required
def stock_upload(request: HttpRequest, code: str) -> HttpResponse:
    return _upload(request, code, "stock")


@require_POST
@login_required
def push_now(request: HttpRequest, code: str) -> HttpResponse:
    store, membership = get_editable_store_for_user(request, code)
    if not inventory.changed(store):
        messages.info(request, _("Amazon already has every mapped quantity; nothing to push."))
    else:
        jobs.enqueue_inventory_push(store.pk)
        messages.success(request, _("The inventory push was started; results appear below in a moment."))
    return redirect("sync:inventory", code=store.code)


# --- staff ---------------------------------------------------------------------------------------------------


@require_GET
@staff_required
def staff_stores(request: HttpRequest) -> HttpResponse:
    filters = Filters.from_query(request.GET)
    stores = stores_for(filters).select_related("tenant", "order_sync").prefetch_related("authorizations")
    page = Paginator(stores, settings.SYNC_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    ctx = {
        "page": page,
        "filters": filters,
        "query": filters.as_query(),
        "status_choices": CombinedStatus.choices,
        "regions": marketplaces.REGIONS,
        "capabilities": Capability.choices,
        "auth_statuses": AuthStatus.choices,
        "tenants": Tenant.objects.order_by("name").values_list("code", "name"),
        "batches": RecheckBatch.objects.select_related("created_by")[:5],
    }
    return render(request, "sync/staff_stores.html", ctx)


@require_POST
@staff_required
def staff_recheck(request: HttpRequest) -> HttpResponse:
    filters = Filters.from_query(request.POST)
    if request.POST.get("all_matching") == "1":
        stores = stores_for(filters)
        description = f"all matching: {filters.describe()}"
    else:
        codes = [c for c in request.POST.getlist("store") if c][:1000]
        stores = Store.objects.filter(code__in=[c for c in codes if is_uuid(c)])
        description = f"{len(codes)} selected"
    if not stores.exists():
        messages.warning(request, _("Select at least one store to re-check."))
        return redirect(f"{_staff_url()}?{filters.as_query()}")
    batch = rechecks.start_batch(stores, request.user, description)  # type: ignore[arg-type]
    messages.success(request, _("Re-checking %(n)d stores.") % {"n": batch.total})
    return redirect("staff:staff_batch", code=batch.code)


def _staff_url() -> str:
    from django.urls import reverse

    return reverse("staff:staff_stores")


@require_GET
@staff_required
def staff_batch(request: HttpRequest, code: str) -> HttpResponse:
    batch = get_object_or_404(RecheckBatch.objects.select_related("created_by"), code=code)
    items = batch.items.select_related("store", "store__tenant").prefetch_related(
        Prefetch("store__authorizations")
    )
    page = Paginator(items.order_by("status", "id"), settings.SYNC_ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ctx = {"batch": batch, "progress": rechecks.progress(batch), "page": page, "Status": RecheckItem.Status}
    return render(request, "sync/staff_batch.html", ctx)


@require_GET
@staff_required
def staff_batch_progress(request: HttpRequest, code: str) -> JsonResponse:
    batch = get_object_or_404(RecheckBatch, code=code)
    return JsonResponse(rechecks.progress(batch))
