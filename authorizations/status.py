"""The combined authorization status of a store: one function decides it, one function words it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from authorizations import signals
from authorizations.models import Authorization, AuthStatus, Capability
from stores.models import CombinedStatus, Store


def compute(auths: Mapping[str, Authorization]) -> str:
    """The combined-status table of README.md ("Combined status"), evaluated top to bottom."""
    warn_days = settings.AUTHORIZATION_RENEWAL_WARNING_DAYS
    if any(
        a.status == AuthStatus.NEEDS_REAUTHORIZATION or (a.is_spapi and a.expires_within(warn_days))
        for a in auths.values()
    ):
        return CombinedStatus.ATTENTION
    authorized = [
        c for c in (Capability.ORDERS, Capability.LISTINGS) if _status(auths, c) == AuthStatus.AUTHORIZED
    ]
    if len(authorized) == 2:
        return CombinedStatus.AUTHORIZED
    if len(authorized) == 1:
        return CombinedStatus.PARTIAL
    if any(a.status == AuthStatus.PENDING for a in auths.values()) and not any(
        a.status == AuthStatus.AUTHORIZED for a in auths.values()
    ):
        return CombinedStatus.PENDING
    return CombinedStatus.NOT_AUTHORIZED


def recompute(store: Store) -> str:
    """Store the combined status from the store's authorizations. Call inside the transaction that changed them.

    When a capability's status or the combined status changed (the store's `authorization_signature` differs),
    `signals.authorization_changed` is sent in this transaction, once per change.
    """
    auths = {a.capability: a for a in Authorization.objects.filter(store=store)}
    value = compute(auths)
    signature = status_signature(value, auths)
    # Compared in the database, not on this Store instance (a caller may hold one read before other changes of the
    # same transaction): the UPDATE matches only when the stored signature differs, so each change is seen once.
    changed = (
        Store.objects.filter(pk=store.pk)
        .exclude(authorization_signature=signature)
        .update(authorization_status=value, authorization_signature=signature)
    )
    store.authorization_status = value
    store.authorization_signature = signature
    if changed:
        signals.authorization_changed.send(sender=Store, store=store)
    return value


def status_signature(combined: str, auths: Mapping[str, Authorization]) -> str:
    """The combined status and each capability's status in one comparable string ("partial|ads:…,orders:…")."""
    return combined + "|" + ",".join(f"{c}:{auths[c].status}" for c in sorted(auths))


def recompute_in_transaction(store: Store) -> str:
    with transaction.atomic():
        return recompute(store)


def _status(auths: Mapping[str, Authorization], capability: str) -> str:
    a = auths.get(capability)
    return a.status if a else AuthStatus.NOT_AUTHORIZED


def _capability_phrase(capability: str, status: str) -> str:
    phrases = {
        (Capability.ORDERS, AuthStatus.AUTHORIZED): _("order loading authorized"),
        (Capability.ORDERS, AuthStatus.NOT_AUTHORIZED): _("order loading not authorized"),
        (Capability.ORDERS, AuthStatus.PENDING): _("order loading being authorized"),
        (Capability.ORDERS, AuthStatus.NEEDS_REAUTHORIZATION): _("order loading needs re-authorization"),
        (Capability.ORDERS, AuthStatus.DISABLED): _("order loading disabled"),
        (Capability.LISTINGS, AuthStatus.AUTHORIZED): _("listing/inventory authorized"),
        (Capability.LISTINGS, AuthStatus.NOT_AUTHORIZED): _("listing/inventory not authorized"),
        (Capability.LISTINGS, AuthStatus.PENDING): _("listing/inventory being authorized"),
        (Capability.LISTINGS, AuthStatus.NEEDS_REAUTHORIZATION): _(
            "listing/inventory needs re-authorization"
        ),
        (Capability.LISTINGS, AuthStatus.DISABLED): _("listing/inventory disabled"),
        (Capability.ADS, AuthStatus.AUTHORIZED): _("advertising authorized"),
        # Authorized, but no usable advertising profile for any of the store's sites (ads_unusable).
        (Capability.ADS, "unusable"): _(
            "advertising authorized, but not usable yet: no advertising profile for this store's sites"
        ),
        (Capability.ADS, AuthStatus.NOT_AUTHORIZED): _("advertising not authorized"),
        (Capability.ADS, AuthStatus.PENDING): _("advertising being authorized"),
        (Capability.ADS, AuthStatus.NEEDS_REAUTHORIZATION): _("advertising needs re-authorization"),
        (Capability.ADS, AuthStatus.DISABLED): _("advertising disabled"),
    }
    return phrases[(Capability(capability), status if status == "unusable" else AuthStatus(status))]


def _expiry_phrase(capability: str, left: str) -> str:
    names = {
        Capability.ORDERS: _("order loading"),
        Capability.LISTINGS: _("listing/inventory"),
        Capability.ADS: _("advertising"),
    }
    # `left` is "5 days", or "20 hours" on the last day (Authorization.time_left), never "0 days".
    return _("%(capability)s expires in %(left)s") % {
        "capability": names[Capability(capability)],
        "left": left,
    }


def _sentence(parts: list[str]) -> str:
    text = parts[0]
    for part in parts[1:]:
        # Translators: joins two parts of a status label, e.g. "order loading authorized, listing/inventory ...".
        text = _("%(first)s, %(second)s") % {"first": text, "second": part}
    return text[:1].upper() + text[1:]


def authorization_map(store: Store) -> dict[str, Authorization]:
    """Capability → Authorization of a store, from the prefetched rows when there are some."""
    return {a.capability: a for a in store.authorizations.all()}


def renewal_due(store: Store) -> bool:
    return any(a.renewal_due for a in store.authorizations.all())


def label(store: Store) -> str:
    """The combined status of a store in words (its stored status plus the capabilities' details)."""
    return combined_label(store.authorization_status, authorization_map(store))


def combined_label(status: str, auths: Mapping[str, Authorization]) -> str:
    """Human label of the combined status, e.g. "Order loading authorized, listing/inventory not authorized"."""
    orders, listings = _status(auths, Capability.ORDERS), _status(auths, Capability.LISTINGS)
    if status == CombinedStatus.AUTHORIZED:
        text = _("Authorized")
    elif status == CombinedStatus.PARTIAL:
        text = _sentence(
            [_capability_phrase(Capability.ORDERS, orders), _capability_phrase(Capability.LISTINGS, listings)]
        )
    elif status == CombinedStatus.ATTENTION:
        warn_days = settings.AUTHORIZATION_RENEWAL_WARNING_DAYS
        parts = []
        for cap in (Capability.ORDERS, Capability.LISTINGS, Capability.ADS):
            a = auths.get(cap)
            if a is None:
                continue
            if a.status == AuthStatus.NEEDS_REAUTHORIZATION:
                parts.append(_capability_phrase(cap, a.status))
            elif a.is_spapi and a.expires_within(warn_days):
                parts.append(_expiry_phrase(cap, a.time_left))
        text = _sentence(parts) if parts else _("Needs attention")
    elif status == CombinedStatus.PENDING:
        text = _("Authorizing")
    else:
        text = _("Not authorized")
    ads = _status(auths, Capability.ADS)
    already_named = status == CombinedStatus.ATTENTION and ads == AuthStatus.NEEDS_REAUTHORIZATION
    if ads != AuthStatus.NOT_AUTHORIZED and not already_named:
        phrase = _capability_phrase(
            Capability.ADS, "unusable" if ads_unusable(auths.get(Capability.ADS)) else ads
        )
        text = _("%(label)s · %(ads)s") % {"label": text, "ads": phrase}
    return text


def ads_unusable(auth: Authorization | None) -> bool:
    """Advertising authorized without a usable profile for any of the store's sites (Authorization.ads_unusable)."""
    return auth is not None and auth.ads_unusable


@dataclass(frozen=True)
class Explanation:
    """A capability's current state in words: whether it can be used now, why not, and what to do."""

    works: bool
    headline: str
    reason: str = ""
    todo: str = ""
    # What the page offers: "authorize", "reauthorize", "enable", "finish" (an attempt is open) or "".
    action: str = ""


def explain(auth: Authorization) -> Explanation:
    """The truth about one capability now (its stored status, kept current by the re-checks and the jobs)."""
    from authorizations.reasons import REASONS, describe

    cap = Capability(auth.capability)
    name = cap.label
    if auth.status == AuthStatus.AUTHORIZED:
        if ads_unusable(auth):
            sites = ", ".join(auth.store.ordered_sites)
            return Explanation(
                False,
                _("Advertising authorized, but it cannot be used yet"),
                _("No advertising profile for this store's sites (%(sites)s).") % {"sites": sites},
                _(
                    "Create an advertising profile for these sites in Amazon Ads, or check the store's sites; "
                    "then re-check."
                ),
            )
        return Explanation(True, _("%(capability)s is authorized") % {"capability": name})
    if auth.status == AuthStatus.NEEDS_REAUTHORIZATION:
        reason, _todo = describe(auth.last_error) if auth.last_error in REASONS else describe("unauthorized")
        return Explanation(
            False,
            _("%(capability)s needs re-authorization") % {"capability": name},
            reason,
            _("Re-authorize %(capability)s to restore it.") % {"capability": name.lower()},
            "reauthorize",
        )
    if auth.status == AuthStatus.DISABLED:
        return Explanation(
            False,
            _("%(capability)s is disabled") % {"capability": name},
            _("Disabled on our side: no jobs run; the token is kept."),
            _("Enable it on the store page.")
            if auth.has_token
            else _("Authorize it again on the store page."),
            "enable" if auth.has_token else "authorize",
        )
    if auth.status == AuthStatus.PENDING:
        return Explanation(
            False,
            _("%(capability)s is being authorized") % {"capability": name},
            _("The authorization is not finished at Amazon yet."),
            _("Finish it at Amazon, or start it again."),
            "finish",
        )
    return Explanation(
        False,
        _("%(capability)s is not authorized") % {"capability": name},
        "",
        _("Authorize %(capability)s on the store page.") % {"capability": name.lower()},
        "authorize",
    )
