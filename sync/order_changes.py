"""ORDER_CHANGE notifications: orders in the portal within seconds of Amazon recording them.

When order loading is authorized, the seller is subscribed to ORDER_CHANGE for our orders application, delivered
to our SQS destination ("Tutorial: Subscribe to the ORDER_CHANGE notification",
https://developer-docs.amazon.com/sp-api/docs/tutorial-subscribe-to-order-change-notification): createDestination
once per region (grantless), createSubscription with the seller's access token (amazon/notifications.py).

A notification is a hint, never data: it names a seller and an order id, and the order itself is read with
getOrder under the store's own grant and stored by the same upsert as the polls (an older copy never overwrites a
newer one). So a forged or repeated notification costs one getOrder and changes nothing, and a lost one is found by
the next poll, which keeps running, at the longest pause (sync/cadence.py `poll_pause`).
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.utils import timezone

from amazon import endpoints, lwa, marketplaces, notifications, sqs
from amazon import orders as api
from amazon.errors import AmazonError
from authorizations import app_secrets, credentials
from authorizations.models import Authorization, AuthStatus, Capability
from lib.errors import ReasonError
from stores.models import Store
from sync import grants, jobs, order_store, paced
from sync.models import NotificationDestination, OrderChangeSubscription

log = logging.getLogger(__name__)
GET_ORDER = "getOrder"


def enabled() -> bool:
    return bool(settings.ORDER_CHANGE_NOTIFICATIONS and settings.AMAZON_NOTIFICATIONS_QUEUE_URL)


class Refused(ReasonError):
    """Amazon refused our application's credentials for this seller's notifications; `reason` is a reasons.py code."""


def _refused(e: credentials.VerificationError) -> Exception:
    """What a grant raises here when Amazon refuses our application's credentials (grants.Grant's `refused`)."""
    return Refused(e.reason)


# --- subscribing ---------------------------------------------------------------------------------------------


def _grantless_token() -> str:
    """An access token of our orders application for the grantless Notifications operations (client_credentials,
    scope sellingpartnerapi::notifications; notifications.json and Amazon's "Grantless operations")."""
    return app_secrets.with_secrets(
        Capability.ORDERS,
        lambda c: lwa.grantless(endpoints.spapi_token(), c, notifications.NOTIFICATIONS_SCOPE),
    ).access_token


def destination(region: str) -> str:
    """Our queue's destination id in `region`, created the first time (a 409 means it exists: it is looked up)."""
    row = NotificationDestination.objects.filter(region=region).first()
    if row is not None:
        return row.destination_id
    arn = sqs.queue_arn(settings.AMAZON_NOTIFICATIONS_QUEUE_URL)
    token = _grantless_token()
    base = endpoints.for_region(region).sp_api
    try:
        made = notifications.create_destination(base, token, f"{settings.PLATFORM_NAME} orders", arn)
        destination_id = made.destination_id
    except notifications.NotificationsApiError as e:
        if e.kind != "conflict":
            raise
        found = [d for d in notifications.get_destinations(base, token) if d.sqs_arn == arn]
        if not found:
            raise
        destination_id = found[0].destination_id
    NotificationDestination.objects.get_or_create(
        region=region, defaults={"destination_id": destination_id, "sqs_arn": arn}
    )
    return NotificationDestination.objects.get(region=region).destination_id


def subscribe(store_id: int) -> str:
    """The task run when a store's order loading is authorized: subscribe its seller to ORDER_CHANGE."""
    if not enabled():
        return "disabled"
    auth = Authorization.objects.select_related("store").get(store_id=store_id, capability=Capability.ORDERS)
    if not grants.runnable(auth):
        return "not_authorized"
    seller, region = grants.seller_id(auth), auth.store.region
    if not seller:
        return "no_seller"

    grant = grants.Grant(auth, Capability.ORDERS, _refused)
    try:
        destination_id = destination(region)
        grant.renew()
        base = endpoints.for_region(region).sp_api
        subscription = _subscribe(grant, base, destination_id)
    except (AmazonError, sqs.QueueError, Refused) as e:
        detail = str(getattr(e, "message", "") or e)[:300]
        log.warning("ORDER_CHANGE subscription of seller %s (%s) failed: %s", seller, region, detail)
        _record(
            seller,
            region,
            OrderChangeSubscription.Status.FAILED,
            verified=_verified(auth, seller),
            detail=detail,
        )
        return "failed"
    _record(
        seller,
        region,
        OrderChangeSubscription.Status.ACTIVE,
        verified=_verified(auth, seller),
        subscription_id=subscription.subscription_id,
        destination_id=subscription.destination_id,
    )
    return "subscribed"


def _verified(auth: Authorization, seller: str) -> bool:
    return bool(auth.store.selling_partner_verified and auth.store.selling_partner_id == seller)


def _subscribe(grant: grants.Grant, base: str, destination_id: str) -> notifications.Subscription:
    """createSubscription (a 409 read back); a 403 gets one fresh access token, as an access token shared for its
    hour may have lapsed at Amazon first. A 403 with a fresh token is recorded as the subscription's failure only:
    it may mean the application lacks the Notifications API, not that the seller withdrew the grant."""
    for attempt in range(2):
        try:
            subscription, _created = notifications.subscribe(
                base, grant.token, notifications.ORDER_CHANGE, destination_id
            )
            return subscription
        except notifications.NotificationsApiError as e:
            if e.kind != "unauthorized" or attempt:
                raise
            grant.renew(force=True)
    raise AssertionError("unreachable")


def subscribe_missing(limit: int = 500) -> int:
    """Daily: subscribe the sellers whose subscription failed or was never made (one store per seller and
    region is enough: the subscription is the seller's)."""
    if not enabled():
        return 0
    active = set(
        OrderChangeSubscription.objects.filter(status=OrderChangeSubscription.Status.ACTIVE).values_list(
            "selling_partner_id", "region"
        )
    )
    seen: set[tuple[str, str]] = set()
    count = 0
    auths = Authorization.objects.filter(
        capability=Capability.ORDERS, status=AuthStatus.AUTHORIZED, store__archived_at__isnull=True
    ).select_related("store")
    for auth in auths.iterator():
        key = (grants.seller_id(auth), auth.store.region)
        if not key[0] or key in active or key in seen:
            continue
        seen.add(key)
        jobs.enqueue_order_change_subscription(auth.store_id)
        count += 1
        if count >= limit:
            break
    return count


# --- unsubscribing ------------------------------------------------------------------------------------------


def ended(auth: Authorization) -> None:
    """authorizations.hooks.ended: an order-loading authorization stopped being authorized (disable, revoke, archive,
    needs re-authorization). When its seller has a subscription on record, a job checks after the commit whether it
    was the last live one of that seller and region (`unsubscribe`)."""
    if auth.capability != Capability.ORDERS:
        return
    seller, region = grants.seller_id(auth), auth.store.region
    if not seller:
        return
    recorded = OrderChangeSubscription.objects.filter(selling_partner_id=seller, region=region).exclude(
        status=OrderChangeSubscription.Status.ENDED, subscription_id=""
    )
    if recorded.exists():
        jobs.enqueue_order_change_unsubscription(seller, region)


def _live(seller: str, region: str) -> list[int]:
    """The stores whose order loading is authorized for this seller in this region (their own grant naming the
    seller, or the store's seller id when the grant names none: as `stores_for`)."""
    live = Authorization.objects.filter(
        capability=Capability.ORDERS,
        status=AuthStatus.AUTHORIZED,
        store__archived_at__isnull=True,
        store__region=region,
    )
    named = live.filter(selling_partner_id=seller)
    unnamed = live.filter(selling_partner_id="", store__selling_partner_id=seller)
    return sorted(
        set(named.values_list("store_id", flat=True)) | set(unnamed.values_list("store_id", flat=True))
    )


def unsubscribe(seller: str, region: str) -> str:
    """The task run when an order-loading authorization ended: when no live one of the seller and region is left,
    delete the seller's ORDER_CHANGE subscription at Amazon and mark it ended.

    deleteSubscriptionById is grantless ("The subscription identifier can be for any subscription associated with
    your application. After you successfully call this operation, notifications will stop being sent", notifications
    .json), so it works after the seller revoked us. Amazon keeps a subscription when the seller's authorization
    ends (nothing in notifications.json says otherwise), so without this it would keep notifying about a seller no
    store loads orders for. An ended row is not "active": `subscribe_missing` and the next authorization (`subscribe`)
    subscribe again, and polling leaves the longest pause (sync/cadence.py `order_changes_active`). A failed delete
    keeps the row as it was and is tried again by the daily `subscribe_missing`."""
    if _live(seller, region):
        return "still_used"
    row = OrderChangeSubscription.objects.filter(selling_partner_id=seller, region=region).first()
    if row is None or (row.status == OrderChangeSubscription.Status.ENDED and not row.subscription_id):
        return "none"
    if row.subscription_id:
        try:
            notifications.delete_subscription_by_id(
                endpoints.for_region(region).sp_api,
                _grantless_token(),
                notifications.ORDER_CHANGE,
                row.subscription_id,
            )
        except AmazonError as e:
            # 404: Amazon no longer has it (deleted before, or by the seller's side): the end is recorded all the same.
            if not (isinstance(e, notifications.NotificationsApiError) and e.kind == "not_found"):
                log.warning(
                    "ORDER_CHANGE subscription of seller %s (%s) not deleted: %s", seller, region, e.kind
                )
                OrderChangeSubscription.objects.filter(pk=row.pk).update(
                    detail=str(e.message or e.kind)[:300]
                )
                return "failed"
    OrderChangeSubscription.objects.filter(pk=row.pk, subscription_id=row.subscription_id).update(
        status=OrderChangeSubscription.Status.ENDED, subscription_id="", destination_id="", detail=""
    )
    again = _live(seller, region)
    if again and enabled():
        # A store of the seller was authorized while the subscription was being deleted: subscribe it again.
        jobs.enqueue_order_change_subscription(again[0])
    return "deleted"


def unsubscribe_unused(limit: int = 500) -> int:
    """Daily: delete the subscriptions whose seller and region have no live order-loading authorization any more
    (an end whose delete failed, or that happened while the queue was away)."""
    kept = OrderChangeSubscription.objects.exclude(
        subscription_id=""
    ) | OrderChangeSubscription.objects.filter(status=OrderChangeSubscription.Status.ACTIVE)
    count = 0
    for seller, region in kept.values_list("selling_partner_id", "region").iterator():
        if not _live(seller, region):
            jobs.enqueue_order_change_unsubscription(seller, region)
            count += 1
            if count >= limit:
                break
    return count


def _record(seller: str, region: str, status: str, verified: bool, **fields: str) -> None:
    if (
        not verified
        and OrderChangeSubscription.objects.filter(
            selling_partner_id=seller, region=region, verified=True
        ).exists()
    ):
        return  # an unverified claim of this seller id never rewrites what its verified store recorded
    defaults: dict[str, object] = {
        "status": status, "detail": "", "subscription_id": "", "destination_id": "", "verified": verified, **fields,
    }  # fmt: skip
    if status == OrderChangeSubscription.Status.FAILED:
        # A failure does not forget a subscription Amazon confirmed before.
        defaults.pop("subscription_id")
        defaults.pop("destination_id")
    OrderChangeSubscription.objects.update_or_create(
        selling_partner_id=seller, region=region, defaults=defaults
    )


def status_for(auth: Authorization) -> OrderChangeSubscription | None:
    """The subscription that serves this store's order loading, for its page."""
    seller = grants.seller_id(auth)
    if not seller:
        return None
    return OrderChangeSubscription.objects.filter(selling_partner_id=seller, region=auth.store.region).first()


# --- reading the queue ---------------------------------------------------------------------------------------


def read(wait_seconds: int = 0) -> int:
    """Handle what Amazon put on the queue: ORDER_CHANGE here, the application notifications in app_secrets."""
    if not settings.AMAZON_NOTIFICATIONS_QUEUE_URL:
        return 0
    return sqs.drain(settings.AMAZON_NOTIFICATIONS_QUEUE_URL, handle, wait_seconds=wait_seconds)


def handle(n: sqs.Notification) -> None:
    if n.type != notifications.ORDER_CHANGE:
        app_secrets.apply_notification(n)
        return
    change = notifications.parse_order_change(n)
    if change is None:
        log.warning("unreadable ORDER_CHANGE notification %s skipped", n.metadata.get("NotificationId"))
        return
    for store_id in stores_for(change.seller_id, change.marketplace_id):
        if change.cancel_requested:
            # Flagged at once on a stored order; the job flags it too when the order was not stored yet.
            order_store.note_cancel_request(store_id, change.amazon_order_id)
        jobs.enqueue_notified_order(store_id, change.amazon_order_id, change.cancel_requested)
    OrderChangeSubscription.objects.filter(selling_partner_id=change.seller_id).update(
        last_notice_at=timezone.now()
    )


def stores_for(seller_id: str, marketplace_id: str) -> list[int]:
    """The stores whose order loading acts for this seller and sells on this marketplace."""
    market = marketplaces.BY_ID.get(marketplace_id)
    if market is None or not seller_id:
        return []
    live = (
        Authorization.objects.filter(
            capability=Capability.ORDERS,
            status=AuthStatus.AUTHORIZED,
            store__archived_at__isnull=True,
            store__region=market.region,
        )
        .select_related("store")
        .only("selling_partner_id", "store__id", "store__sites", "store__region")
    )
    # Lookups by the seller only, each on its index: one OR across the joined tables could use neither table's
    # seller index, and with 1,000,000 stores PostgreSQL read every authorization for every notification (a
    # parallel sequential scan of 3,000,000 rows, ~0.2 s a message: found by bench/run fleet). Authorizations that
    # name no seller are reached from their stores' seller id; the empty id is checked here, not in SQL, where a
    # planner that knows only average selectivity (SQLite) would read the whole range of authorizations naming none.
    store_ids = list(Store.objects.filter(selling_partner_id=seller_id).values_list("pk", flat=True))
    auths = {a.pk: a for a in live.filter(selling_partner_id=seller_id)}
    if store_ids:
        auths |= {a.pk: a for a in live.filter(store_id__in=store_ids) if not a.selling_partner_id}
    return [a.store_id for a in auths.values() if marketplace_id in a.store.marketplace_ids]


# --- loading a notified order --------------------------------------------------------------------------------


def load(store_id: int, order_id: str, cancel_requested: bool = False) -> str:
    """The task behind one notification: read the order with getOrder and store it like a poll would;
    `cancel_requested`: the notification said the buyer asked to cancel (flagged even when getOrder fails)."""
    if cancel_requested:
        order_store.note_cancel_request(store_id, order_id)
    auth = Authorization.objects.select_related("store").get(store_id=store_id, capability=Capability.ORDERS)
    if not grants.runnable(auth):
        return "not_authorized"
    # The authorization was just read and one call follows: it is not read again (recheck_every=None).
    pacer = paced.Pacer(grants.Grant(auth, Capability.ORDERS, _refused), GET_ORDER, recheck_every=None)
    base = endpoints.for_region(auth.store.region).sp_api
    try:
        order = pacer.call(lambda token: api.get_order(base, token, order_id))
    except paced.Later:
        # getOrder's bucket (rate 0.5/s, burst 30, orders_2026-01-01.json) is empty: the poll will bring it anyway.
        return "rate_limited"
    except (api.OrdersApiError, Refused) as e:
        # The poll confirms every order: a notified order that cannot be read now is loaded by it.
        log.info("notified order %s of store %s not loaded now: %s", order_id, store_id, e)
        return "not_loaded"
    if order.marketplace_id and order.marketplace_id not in auth.store.marketplace_ids:
        return "other_site"
    added, _changed = order_store.store_notified(auth.store, order)
    if cancel_requested and added:
        order_store.note_cancel_request(store_id, order_id)
    return "stored" if added else "updated" if _changed else "unchanged"


# --- the loop ------------------------------------------------------------------------------------------------


def loop(stop: list[bool], dispatch_every: float = 1.0, wait_seconds: int = 1) -> None:
    """`manage.py sync_loop`: long-poll the queue and dispatch due order syncs every second, until stop[0]."""
    from sync import dispatch

    name = uuid.uuid4().hex[:8]
    last_dispatch = 0.0
    log.info("sync loop %s started", name)
    while not stop[0]:
        started = time.monotonic()
        try:
            if settings.AMAZON_NOTIFICATIONS_QUEUE_URL:
                read(wait_seconds=wait_seconds)
            if time.monotonic() - last_dispatch >= dispatch_every:
                last_dispatch = time.monotonic()
                dispatch.dispatch_due()
        except Exception:  # noqa: BLE001 - one failed pass (a lost database connection, the queue away) is logged
            if stop[0]:
                break  # stopping: the queue server may already be gone (Ctrl-C reaches every process at once)
            log.exception("sync loop pass failed")
            time.sleep(1.0)
        spent = time.monotonic() - started
        if not settings.AMAZON_NOTIFICATIONS_QUEUE_URL and spent < dispatch_every:
            time.sleep(dispatch_every - spent)
    log.info("sync loop %s stopped", name)
