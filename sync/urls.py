from django.urls import path

from sync import views

app_name = "sync"
urlpatterns = [
    path("stores/<uuid:code>/orders/", views.orders_list, name="orders"),
    path("stores/<uuid:code>/inventory/", views.inventory_page, name="inventory"),
    path("stores/<uuid:code>/inventory/mappings/", views.mapping_add, name="mapping_add"),
    path(
        "stores/<uuid:code>/inventory/mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"
    ),
    path("stores/<uuid:code>/inventory/mappings/upload/", views.mapping_upload, name="mapping_upload"),
    path("stores/<uuid:code>/inventory/stock/upload/", views.stock_upload, name="stock_upload"),
    path("stores/<uuid:code>/inventory/push/", views.push_now, name="push_now"),
    path("staff/stores/", views.staff_stores, name="staff_stores"),
    path("staff/stores/recheck/", views.staff_recheck, name="staff_recheck"),
    path("staff/rechecks/<uuid:code>/", views.staff_batch, name="staff_batch"),
    path("staff/rechecks/<uuid:code>/progress.json", views.staff_batch_progress, name="staff_batch_progress"),
]
