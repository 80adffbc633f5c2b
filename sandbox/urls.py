from django.urls import path, register_converter

from sandbox import lwa, pages, spapi


class RegionConverter:
    """`na`, `eu` or `fe` in the path (lowercase, as the portal's endpoint settings build them) → NA, EU, FE."""

    regex = "na|eu|fe"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value.lower()


register_converter(RegionConverter, "region")

app_name = "sandbox"
urlpatterns = [
    path("", pages.control, name="control"),
    path("control/authorizations/<int:pk>/revoke", pages.control_revoke, name="control_revoke"),
    path("control/authorizations/<int:pk>/expire", pages.control_expire, name="control_expire"),
    path("control/sellers", pages.control_create_seller, name="control_create_seller"),
    path("control/faults", pages.control_faults, name="control_faults"),
    path("control/time-scale", pages.control_time_scale, name="control_time_scale"),
    path("sellercentral/<str:host>/apps/authorize/consent", pages.consent, name="consent"),
    path(
        "sellercentral/<str:host>/apps/authorize/confirm/<str:application_id>",
        pages.appstore_confirm,
        name="appstore_confirm",
    ),
    path(
        "control/sellers/<int:seller_pk>/appstore/<int:app_pk>",
        pages.control_appstore,
        name="control_appstore",
    ),
    path("<region:region>/ap/oa", pages.lwa_authorize, name="lwa_authorize"),
    path("<region:region>/auth/o2/token", lwa.token, name="token"),
    path("<region:region>/ads/v2/profiles", lwa.profiles, name="ads_profiles"),
    path(
        "<region:region>/sp/sellers/v1/marketplaceParticipations",
        spapi.marketplace_participations,
        name="marketplace_participations",
    ),
    path("<region:region>/sp/orders/2026-01-01/orders", spapi.search_orders, name="search_orders"),
    path("<region:region>/sp/orders/2026-01-01/orders/<str:order_id>", spapi.get_order, name="get_order"),
    path(
        "<region:region>/sp/listings/2021-08-01/items/<str:seller_id>/<path:sku>",
        spapi.listings_item,
        name="listings_item",
    ),
]
