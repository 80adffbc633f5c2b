"""The URLs of a store's background work (orders, inventory), mounted under stores/<uuid:code>/ by stores/urls.py."""

from django.urls import path

from sync import views

app_name = "sync"
urlpatterns = [
    path("orders/", views.orders_list, name="orders"),
    path("orders/export.csv", views.orders_export, name="orders_export"),
    path("inventory/", views.inventory_page, name="inventory"),
    path("inventory/mappings/", views.mapping_add, name="mapping_add"),
    path("inventory/mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
    path("inventory/mappings/upload/", views.mapping_upload, name="mapping_upload"),
    path("inventory/stock/upload/", views.stock_upload, name="stock_upload"),
    path("inventory/push/", views.push_now, name="push_now"),
]
