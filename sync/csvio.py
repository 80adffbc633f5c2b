"""CSV uploads of SKU mappings and platform stock: every row is checked, bad rows are reported, none crashes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amazon import marketplaces
from stores.models import Store
from sync.models import PlatformStock, SkuMapping

MAX_FIELD = 100
MAX_ROWS = 20000


@dataclass
class Result:
    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        # A file with thousands of bad rows would bury the useful first ones.
        if len(self.errors) < 200:
            self.errors.append((line, message))


class UnreadableFile(Exception):
    pass


def _rows(upload: UploadedFile, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    if upload.size is not None and upload.size > settings.SYNC_CSV_MAX_BYTES:
        raise UnreadableFile(_("The file is larger than 1 MB."))
    raw = upload.read(settings.SYNC_CSV_MAX_BYTES + 1)
    if len(raw) > settings.SYNC_CSV_MAX_BYTES:
        raise UnreadableFile(_("The file is larger than 1 MB."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableFile(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from e
    if "\x00" in text:
        # PostgreSQL cannot store U+0000 in text (a 500 before), and no spreadsheet writes one into a CSV.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UnreadableFile(
            _(
                "Line %(line)d of the file contains a NUL character, which a CSV file cannot hold. "
                "Save it again as “CSV UTF-8” and upload that file."
            )
            % {"line": line}
        )
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise UnreadableFile(
                _("The first line must name the columns %(columns)s; missing: %(missing)s.")
                % {"columns": ", ".join(required), "missing": ", ".join(missing)}
            )
        reader.fieldnames = header
        rows: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise UnreadableFile(_("The file has more than %(n)d rows.") % {"n": MAX_ROWS})
            clean = {
                k: (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)
            }
            if any(clean.values()):
                rows.append((reader.line_num, clean))
        return rows
    except csv.Error as e:
        raise UnreadableFile(_("The file is not a readable CSV file.")) from e


def marketplace_for(store: Store, value: str) -> str | None:
    """A site code (US) or marketplace id of one of the store's sites."""
    value = value.strip()
    m = marketplaces.BY_SITE.get(value.upper()) or marketplaces.BY_ID.get(value)
    if m is None or m.site not in store.sites:
        return None
    return m.marketplace_id


def import_mappings(store: Store, upload: UploadedFile) -> Result:
    result = Result()
    rows = _rows(upload, ["platform_sku", "seller_sku", "site"])
    good: dict[tuple[str, str], str] = {}
    for line, row in rows:
        platform_sku, seller_sku = row.get("platform_sku", ""), row.get("seller_sku", "")
        marketplace_id = marketplace_for(store, row.get("site", "")) if row.get("site") else None
        if not platform_sku or not seller_sku:
            result.error(line, _("platform_sku and seller_sku are required."))
        elif len(platform_sku) > MAX_FIELD or len(seller_sku) > MAX_FIELD:
            result.error(line, _("A SKU is longer than %(n)d characters.") % {"n": MAX_FIELD})
        elif marketplace_id is None:
            result.error(
                line,
                _("“%(site)s” is not one of this store's sites (%(sites)s).")
                % {"site": row.get("site", ""), "sites": ", ".join(store.ordered_sites)},
            )
        else:
            good[(seller_sku, marketplace_id)] = platform_sku
    _save_mappings(store, good)
    result.saved = len(good)
    return result


# Rows per INSERT/UPDATE statement: well below SQLite's and PostgreSQL's parameter limits.
BATCH = 500


def _save_mappings(store: Store, wanted: dict[tuple[str, str], str]) -> None:
    """Save (seller SKU, marketplace) → platform SKU in a few statements: one query per row (get_or_create) took
    ~50 s for the 20,000 rows allowed, near the worker timeout. Same rules as save_mapping."""
    with transaction.atomic():
        existing = {
            (seller_sku, marketplace_id): (pk, platform_sku)
            for pk, seller_sku, marketplace_id, platform_sku in SkuMapping.objects.filter(
                store=store
            ).values_list("pk", "seller_sku", "marketplace_id", "platform_sku")
        }
        new: list[SkuMapping] = []
        changed: list[SkuMapping] = []
        for (seller_sku, marketplace_id), platform_sku in wanted.items():
            known = existing.get((seller_sku, marketplace_id))
            if known is None:
                new.append(
                    SkuMapping(
                        store=store,
                        seller_sku=seller_sku,
                        marketplace_id=marketplace_id,
                        platform_sku=platform_sku,
                    )
                )
            elif known[1] != platform_sku:
                # Another platform SKU now feeds this listing: its quantity must be sent again.
                changed.append(SkuMapping(pk=known[0], platform_sku=platform_sku, pushed_quantity=None))
        # A mapping added meanwhile by another request keeps its row (the unique constraint): nothing breaks.
        SkuMapping.objects.bulk_create(new, batch_size=BATCH, ignore_conflicts=True)
        SkuMapping.objects.bulk_update(changed, ["platform_sku", "pushed_quantity"], batch_size=BATCH)


def save_mapping(store: Store, platform_sku: str, seller_sku: str, marketplace_id: str) -> SkuMapping:
    mapping, created = SkuMapping.objects.get_or_create(
        store=store,
        seller_sku=seller_sku,
        marketplace_id=marketplace_id,
        defaults={"platform_sku": platform_sku},
    )
    if not created and mapping.platform_sku != platform_sku:
        # Another platform SKU now feeds this listing: its quantity must be sent again.
        mapping.platform_sku = platform_sku
        mapping.pushed_quantity = None
        mapping.save(update_fields=["platform_sku", "pushed_quantity"])
    return mapping


def import_stock(store: Store, upload: UploadedFile) -> Result:
    result = Result()
    rows = _rows(upload, ["platform_sku", "quantity"])
    good: dict[str, int] = {}
    for line, row in rows:
        sku, raw = row.get("platform_sku", ""), row.get("quantity", "")
        if not sku or len(sku) > MAX_FIELD:
            result.error(line, _("platform_sku is required (at most %(n)d characters).") % {"n": MAX_FIELD})
            continue
        try:
            quantity = int(raw)
        except ValueError:
            quantity = -1
        if quantity < 0 or quantity > 10_000_000:
            result.error(
                line,
                _("quantity must be a whole number of zero or more, not “%(value)s”.") % {"value": raw[:20]},
            )
            continue
        good[sku] = quantity
    now = timezone.now()
    # One upsert per batch instead of one update_or_create (two or three queries) per row.
    PlatformStock.objects.bulk_create(
        [
            PlatformStock(tenant_id=store.tenant_id, platform_sku=sku, quantity=quantity, updated_at=now)
            for sku, quantity in good.items()
        ],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["tenant", "platform_sku"],
        update_fields=["quantity", "updated_at"],
    )
    result.saved = len(good)
    return result
