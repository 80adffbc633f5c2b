from django.urls import path

from stores import views

app_name = "stores"

urlpatterns = [
    path("", views.store_list, name="list"),
    path("add/", views.store_add, name="add"),
    path("<uuid:code>/", views.store_detail, name="detail"),
    path("<uuid:code>/created/", views.store_created, name="created"),
    path("<uuid:code>/edit/", views.store_edit, name="edit"),
    path("<uuid:code>/archive/", views.store_archive_confirm, name="archive_confirm"),
    path("<uuid:code>/archive/confirm/", views.store_archive, name="archive"),
]
