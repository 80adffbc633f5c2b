from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import errors, order_views, shipment_views, views

app_name = "api"

urlpatterns = [
    path("stores/", views.StoreList.as_view(), name="stores"),
    path("stores/<str:code>/", views.StoreDetail.as_view(), name="store"),
    path("stores/<str:code>/recheck", views.recheck, name="store_recheck"),
    path("orders/", order_views.OrderList.as_view(), name="orders"),
    # Before the order route: "changes" is never an Amazon order id (3-7-7 digits).
    path("orders/changes/", order_views.OrderChanges.as_view(), name="order_changes"),
    path("orders/<str:amazon_order_id>/", order_views.OrderDetail.as_view(), name="order"),
    path(
        "orders/<str:amazon_order_id>/shipments",
        shipment_views.OrderShipments.as_view(),
        name="order_shipments",
    ),
    path(
        "schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"
    ),
    path("docs/", views.docs, name="docs"),
    re_path(r"^.*$", errors.not_found, name="not_found"),
]
