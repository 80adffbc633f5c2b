from django.urls import path

from authorizations import views

app_name = "authorizations"

urlpatterns = [
    path("stores/<uuid:code>/authorize/<str:capability>/", views.authorize_start, name="start"),
]
