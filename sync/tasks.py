"""django-q2 tasks: plain functions that take ids, safe to run twice or concurrently."""

from __future__ import annotations

from authorizations import app_secrets, attempts, lifecycle, reminders
from authorizations.models import Authorization, Capability
from sync import jobs


def start_authorized_work(auth: Authorization) -> None:
    """A capability became authorized (or was enabled again): start its work once the change is committed.

    Called by authorizations.hooks.authorized (from install.py and lifecycle.enable); subscribed in
    sync/apps.py.
    """
    from sync import order_state

    if auth.capability == Capability.ORDERS:
        from sync import order_changes

        state = order_state.prepare(auth)
        jobs.enqueue_order_sync(state.store_id)
        if order_changes.enabled():
            jobs.enqueue_order_change_subscription(state.store_id)
    elif auth.capability == Capability.LISTINGS:
        jobs.enqueue_inventory_push(auth.store_id)


def read_notifications() -> int:
    from sync import order_changes

    return order_changes.read()


def subscribe_order_changes(store_id: int) -> str:
    from sync import order_changes

    return order_changes.subscribe(store_id)


def subscribe_missing_order_changes() -> int:
    from sync import order_changes

    # Daily both ways: subscribe who should be, delete what no live order loading uses any more.
    return order_changes.subscribe_missing() + order_changes.unsubscribe_unused()


def end_authorized_work(auth: Authorization) -> None:
    """A capability stopped being authorized (authorizations.hooks.ended): undo what it set up at Amazon."""
    from sync import order_changes

    order_changes.ended(auth)


def unsubscribe_order_changes(seller_id: str, region: str) -> str:
    from sync import order_changes

    return order_changes.unsubscribe(seller_id, region)


def load_notified_order(store_id: int, order_id: str, cancel_requested: bool = False) -> str:
    from sync import order_changes

    return order_changes.load(store_id, order_id, cancel_requested=cancel_requested)


def erase_ship_to() -> int:
    from sync import ship_to

    return ship_to.erase_due()


def application_secrets() -> dict[str, int]:
    return {"rotations": app_secrets.rotate_due(), "warnings": app_secrets.warn_expiring()}


def expire_attempts() -> int:
    return attempts.expire_stale()


def expiry_and_reminders() -> dict[str, int]:
    """Daily: lapsed authorizations need re-authorization, stores near expiry show "attention", owners get mail."""
    return {"lapsed": lifecycle.expire_lapsed(), "reminders": reminders.send_due()}


def sync_orders(store_id: int) -> str:
    from sync import order_sync

    return order_sync.run(store_id)


def dispatch_order_syncs() -> int:
    from sync import dispatch

    return dispatch.dispatch_due()


def push_inventory(store_id: int) -> str:
    from sync import inventory

    return inventory.push(store_id)


def confirm_listings(store_id: int) -> str:
    from sync import inventory

    return inventory.confirm(store_id)


def push_inventory_all() -> int:
    from sync import inventory

    return inventory.push_all()


def recheck_store(store_id: int, item_id: int | None = None) -> str:
    from sync import rechecks

    return rechecks.recheck_store(store_id, item_id)


def recheck_items(item_ids: list[int]) -> dict[str, int]:
    from sync import rechecks

    return rechecks.recheck_items(item_ids)


def recheck_all() -> int:
    from sync import rechecks

    return rechecks.recheck_all()


def dispatch_token_checks() -> int:
    from sync import rechecks

    return rechecks.dispatch_token_checks()


def check_grant_tokens(auth_ids: list[int]) -> dict[str, int]:
    from sync import rechecks

    return rechecks.check_grant_tokens(auth_ids)


def fan_out_batch(batch_id: int) -> int:
    from sync import rechecks

    return rechecks.fan_out(batch_id)
