from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Tenant
from amazon import marketplaces
from authorizations.models import AuthStatus, Capability
from stores.access import get_editable_store_for_user, get_store_for_user
from stores.models import CombinedStatus, Store
from stores.paging import paginate
from sync import csvio, inventory, jobs, labels, rechecks
from sync.forms import CsvUploadForm, OrderFilterForm, SkuMappingForm
from sync.models import InventoryPush, Order, PlatformStock, RecheckBatch, RecheckItem, SkuMapping, local_time
from sync.staff import Filters, is_uuid, staff_required, stores_for

# --- orders --------------------------------------------------------------------------------------------------


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderRow:
    order: Order
    purchased_local: datetime  # in the site's time zone, as the seller sees it in Seller Central
    status_label: str


def _filtered_orders(request: HttpRequest, store: Store) -> tuple[OrderFilterForm, QuerySet[Order]]:
    form = OrderFilterForm(request.GET, store=store)
    if not form.is_valid():
        # Only the fields that validated filter; the page shows the errors.
        log.info("orders filter of store %s: ignored %s", store.pk, form.errors.as_json()[:500])
    orders = form.filter(Order.objects.filter(store=store)).order_by("-purchase_date", "-id")
    return form, orders


@require_GET
@login_required
def orders_list(request: HttpRequest, code: str) -> HttpResponse:
    store, membership = get_store_for_user(request, code)
    form, orders = _filtered_orders(request, store)
    page = paginate(orders.prefetch_related("items"), settings.SYNC_ROWS_PER_PAGE, request.GET.get("page"))
    rows = [
        OrderRow(
            o,
            local_time(o.purchase_date, o.marketplace_id, store.timezone),
            form.status_labels.get(o.status) or labels.order_status_label(o.status),
        )
        for o in page.object_list
    ]
    query = form.query()
    ctx = {
        "store": store,
        "membership": membership,
        "page": page,
        "rows": rows,
        "form": form,
        "query": query,
        "filtered": form.active,
        "any_orders": bool(rows) or Order.objects.filter(store=store).exists(),
        "export_url": reverse("sync:orders_export", args=[store.code]) + (f"?{query}" if query else ""),
    }
    return render(request, "sync/orders.html", ctx)


class _Echo:
    """csv.writer writes into this and gets the line back, so rows can be streamed one by one."""

    def write(self, value: str) -> str:
        return value


class CsvStreamingResponse(StreamingHttpResponse):
    """A streamed CSV. Reading `content` joins the stream (kept for a later iteration), so code that inspects every
    page's body, like the URL census of tests/security, reads this one too; a server only iterates it."""

    @property
    def content(self) -> bytes:  # type: ignore[override]
        body = self.getvalue()
        self.streaming_content = [body]
        return body


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (OWASP "CSV Injection")."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _export_lines(
    orders: QuerySet[Order], header: list[str], tz: ZoneInfo, states: dict[str, str]
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte order mark makes Excel read the file as UTF-8 (Chinese nicknames, titles).
    yield "\ufeff" + writer.writerow(header)
    for o in orders.prefetch_related("items").iterator(chunk_size=500):
        items = list(o.items.all())
        yield writer.writerow(
            [
                csv_cell(o.amazon_order_id),
                o.purchase_date.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                csv_cell(states.get(o.status) or labels.order_status_label(o.status)),
                csv_cell(o.site),
                sum(i.quantity for i in items),
                csv_cell("; ".join(f"{i.sku or i.asin} × {i.quantity}" for i in items)),
                "" if o.total_amount is None else f"{o.total_amount:.2f}",
                csv_cell(o.currency),
            ]
        )


@require_GET
@login_required
def orders_export(request: HttpRequest, code: str) -> CsvStreamingResponse:
    """The orders page's filtered rows as CSV, streamed; the same access as the page (viewers may read)."""
    store, membership = get_store_for_user(request, code)
    form, orders = _filtered_orders(request, store)
    tz = form.timezone
    # Words are resolved now, in the request's language: the rows are written after the view returned.
    header = [
        _("Amazon order id"),
        _("Purchase date (%(timezone)s)") % {"timezone": tz.key},
        _("State"),
        _("Site"),
        _("Item quantity"),
        _("Items"),
        _("Total"),
        _("Currency"),
    ]
    states = {k: str(v) for k, v in form.status_labels.items()}
    response = CsvStreamingResponse(
        _export_lines(orders, header, tz, states), content_type="text/csv; charset=utf-8"
    )
    filename = f"orders-{store.nickname}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


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
        "refused": inventory.refusal(store),
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
    refused = inventory.refusal(store)
    if refused is not None:
        # The page shows the same reason with the link to act on it (sync/inventory.html).
        messages.error(
            request,
            " ".join(
                p
                for p in (_("Nothing was pushed."), refused.headline + ".", refused.reason, refused.todo)
                if p
            ),
        )
    elif not inventory.changed(store):
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
    page = paginate(stores, settings.SYNC_ROWS_PER_PAGE, request.GET.get("page"))
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
        description = filters.describe()
    else:
        codes = [c for c in request.POST.getlist("store") if c][:1000]
        stores = Store.objects.filter(code__in=[c for c in codes if is_uuid(c)])
        description = ngettext("%(n)d selected store", "%(n)d selected stores", len(codes)) % {
            "n": len(codes)
        }
    if not stores.exists():
        messages.warning(request, _("Select at least one store to re-check."))
        return redirect(f"{_staff_url()}?{filters.as_query()}")
    batch = rechecks.start_batch(stores, request.user, description)  # type: ignore[arg-type]
    messages.success(request, _("Re-checking %(n)d stores.") % {"n": batch.total})
    return redirect("staff:staff_batch", code=batch.code)


def _staff_url() -> str:
    return reverse("staff:staff_stores")


def _staff_store_url(request: HttpRequest, store: Store) -> str:
    """Where a staff member opens a store: its admin page when they may see it there, else the staff list narrowed
    to it (staff are not members of the store's tenant, so the tenant's store page would be a 404)."""
    if request.user.has_perm("stores.view_store"):
        return reverse("admin:stores_store_change", args=[store.pk])
    query = QueryDict(mutable=True)
    query.update({"q": store.nickname, "tenant": str(store.tenant.code), "archived": "1"})
    return f"{_staff_url()}?{query.urlencode()}"


def _batch_row(request: HttpRequest, item: RecheckItem) -> dict[str, object]:
    return {
        **rechecks.item_row(item),
        "store": item.store.nickname,
        "tenant": item.store.tenant.name,
        "url": _staff_store_url(request, item.store),
    }


def _batch_items(batch: RecheckBatch) -> QuerySet[RecheckItem]:
    return batch.items.select_related("store", "store__tenant").prefetch_related(
        Prefetch("store__authorizations")
    )


@require_GET
@staff_required
def staff_batch(request: HttpRequest, code: str) -> HttpResponse:
    batch = get_object_or_404(RecheckBatch.objects.select_related("created_by"), code=code)
    page = Paginator(_batch_items(batch).order_by("status", "id"), settings.SYNC_ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ctx = {
        "batch": batch,
        "progress": rechecks.progress(batch),
        "page": page,
        "rows": [_batch_row(request, item) for item in page.object_list],
        "failures": [_batch_row(request, item) for item in rechecks.failures(batch)],
        "Status": RecheckItem.Status,
    }
    return render(request, "sync/staff_batch.html", ctx)


@require_GET
@staff_required
def staff_batch_progress(request: HttpRequest, code: str) -> JsonResponse:
    """The counts, the failed stores named, and the rows the page shows (`items`: their ids, comma-separated), so
    the page updates its rows with the counts instead of saying "Finished." over rows still pending."""
    batch = get_object_or_404(RecheckBatch, code=code)
    ids = [
        int(i)
        for i in request.GET.get("items", "").split(",")[: settings.SYNC_ROWS_PER_PAGE]
        if i.isascii() and i.isdigit() and len(i) <= 18  # a bigint; anything else is no row of this page
    ]
    data = rechecks.progress(batch)
    data["failures"] = [_batch_row(request, item) for item in rechecks.failures(batch)]
    data["items"] = [
        _batch_row(request, item) for item in _batch_items(batch).filter(pk__in=ids).order_by("pk")
    ]
    return JsonResponse(data)
