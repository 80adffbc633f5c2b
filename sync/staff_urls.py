"""Platform staff pages: every store of every tenant, bulk re-checks."""

from django.urls import path

from sync import views

app_name = "staff"
urlpatterns = [
    path("staff/stores/", views.staff_stores, name="staff_stores"),
    path("staff/stores/recheck/", views.staff_recheck, name="staff_recheck"),
    path("staff/rechecks/<uuid:code>/", views.staff_batch, name="staff_batch"),
    path("staff/rechecks/<uuid:code>/progress.json", views.staff_batch_progress, name="staff_batch_progress"),
]
