from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from stores import views as store_views

urlpatterns = [
    path("", store_views.index, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("team/api-keys/", include("api.page_urls")),
    path("team/webhooks/", include("webhooks.urls")),
    path("team/", include("accounts.urls")),
    # Every store URL (its pages, authorizations and background work) lives under stores/.
    path("stores/", include("stores.urls")),
    path("", include("authorizations.amazon_urls")),
    path("", include("sync.staff_urls")),
    # The platform API: key-authenticated JSON (api/).
    path("api/v1/", include("api.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
]

if settings.SANDBOX_ACTIVE:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
