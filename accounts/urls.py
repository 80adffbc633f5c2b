from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("new/", views.create_tenant, name="create_tenant"),
    path("switch/<uuid:code>/", views.switch_tenant, name="switch_tenant"),
    path("members/", views.members, name="members"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/<uuid:code>/role/", views.member_role, name="member_role"),
    path("members/<uuid:code>/remove/", views.member_remove, name="member_remove"),
]
