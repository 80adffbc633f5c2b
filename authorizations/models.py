from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from accounts.models import Tenant
from amazon import marketplaces
from authorizations import crypto
from stores.models import Store


class Capability(models.TextChoices):
    ORDERS = "orders", _("Order loading")
    LISTINGS = "listings", _("Listing/inventory sync")
    ADS = "ads", _("Advertising")


SPAPI_CAPABILITIES = (Capability.ORDERS, Capability.LISTINGS)


class AuthStatus(models.TextChoices):
    NOT_AUTHORIZED = "not_authorized", _("Not authorized")
    PENDING = "pending", _("Authorizing")
    AUTHORIZED = "authorized", _("Authorized")
    NEEDS_REAUTHORIZATION = "needs_reauthorization", _("Needs re-authorization")
    DISABLED = "disabled", _("Disabled")


class Authorization(models.Model):
    """One capability of one store. The refresh token is only ever stored encrypted."""

    store = models.ForeignKey(Store, models.CASCADE, related_name="authorizations", verbose_name=_("store"))
    capability = models.CharField(_("capability"), max_length=10, choices=Capability.choices)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=AuthStatus.choices,
        default=AuthStatus.NOT_AUTHORIZED,
        db_index=True,
    )
    selling_partner_id = models.CharField(_("selling partner id"), max_length=40, blank=True)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    authorized_at = models.DateTimeField(_("authorized on"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires on"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    granted_marketplaces = models.JSONField(_("participating marketplaces"), default=list, blank=True)
    ads_profiles = models.JSONField(_("advertising profiles"), default=list, blank=True)

    class Meta:
        verbose_name = _("authorization")
        verbose_name_plural = _("authorizations")
        constraints = [
            models.UniqueConstraint(fields=["store", "capability"], name="unique_store_capability")
        ]
        indexes = [
            models.Index(fields=["capability", "status"], name="auth_capability_status"),
            # ORDER_CHANGE notifications name the seller: its stores are found through this.
            models.Index(fields=["selling_partner_id", "capability"], name="auth_seller_capability"),
        ]

    def __str__(self) -> str:
        return f"{self.store} · {self.get_capability_display()} · {self.get_status_display()}"

    @property
    def has_token(self) -> bool:
        return bool(self.refresh_token_encrypted)

    def get_refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted) if self.refresh_token_encrypted else ""

    def set_refresh_token(self, token: str) -> None:
        self.refresh_token_encrypted = crypto.encrypt(token) if token else ""

    @property
    def last_error_text(self) -> str:
        """The last error in the reader's language (stored as a reason code, or as text from older rows)."""
        from authorizations.reasons import REASONS, describe

        return describe(self.last_error)[0] if self.last_error in REASONS else self.last_error

    @property
    def is_spapi(self) -> bool:
        return self.capability in SPAPI_CAPABILITIES

    def expires_within(self, days: int) -> bool:
        return (
            self.status == AuthStatus.AUTHORIZED
            and self.expires_at is not None
            and self.expires_at <= timezone.now() + timedelta(days=days)
        )

    @property
    def renewal_due(self) -> bool:
        from django.conf import settings

        return self.is_spapi and self.expires_within(settings.AUTHORIZATION_RENEWAL_WARNING_DAYS)

    @property
    def matching_profiles(self) -> list[dict[str, object]]:
        """Ads profiles the store can use: the seller's own profiles in the store's sites."""
        return [p for p in self._store_site_profiles() if not self.profile_problem(p)]

    @property
    def unusable_profiles(self) -> list[dict[str, object]]:
        """Profiles of the store's sites that the store cannot use, each with `reason` (agency, vendor, other
        seller)."""
        return [
            {**p, "reason": problem}
            for p in self._store_site_profiles()
            if (problem := self.profile_problem(p))
        ]

    def _store_site_profiles(self) -> list[dict[str, object]]:
        ids = set(self.store.marketplace_ids)
        return [p for p in self.ads_profiles if p.get("marketplace_id") in ids]

    def profile_problem(self, profile: dict[str, object]) -> str:
        """Why a profile cannot serve this store ("" if it can).

        Amazon Ads profiles carry accountInfo.type seller, vendor or agency (Ads API reference, Profiles); this
        portal connects seller accounts, so only seller profiles of the store's own seller are usable.
        """
        kind = profile.get("account_type")
        if kind == "agency":
            return str(_("an agency account, not the seller's own advertising account"))
        if kind == "vendor":
            return str(_("a vendor account; this portal connects seller accounts"))
        if kind != "seller":
            return str(_("not a seller account"))
        seller = self.store.selling_partner_id
        if seller and profile.get("account_id") != seller:
            return str(_("belongs to another seller account than this store's"))
        return ""

    @property
    def ads_unusable(self) -> bool:
        """Advertising is authorized but no usable profile serves any of the store's sites, so nothing can use it.

        Amazon Ads work per profile (one per advertiser and marketplace; Ads API reference, Profiles): without a
        seller profile of the store's own sites, the grant reaches nothing of this store.
        """
        return (
            self.capability == Capability.ADS
            and self.status == AuthStatus.AUTHORIZED
            and not self.matching_profiles
        )

    @property
    def sites_without_profile(self) -> list[str]:
        have = {p.get("marketplace_id") for p in self.matching_profiles}

        return [s for s in self.store.ordered_sites if marketplaces.BY_SITE[s].marketplace_id not in have]

    @property
    def days_to_expiry(self) -> int | None:
        if self.expires_at is None:
            return None
        return max(0, (self.expires_at - timezone.now()).days)

    @property
    def time_left(self) -> str:
        """What is left before the grant lapses, in words: "3 days", or "20 hours" on the last day; "" without an
        expiry. Worded by the template filter of the same name (authorizations/templatetags/time_tags.py)."""
        from authorizations.templatetags.time_tags import time_left

        return time_left(self.expires_at)


def new_state() -> str:
    # 32 bytes = 256 random bits, URL-safe.
    return secrets.token_urlsafe(32)


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class AuthorizationAttempt(models.Model):
    """One click on "authorize": the server-side record behind the OAuth `state`."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for Amazon")
        QUARANTINED = "quarantined", _("Waiting for login")
        SUCCEEDED = "succeeded", _("Succeeded")
        CANCELLED = "cancelled", _("Cancelled at Amazon")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Only a hash of the state is looked up; the state itself travels in the consent URL.
    state_hash = models.CharField(max_length=64, unique=True, editable=False)
    store = models.ForeignKey(Store, models.CASCADE, related_name="attempts", verbose_name=_("store"))
    capability = models.CharField(_("capability"), max_length=10, choices=Capability.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("started by")
    )
    session_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    source = models.CharField(max_length=20, default="portal", editable=False)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("callback received"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    selling_partner_id = models.CharField(_("selling partner id"), max_length=40, blank=True)
    # The consent link carries the live state, so it is kept only encrypted (shown to the starter on the waiting
    # page); a database dump alone holds no usable state.
    consent_url_encrypted = models.TextField(blank=True, editable=False)
    # A grant that arrived in a browser other than the starter's is bound to that browser by a random holder
    # token in a cookie (it survives logout/login there); only its SHA-256 is stored.
    holder_hash = models.CharField(max_length=64, blank=True, editable=False)
    # A grant exchanged in another browser waits here (encrypted) until a member logs in, at most 15 minutes.
    quarantined_token_encrypted = models.TextField(blank=True, editable=False)
    start_ip = models.GenericIPAddressField(_("IP at start"), null=True, blank=True)
    start_user_agent = models.CharField(_("user agent at start"), max_length=300, blank=True)
    callback_ip = models.GenericIPAddressField(_("IP at callback"), null=True, blank=True)
    callback_user_agent = models.CharField(_("user agent at callback"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("authorization attempt")
        verbose_name_plural = _("authorization attempts")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["store", "capability", "-started_at"], name="attempt_store_cap")]

    def __str__(self) -> str:
        return f"{self.store} · {self.get_capability_display()} · {self.get_outcome_display()}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_open(self) -> bool:
        return self.outcome in (self.Outcome.PENDING, self.Outcome.QUARANTINED)

    def state_matches(self, state: str) -> bool:
        return hmac.compare_digest(self.state_hash, hash_state(state))

    @property
    def consent_url(self) -> str:
        return crypto.decrypt(self.consent_url_encrypted) if self.consent_url_encrypted else ""

    def holder_matches(self, holder: str) -> bool:
        return bool(self.holder_hash) and hmac.compare_digest(self.holder_hash, hash_state(holder))


ACTION_LABELS = {
    "store.created": _("Store created"),
    "store.updated": _("Store changed"),
    "store.archived": _("Store archived"),
    "store.restored": _("Store restored"),
    "authorization.started": _("Authorization started"),
    "authorization.quarantined": _("Authorization waiting for a confirmation in another browser"),
    "authorization.declined": _("Authorization declined in another browser"),
    "store.seller_claim_withdrawn": _("Unverified seller id withdrawn"),
    "authorization.succeeded": _("Authorization succeeded"),
    "authorization.failed": _("Authorization failed"),
    "authorization.cancelled": _("Authorization cancelled at Amazon"),
    "authorization.expired": _("Authorization link expired"),
    "authorization.rechecked": _("Authorization re-checked"),
    "authorization.disabled": _("Capability disabled"),
    "authorization.enabled": _("Capability enabled"),
    "authorization.revoked": _("Authorization revoked on our side"),
    "authorization.needs_reauthorization": _("Amazon refused the authorization"),
    "credentials.rotation_requested": _("Application secret rotation requested"),
    "credentials.rotation_failed": _("Application secret rotation failed"),
    "credentials.rotated": _("Application secret rotated"),
    "credentials.expiry_announced": _("Amazon announced the application secret's expiry"),
    "order.ship_to_read": _("Ship-to address read"),
}


class AuditEvent(models.Model):
    """Who did what to which store's authorization, and how it ended. Never holds a token or secret."""

    tenant = models.ForeignKey(Tenant, models.SET_NULL, null=True, blank=True, related_name="+")
    store = models.ForeignKey(Store, models.SET_NULL, null=True, blank=True, related_name="audit_events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    capability = models.CharField(_("capability"), max_length=10, choices=Capability.choices, blank=True)
    action = models.CharField(_("action"), max_length=40)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="audit_store_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.outcome}"

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def outcome_label(self) -> str:
        from authorizations.reasons import REASONS

        if self.outcome in REASONS:
            return str(REASONS[self.outcome][0])
        labels = {
            "authorized": _("authorized"),
            "renewed": _("renewed"),
            "pending": _("waiting for Amazon"),
            "ok": _("works"),
            "waiting_for_confirmation": _("waiting for a member to confirm in the browser that received it"),
            "waiting_for_login": _("waiting for a member to log in in the browser that received it"),
            "token_deleted": _("the portal deleted its token"),
            "disabled": _("disabled, token kept"),
            "claim_withdrawn": _("the unverified seller id was withdrawn"),
            "orders": _("order loading application"),
            "listings": _("listing/inventory application"),
            "ads": _("advertising client"),
        }
        return str(labels.get(self.outcome, self.outcome))

    @property
    def detail_text(self) -> str:
        """The detail in the reader's words (stored as short English notes and codes)."""
        detail = self.detail.strip()
        if not detail:
            return ""
        if self.action == "store.updated":
            names = {
                "nickname": _("nickname"),
                "sites": _("sites"),
                "initial_order_date": _("initial order-pull date"),
            }
            changed = pgettext("list separator", ", ").join(
                str(names.get(part, part)) for part in detail.split(",")
            )
            return str(_("Changed: %(fields)s")) % {"fields": changed}
        if self.action == "store.created":
            # Stored as "NA US,CA": the region's name and the sites, in the reader's words.
            region, _sep, sites = detail.partition(" ")
            regions = dict(marketplaces.REGIONS)
            listed = pgettext("list separator", ", ").join(sites.split(",")) if sites else ""
            return " · ".join(str(part) for part in (regions.get(region, region), listed) if part)
        notes = {
            "callback in another browser": _("Amazon's answer arrived in another browser."),
            "declined in the browser that received the callback": _(
                "Declined in the browser that received Amazon's answer."
            ),
        }
        if detail in notes:
            return str(notes[detail])
        if detail.startswith("seller "):
            seller, _sep, rest = detail[len("seller ") :].partition(" ")
            text = str(_("Amazon seller %(seller)s")) % {"seller": seller}
            if rest.strip() == "(unverified)":
                text += " · " + str(_("not yet verified"))
            elif rest.strip():
                text += " · " + rest.strip()
            return text
        return detail


class ThresholdNotice(models.Model):
    """An email sent once per (subject, threshold in days, expiry): claimed by inserting the row first, so a
    second run or a second worker skips it, and a new expiry date starts the thresholds again."""

    threshold_days = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class ExpiryReminder(ThresholdNotice):
    """One reminder email per (authorization, threshold, expiry date): sent at most once."""

    authorization = models.ForeignKey(Authorization, models.CASCADE, related_name="reminders")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authorization", "threshold_days", "expires_at"], name="unique_expiry_reminder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.authorization_id} {self.threshold_days}d"


class ApplicationCredential(models.Model):
    """One application's LWA client credentials, kept as data so a rotation reaches every process at once.

    Amazon makes every SP-API application rotate its client secret at least every 180 days; after a rotation the
    previous secret keeps working until Amazon's overlap ends (docs/architecture.md, "Application credentials").
    Seeded from the environment on first use; secrets only ever stored encrypted.
    """

    class Kind(models.TextChoices):
        ORDERS = "orders", _("Order loading application")
        LISTINGS = "listings", _("Listing/inventory application")
        ADS = "ads", _("Advertising client")

    kind = models.CharField(_("application"), max_length=10, choices=Kind.choices, unique=True)
    client_id = models.CharField(_("client id"), max_length=200)
    secret_encrypted = models.TextField(editable=False)
    secret_expires_at = models.DateTimeField(_("secret expires"), null=True, blank=True)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    rotation_requested_at = models.DateTimeField(_("rotation requested"), null=True, blank=True)
    rotated_at = models.DateTimeField(_("last rotated"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("application credential")
        verbose_name_plural = _("application credentials")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.client_id})"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    @property
    def previous_secret(self) -> str:
        """The secret before the last rotation, while Amazon still accepts it."""
        if not self.previous_secret_encrypted:
            return ""
        if self.previous_expires_at is not None and self.previous_expires_at <= timezone.now():
            return ""
        return crypto.decrypt(self.previous_secret_encrypted)

    @property
    def days_to_expiry(self) -> float | None:
        if self.secret_expires_at is None:
            return None
        return (self.secret_expires_at - timezone.now()).total_seconds() / 86400


class PlatformAlarm(models.Model):
    """A platform-wide outage (our credentials refused, Amazon down for many stores): one row per outage.

    Staff see open alarms as a banner; admins get one email when it opens. It never changes a store.
    """

    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("what"), max_length=200)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    opened_at = models.DateTimeField(_("since"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("platform alarm")
        verbose_name_plural = _("platform alarms")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_alarm_per_outage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class SecretExpiryWarning(ThresholdNotice):
    """One staff email per (application, threshold, expiry): sent at most once."""

    credential = models.ForeignKey(ApplicationCredential, models.CASCADE, related_name="warnings")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "threshold_days", "expires_at"], name="unique_secret_warning"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credential_id} {self.threshold_days}d"
