from django.urls import path

from api import pages

app_name = "api_keys"

urlpatterns = [
    path("", pages.keys, name="keys"),
    path("<uuid:code>/revoke/", pages.revoke, name="revoke"),
]
