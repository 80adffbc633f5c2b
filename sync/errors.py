"""Why a background job failed, in words a distributor understands (stored as a short code)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ERRORS: dict[str, Promise] = {
    "throttled": _(
        "Amazon is throttling requests for this seller; loading continues when the quota refills."
    ),
    "server_error": _("Amazon answered with a server error; the portal retries with increasing pauses."),
    "network": _("Amazon did not answer in time; the portal retries with increasing pauses."),
    "bad_response": _("Amazon sent an answer the portal could not read."),
    "invalid": _("Amazon rejected the request; the portal restarts from the last stored order."),
    "not_found": _("Amazon did not find the requested item."),
    "revoked": _("Amazon says the authorization was revoked or has expired. Re-authorize to continue."),
    "unauthorized": _("Amazon refused access with this authorization. Re-authorize to continue."),
    "amazon_error": _("Amazon reported an error while refreshing the access token."),
    "given_up": _("Amazon kept failing; the portal stopped retrying until the next regular run."),
    # The two stops below end order loading until the store is edited, re-checked or re-authorized
    # (sync.order_state.stop_lifted): asking again unchanged would only get the same answer.
    "no_participating_site": _(
        "Amazon does not list the seller as selling on any of this store's sites, so no orders are requested. "
        "Edit the store's sites or re-authorize with the right seller account."
    ),
    "rejected": _(
        "Amazon rejected the request. Check the store's sites and its initial order-pull date, then edit the "
        "store, re-check or re-authorize to load orders again."
    ),
}

# Stops: no retry until the store or its order-loading authorization changes.
STOPS = ("no_participating_site", "rejected")


def describe(code: str) -> str:
    return str(ERRORS.get(code, code))
