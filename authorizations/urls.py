from django.urls import path

from authorizations import views

app_name = "authorizations"

urlpatterns = [
    path("stores/<uuid:code>/authorize/<str:capability>/", views.authorize_start, name="start"),
    path("stores/<uuid:code>/authorize/<str:capability>/start/", views.authorize_begin, name="begin"),
    path("stores/<uuid:code>/authorize/<str:capability>/query/", views.query_result, name="query"),
    path("stores/<uuid:code>/authorize/<str:capability>/latest/", views.latest_attempt, name="latest"),
    path(
        "stores/<uuid:code>/authorize/<str:capability>/attempts/<uuid:attempt_code>/",
        views.attempt_detail,
        name="attempt",
    ),
    path("stores/<uuid:code>/authorizations/<str:capability>/recheck/", views.recheck, name="recheck"),
    path(
        "stores/<uuid:code>/authorizations/<str:capability>/<str:action>/",
        views.lifecycle_confirm,
        name="lifecycle_confirm",
    ),
    path(
        "stores/<uuid:code>/authorizations/<str:capability>/<str:action>/confirm/",
        views.lifecycle_apply,
        name="lifecycle_apply",
    ),
    path("amazon/callback/", views.callback, name="callback"),
    path("amazon/appstore/<str:capability>/login/", views.appstore_login, name="appstore_login"),
    path("amazon/appstore/continue/", views.appstore_continue, name="appstore_continue"),
    path("amazon/appstore/continue/confirm/", views.appstore_confirm, name="appstore_confirm"),
    path("amazon/ads/callback/", views.ads_callback, name="ads_callback"),
    path("amazon/finish/<uuid:attempt_code>/", views.finish, name="finish"),
    path("amazon/finish/<uuid:attempt_code>/confirm/", views.finish_confirm, name="finish_confirm"),
    path("amazon/finish/<uuid:attempt_code>/decline/", views.finish_decline, name="finish_decline"),
]
