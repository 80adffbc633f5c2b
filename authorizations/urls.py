"""The URLs of a store's authorizations, mounted under stores/<uuid:code>/ by stores/urls.py."""

from django.urls import path

from authorizations import views

app_name = "authorizations"

urlpatterns = [
    path("authorize/<str:capability>/", views.authorize_start, name="start"),
    path("authorize/<str:capability>/start/", views.authorize_begin, name="begin"),
    path("authorize/<str:capability>/query/", views.query_result, name="query"),
    path("authorize/<str:capability>/latest/", views.latest_attempt, name="latest"),
    path(
        "authorize/<str:capability>/attempts/<uuid:attempt_code>/",
        views.attempt_detail,
        name="attempt",
    ),
    path("authorizations/<str:capability>/recheck/", views.recheck, name="recheck"),
    path(
        "authorizations/<str:capability>/<str:action>/",
        views.lifecycle_confirm,
        name="lifecycle_confirm",
    ),
    path(
        "authorizations/<str:capability>/<str:action>/confirm/",
        views.lifecycle_apply,
        name="lifecycle_apply",
    ),
]
