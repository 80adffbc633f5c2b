from collections.abc import Callable

from django.http import HttpResponse
from django.urls import path, register_converter

from sandbox import applications, documents, feeds, lwa, notifications, pages, reports, shipments, spapi
from sandbox.guard import Refuse, guarded


class RegionConverter:
    """`na`, `eu` or `fe` in the path (lowercase, as the portal's endpoint settings build them) → NA, EU, FE."""

    regex = "na|eu|fe"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value.lower()


register_converter(RegionConverter, "region")

View = Callable[..., HttpResponse]


def _family(refuse: Refuse) -> Callable[[View], View]:
    """Every view goes through the guard (404 unless SANDBOX_ACTIVE, 400 for NUL), refusing in its own format."""
    return lambda view: guarded(view, refuse)


page = _family(pages.bad_request)
token = _family(lwa.token_bad_request)
ads = _family(lwa.ads_bad_request)
sp = _family(spapi.bad_request)
s3 = _family(documents.bad_request)

app_name = "sandbox"
urlpatterns = [
    path("", page(pages.control), name="control"),
    path("control/authorizations/<int:pk>/revoke", page(pages.control_revoke), name="control_revoke"),
    path("control/authorizations/<int:pk>/expire", page(pages.control_expire), name="control_expire"),
    path("control/sellers", page(pages.control_create_seller), name="control_create_seller"),
    path("control/faults", page(pages.control_faults), name="control_faults"),
    path("control/time-scale", page(pages.control_time_scale), name="control_time_scale"),
    path("sellercentral/<str:host>/apps/authorize/consent", page(pages.consent), name="consent"),
    path(
        "sellercentral/<str:host>/apps/authorize/confirm/<str:application_id>",
        page(pages.appstore_confirm),
        name="appstore_confirm",
    ),
    path(
        "control/sellers/<int:seller_pk>/appstore/<int:app_pk>",
        page(pages.control_appstore),
        name="control_appstore",
    ),
    path("<region:region>/ap/oa", page(pages.lwa_authorize), name="lwa_authorize"),
    path("<region:region>/auth/o2/token", token(lwa.token), name="token"),
    path("<region:region>/ads/v2/profiles", ads(lwa.profiles), name="ads_profiles"),
    path(
        "<region:region>/sp/sellers/v1/marketplaceParticipations",
        sp(spapi.marketplace_participations),
        name="marketplace_participations",
    ),
    path("<region:region>/sp/orders/2026-01-01/orders", sp(spapi.search_orders), name="search_orders"),
    path("<region:region>/sp/orders/2026-01-01/orders/<str:order_id>", sp(spapi.get_order), name="get_order"),
    path(
        "<region:region>/sp/orders/v0/orders/<str:order_id>/shipmentConfirmation",
        sp(shipments.confirm_shipment),
        name="confirm_shipment",
    ),
    path(
        "<region:region>/sp/applications/2023-11-30/clientSecret",
        sp(applications.rotate_client_secret),
        name="rotate_application_client_secret",
    ),
    path(
        "<region:region>/sp/notifications/v1/destinations",
        sp(notifications.destinations),
        name="notifications_destinations",
    ),
    path(
        "<region:region>/sp/notifications/v1/destinations/<str:destination_id>",
        sp(notifications.destination),
        name="notifications_destination",
    ),
    path(
        "<region:region>/sp/notifications/v1/subscriptions",
        sp(notifications.get_subscriptions),
        name="notifications_subscriptions_list",
    ),
    path(
        "<region:region>/sp/notifications/v1/subscriptions/<str:notification_type>",
        sp(notifications.subscriptions),
        name="notifications_subscriptions",
    ),
    path(
        "<region:region>/sp/notifications/v1/subscriptions/<str:notification_type>/<str:subscription_id>",
        sp(notifications.subscription_by_id),
        name="notifications_subscription",
    ),
    path("<region:region>/sp/reports/2021-06-30/reports", sp(reports.create_report), name="create_report"),
    path(
        "<region:region>/sp/reports/2021-06-30/reports/<str:report_id>",
        sp(reports.get_report),
        name="get_report",
    ),
    path(
        "<region:region>/sp/reports/2021-06-30/documents/<str:document_id>",
        sp(reports.get_report_document),
        name="get_report_document",
    ),
    path(
        "<region:region>/sp/feeds/2021-06-30/documents",
        sp(feeds.create_feed_document),
        name="create_feed_document",
    ),
    path(
        "<region:region>/sp/feeds/2021-06-30/documents/<str:document_id>",
        sp(feeds.get_feed_document),
        name="get_feed_document",
    ),
    path("<region:region>/sp/feeds/2021-06-30/feeds", sp(feeds.create_feed), name="create_feed"),
    path("<region:region>/sp/feeds/2021-06-30/feeds/<str:feed_id>", sp(feeds.get_feed), name="get_feed"),
    # Amazon S3's side of the report and feed documents: the presigned URLs of sandbox/documents.py.
    path("<region:region>/s3/<str:document_id>", s3(documents.document), name="document"),
    path(
        "<region:region>/sp/listings/2021-08-01/items/<str:seller_id>",
        sp(spapi.search_listings_items),
        name="search_listings_items",
    ),
    path(
        "<region:region>/sp/listings/2021-08-01/items/<str:seller_id>/<path:sku>",
        sp(spapi.listings_item),
        name="listings_item",
    ),
]

# A route added without a family still goes through the guard (refusing in the SP-API's format).
for _pattern in urlpatterns:
    if not getattr(_pattern.callback, "sandbox_guarded", False):
        _pattern.callback = sp(_pattern.callback)
