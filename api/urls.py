from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import errors, views

app_name = "api"

urlpatterns = [
    path("stores/", views.StoreList.as_view(), name="stores"),
    path("stores/<str:code>/", views.StoreDetail.as_view(), name="store"),
    path("stores/<str:code>/recheck", views.recheck, name="store_recheck"),
    path(
        "schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="schema"
    ),
    path("docs/", views.docs, name="docs"),
    re_path(r"^.*$", errors.not_found, name="not_found"),
]
