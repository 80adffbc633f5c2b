"""The base of every test: one tenant with an owner, a member and a viewer, and an outsider with a tenant of their own."""

from __future__ import annotations

from django.test import TestCase

from accounts.models import Membership, Tenant, User
from stores.models import Store

PASSWORD = "correct-horse-battery-staple-42"


def make_user(email: str, tenant_name: str | None = None, role: str = Membership.Role.OWNER) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD)
    if tenant_name:
        Tenant.create_for_owner(user, tenant_name)
    return user


def make_store(
    tenant: Tenant, nickname: str = "Main US store", region: str = "NA", sites: list[str] | None = None
) -> Store:
    from authorizations.store_actions import create_store

    membership = Membership.objects.filter(tenant=tenant).order_by("created_at").first()
    assert membership is not None
    return create_store(
        None,  # type: ignore[arg-type]
        membership,
        nickname=nickname,
        region=region,
        sites=sites or (["US", "CA"] if region == "NA" else ["DE"] if region == "EU" else ["JP"]),
        initial_order_date=None,
    )


class BaseTestCase(TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice = make_user("alice@example.org", "Alice Trading")
        self.tenant = Tenant.objects.get(name="Alice Trading")
        self.bob = make_user("bob@example.org")
        Membership.objects.create(tenant=self.tenant, user=self.bob, role=Membership.Role.MEMBER)
        self.vera = make_user("vera@example.org")
        Membership.objects.create(tenant=self.tenant, user=self.vera, role=Membership.Role.VIEWER)
        self.charlie = make_user("charlie@example.org", "Charlie Imports")
        self.other_tenant = Tenant.objects.get(name="Charlie Imports")
        self.store = make_store(self.tenant)

    def login(self, user: User) -> None:
        self.client.force_login(user)
