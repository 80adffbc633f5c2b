from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("new/", views.create_tenant, name="create_tenant"),
    path("switch/<uuid:code>/", views.switch_tenant, name="switch_tenant"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<uuid:code>/role/", views.member_role, name="member_role"),
    path("members/<uuid:code>/remove/", views.member_remove, name="member_remove"),
    # Managers of the tenant: the invitation is named by its public code.
    path("invitations/<uuid:code>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<uuid:code>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    # The invitee: the token from the emailed link (public; the token is the credential).
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/<str:token>/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/decline/", views.invitation_decline, name="invitation_decline"),
    path(
        "invitations/<str:token>/confirm-email/",
        views.invitation_confirm_email,
        name="invitation_confirm_email",
    ),
]
