"""Packages of an order told to Amazon (confirmShipment), and the API's idempotent requests that created them.

A package is identified within its order by its package reference, as at Amazon ("A seller-supplied identifier that
uniquely identifies a package within the scope of an order", ordersV0.json PackageDetail.packageReferenceId): the
same reference sent again edits the package, here and at Amazon.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sync.models import Order


class Package(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent to Amazon")
        CONFIRMED = "confirmed", _("Confirmed at Amazon")
        FAILED = "failed", _("Refused")
        WAITING_RETRY = "waiting_retry", _("Waiting to be sent again")

    class Source(models.TextChoices):
        API = "api", _("Platform API")
        FORM = "form", _("Order page")
        CSV = "csv", _("CSV upload")

    order = models.ForeignKey(Order, models.CASCADE, related_name="packages", verbose_name=_("order"))
    package_reference_id = models.PositiveBigIntegerField(_("package reference"))
    carrier_code = models.CharField(_("carrier"), max_length=100)
    carrier_name = models.CharField(_("carrier name"), max_length=100, blank=True)
    shipping_method = models.CharField(_("shipping method"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100)
    ship_date = models.DateTimeField(_("ship date"))
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.PENDING)
    # A key of shipping/words.py REASONS (Amazon's problems and ours); empty while nothing went wrong.
    problem = models.CharField(_("problem"), max_length=30, blank=True)
    # Amazon's own message of the last refusal (never personal data: it names fields, not people).
    amazon_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Each edit moves the version: a send that finishes for an older version leaves the newer one to be sent.
    version = models.PositiveIntegerField(default=1)
    # The worker sending the package holds it until `claimed_until` (a conditional UPDATE: never two at once).
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    source = models.CharField(_("source"), max_length=4, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key_prefix = models.CharField(_("API key"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        ordering = ["order", "package_reference_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "package_reference_id"], name="one_package_per_reference"
            ),
            models.CheckConstraint(
                condition=models.Q(package_reference_id__gte=1), name="package_reference_positive"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="package_due")]

    def __str__(self) -> str:
        return f"{self.order_id} #{self.package_reference_id} · {self.status}"


class PackageItem(models.Model):
    package = models.ForeignKey(Package, models.CASCADE, related_name="items")
    order_item_id = models.CharField(_("order item"), max_length=40)
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "order_item_id"], name="one_line_per_order_item"),
        ]

    def __str__(self) -> str:
        return f"{self.order_item_id} × {self.quantity}"


class IdempotentRequest(models.Model):
    """A POST made with an Idempotency-Key: its body's hash and the answer given, replayed for the same key.

    Keys are per API key (its prefix, unique among keys): two keys may use the same value."""

    api_key_prefix = models.CharField(max_length=20)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key_prefix", "key"], name="one_answer_per_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.api_key_prefix} {self.status_code}"
