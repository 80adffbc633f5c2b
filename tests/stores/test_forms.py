from __future__ import annotations

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from stores.forms import StoreCreateForm, StoreEditForm
from tests.base import BaseTestCase


class StoreCreateFormTests(BaseTestCase):
    def form(self, **data: object) -> StoreCreateForm:
        base = {"nickname": "Second store", "region": "NA", "sites": ["US"], "initial_order_date": ""}
        base.update(data)
        return StoreCreateForm(base, tenant=self.tenant)

    def test_a_valid_store_passes(self) -> None:
        f = self.form()
        self.assertTrue(f.is_valid(), f.errors)

    def test_the_nickname_is_trimmed(self) -> None:
        f = self.form(nickname="   Padded   ")
        self.assertTrue(f.is_valid(), f.errors)
        self.assertEqual(f.cleaned_data["nickname"], "Padded")

    def test_an_empty_or_blank_nickname_is_rejected(self) -> None:
        for value in ("", "    "):
            f = self.form(nickname=value)
            self.assertFalse(f.is_valid())
            self.assertIn("nickname", f.errors)

    def test_a_nickname_longer_than_50_characters_is_rejected(self) -> None:
        self.assertTrue(self.form(nickname="x" * 50).is_valid())
        f = self.form(nickname="x" * 51)
        self.assertFalse(f.is_valid())
        self.assertIn("nickname", f.errors)

    def test_a_10_kilobyte_nickname_is_rejected_without_crashing(self) -> None:
        f = self.form(nickname="<b>" * 3500)
        self.assertFalse(f.is_valid())
        self.assertIn("nickname", f.errors)

    def test_a_nickname_is_unique_within_the_tenant_ignoring_case(self) -> None:
        f = self.form(nickname="MAIN us STORE")
        self.assertFalse(f.is_valid())
        self.assertIn("already have a store", str(f.errors["nickname"]))

    def test_another_tenant_may_use_the_same_nickname(self) -> None:
        f = StoreCreateForm(
            {"nickname": "Main US store", "region": "NA", "sites": ["US"]}, tenant=self.other_tenant
        )
        self.assertTrue(f.is_valid(), f.errors)

    def test_the_region_must_be_one_of_the_three(self) -> None:
        f = self.form(region="XX")
        self.assertFalse(f.is_valid())
        self.assertIn("region", f.errors)

    def test_at_least_one_site_is_required(self) -> None:
        f = self.form(sites=[])
        self.assertFalse(f.is_valid())
        self.assertIn("sites", f.errors)

    def test_sites_from_another_region_are_rejected(self) -> None:
        f = self.form(region="NA", sites=["US", "DE"])
        self.assertFalse(f.is_valid())
        self.assertIn("not in the chosen region", str(f.errors["sites"]))

    def test_an_unknown_site_is_rejected(self) -> None:
        f = self.form(sites=["US", "ZZ"])
        self.assertFalse(f.is_valid())
        self.assertIn("sites", f.errors)

    def test_a_far_east_store_has_exactly_one_site(self) -> None:
        self.assertTrue(self.form(region="FE", sites=["JP"]).is_valid())
        f = self.form(region="FE", sites=["JP", "AU"])
        self.assertFalse(f.is_valid())
        self.assertIn("exactly one site", str(f.errors["sites"]))

    def test_a_future_initial_date_is_rejected(self) -> None:
        f = self.form(initial_order_date=(timezone.localdate() + timedelta(days=1)).isoformat())
        self.assertFalse(f.is_valid())
        self.assertIn("future", str(f.errors["initial_order_date"]))

    def test_today_and_the_oldest_allowed_date_are_accepted(self) -> None:
        today = timezone.localdate()
        self.assertTrue(self.form(initial_order_date=today.isoformat()).is_valid())
        self.assertTrue(self.form(initial_order_date=(today - timedelta(days=730)).isoformat()).is_valid())

    def test_a_date_older_than_the_window_is_rejected(self) -> None:
        f = self.form(initial_order_date=(timezone.localdate() - timedelta(days=731)).isoformat())
        self.assertFalse(f.is_valid())
        self.assertIn("730", str(f.errors["initial_order_date"]))

    @override_settings(STORE_INITIAL_DATE_MAX_AGE_DAYS=30)
    def test_the_window_is_a_setting(self) -> None:
        f = self.form(initial_order_date=(timezone.localdate() - timedelta(days=31)).isoformat())
        self.assertFalse(f.is_valid())

    def test_a_malformed_date_is_a_field_error(self) -> None:
        f = self.form(initial_order_date="2026-13-45")
        self.assertFalse(f.is_valid())
        self.assertIn("initial_order_date", f.errors)


class StoreEditFormTests(BaseTestCase):
    def test_the_store_may_keep_its_own_nickname(self) -> None:
        f = StoreEditForm(
            {"nickname": "Main US store", "sites": ["US"]}, tenant=self.tenant, instance=self.store
        )
        self.assertTrue(f.is_valid(), f.errors)

    def test_only_sites_of_the_store_region_are_offered(self) -> None:
        f = StoreEditForm({"nickname": "x", "sites": ["DE"]}, tenant=self.tenant, instance=self.store)
        self.assertFalse(f.is_valid())
        self.assertIn("sites", f.errors)
