"""The order page, mounted under stores/<uuid:code>/ by stores/urls.py."""

from django.urls import path

from shipping import views

app_name = "shipping"
urlpatterns = [
    path("orders/<str:amazon_order_id>/", views.order_page, name="order"),
]
