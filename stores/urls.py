"""Every URL of a store, in one place: /stores/, and below /stores/<uuid:code>/ its pages, its authorizations and
its background work (each app keeps its own views and URL names: stores:, authorizations:, sync:)."""

from django.urls import include, path

from stores import views

store_patterns = [
    path("", views.store_list, name="list"),
    path("add/", views.store_add, name="add"),
    path("<uuid:code>/", views.store_detail, name="detail"),
    path("<uuid:code>/created/", views.store_created, name="created"),
    path("<uuid:code>/edit/", views.store_edit, name="edit"),
    path("<uuid:code>/archive/", views.store_archive_confirm, name="archive_confirm"),
    path("<uuid:code>/archive/confirm/", views.store_archive, name="archive"),
    path("<uuid:code>/restore/", views.store_restore_confirm, name="restore_confirm"),
    path("<uuid:code>/restore/confirm/", views.store_restore, name="restore"),
]

urlpatterns = [
    path("", include((store_patterns, "stores"))),
    path("<uuid:code>/", include("authorizations.urls")),
    path("<uuid:code>/", include("sync.urls")),
    path("<uuid:code>/", include("shipping.urls")),
]
