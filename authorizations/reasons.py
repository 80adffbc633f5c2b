"""Why an attempt or a check failed, in words a seller understands, with what to do next."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REASONS: dict[str, tuple[Promise, Promise]] = {
    "cancelled": (
        _("The authorization was cancelled at Amazon."),
        _("Start again and press Confirm on Amazon's page when you are ready."),
    ),
    "expired": (
        _("The authorization link expired (it is valid for 15 minutes)."),
        _("Start a new authorization and finish it at Amazon within 15 minutes."),
    ),
    "code_invalid": (
        _("Amazon refused the authorization code: it expired or was already used."),
        _("Start a new authorization; finish it in one go, without reloading Amazon's return page."),
    ),
    "amazon_error": (
        _("Amazon reported an error and did not complete the authorization."),
        _("Try again in a few minutes. If it keeps failing, contact support with the time shown below."),
    ),
    "network": (
        _("Amazon did not answer in time."),
        _("Try again in a few minutes."),
    ),
    "bad_response": (
        _("Amazon sent an answer the portal could not read."),
        _("Try again in a few minutes. If it keeps failing, contact support with the time shown below."),
    ),
    "missing_code": (
        _("Amazon returned without an authorization code."),
        _("Start again and press Confirm on Amazon's page."),
    ),
    "sp_mismatch": (
        _("You signed in to a different Amazon seller account than the one this store is connected to."),
        _("Sign out of Seller Central, sign in with this store's seller account, then start again."),
    ),
    "account_taken": (
        _("This Amazon seller account is already connected to another distributor account."),
        _(
            "An Amazon account can be connected to one distributor account only. Ask that account to archive its store first, or contact support."
        ),
    ),
    "account_in_other_store": (
        _("This Amazon seller account is already connected to another of your stores."),
        _("Use that store, or archive it first."),
    ),
    "verification_failed": (
        _("Amazon accepted the authorization but refused access to the seller's marketplaces."),
        _("Check that the store's region matches the seller account, then start again."),
    ),
    "store_archived": (
        _("The store was archived while the authorization was running."),
        _("Restore or re-create the store, then authorize again."),
    ),
    "not_member": (
        _("The authorization was finished in a browser that is not logged in to this distributor account."),
        _("Log in as a member of the distributor account that started it, or start again from the portal."),
    ),
    "revoked": (
        _("Amazon says the authorization was revoked or has expired."),
        _("Re-authorize to restore it."),
    ),
    "unauthorized": (
        _("Amazon refused access with this authorization."),
        _("Re-authorize to restore it."),
    ),
    "authorization_expired": (
        _("The authorization reached the end of its 365 days."),
        _("Renew it: authorize again with the same seller account."),
    ),
    "declined": (
        _("The person in the browser that received Amazon's answer declined to connect the seller account."),
        _("Nothing was connected. Start again and finish the authorization in this browser."),
    ),
    "busy": (
        _("The portal was too busy to save the authorization."),
        _("Nothing was connected. Start the authorization again."),
    ),
    "seller_mismatch": (
        _("Amazon did not confirm that the authorization belongs to the seller account named in its answer."),
        _("Start again from the portal and do not change Amazon's return link."),
    ),
    "platform_credentials": (
        _("Amazon refused the platform's own application credentials."),
        _("Nothing to do on your side: the platform's staff are alerted and the portal retries."),
    ),
    "task_error": (
        _("The check could not run (it was tried three times)."),
        _("Start the re-check again; if it keeps failing, look at the worker's log."),
    ),
    "throttled": (
        _("Amazon is throttling requests for this seller right now."),
        _("Nothing to do: the portal retries later."),
    ),
    "too_many_checks": (
        _(
            "This authorization was checked at Amazon several times in the last minute; it was not checked again."
        ),
        _("Wait a minute, then check again. The status shown is the latest answer."),
    ),
}


def describe(reason: str) -> tuple[str, str]:
    text, todo = REASONS.get(reason, (_("The authorization failed."), _("Start again.")))
    return str(text), str(todo)


# Amazon's error kinds (amazon.errors.AmazonError.kind) as reasons, per step of the workflow. One table: the same
# kind means different things at different steps (invalid_grant is a spent code at the exchange, a revoked grant
# at a refresh).
_BY_KIND = {"network": "network", "bad_response": "bad_response", "throttled": "throttled"}
_BY_STEP_AND_KIND = {
    ("exchange", "invalid_grant"): "code_invalid",
    ("refresh", "invalid_grant"): "revoked",
    ("verify", "unauthorized"): "verification_failed",
}


def reason_for(kind: str, step: str) -> str:
    """The reason code for an Amazon error `kind` at `step` ("exchange", "refresh" or "verify")."""
    return _BY_STEP_AND_KIND.get((step, kind)) or _BY_KIND.get(kind, "amazon_error")
