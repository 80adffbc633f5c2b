"""The URLs Amazon sends browsers to: OAuth callbacks, the Appstore login URI, finishing a held grant."""

from django.urls import path

from authorizations import views

app_name = "amazon"

urlpatterns = [
    path("amazon/callback/", views.callback, name="callback"),
    path("amazon/appstore/<str:capability>/login/", views.appstore_login, name="appstore_login"),
    path("amazon/appstore/continue/", views.appstore_continue, name="appstore_continue"),
    path("amazon/appstore/continue/confirm/", views.appstore_confirm, name="appstore_confirm"),
    path("amazon/appstore/continue/cancel/", views.appstore_cancel, name="appstore_cancel"),
    path("amazon/ads/callback/", views.ads_callback, name="ads_callback"),
    path("amazon/finish/<uuid:attempt_code>/", views.finish, name="finish"),
    path("amazon/finish/<uuid:attempt_code>/confirm/", views.finish_confirm, name="finish_confirm"),
    path("amazon/finish/<uuid:attempt_code>/decline/", views.finish_decline, name="finish_decline"),
]
