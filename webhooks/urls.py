from django.urls import path

from webhooks import pages

app_name = "webhooks"

urlpatterns = [
    path("", pages.endpoints, name="endpoints"),
    path("<uuid:code>/", pages.endpoint, name="endpoint"),
    path("<uuid:code>/test/", pages.send_test, name="send_test"),
    path("<uuid:code>/send-again/", pages.send_again, name="send_again"),
    path("<uuid:code>/rotate/", pages.rotate, name="rotate"),
    path("<uuid:code>/enable/", pages.set_enabled, {"action": "enable"}, name="enable"),
    path("<uuid:code>/disable/", pages.set_enabled, {"action": "disable"}, name="disable"),
    path("<uuid:code>/delete/", pages.delete, name="delete"),
]
