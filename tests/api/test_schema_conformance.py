"""schemathesis runs the OpenAPI document against the API: every operation, generated valid and invalid input, a
real store of the key's tenant or any other value as the path's code. No answer may be a 5xx, and every answer
(status, headers, body) must be one the document describes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from accounts.models import Membership, Tenant, User
from api.models import ApiKey
from authorizations.models import Authorization, AuthStatus
from tests.api.helpers import make_key
from tests.base import make_store

SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]


@pytest.fixture
def whole_requests() -> Iterator[None]:
    """Requests through the real WSGI handler, inside the test's transaction: as Django's test client does, keep the
    handler from closing the database connection at the end of each request (it would close the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tenant_data(db: Any, whole_requests: None) -> dict[str, str]:
    cache.clear()
    tenant = Tenant.objects.create(name="Schema Trading")
    user = User.objects.create_user(email="schema@example.org", password="pw-schema-123")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.OWNER)
    store = make_store(tenant, nickname="Schema store")
    Authorization.objects.filter(store=store, capability="orders").update(status=AuthStatus.AUTHORIZED)
    elsewhere = Tenant.objects.create(name="Someone else")
    stranger = User.objects.create_user(email="stranger@example.org", password="pw-stranger-123")
    Membership.objects.create(user=stranger, tenant=elsewhere, role=Membership.Role.OWNER)
    other = make_store(elsewhere, nickname="Not yours")
    _key, secret = make_key(tenant, user, scope=ApiKey.Scope.READ_WRITE)
    return {"secret": secret, "code": str(store.code), "other": str(other.code)}


# The document as a client fetches it (no database is needed to serve it).
def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.mark.django_db
@schema.parametrize()
@schema.given(pick=st.sampled_from(["own", "other", "generated"]))
@settings(max_examples=40, deadline=None, suppress_health_check=SUPPRESSED, derandomize=True, database=None)
def test_every_answer_is_one_the_document_describes(
    case: Any, pick: str, tenant_data: dict[str, str]
) -> None:
    cache.clear()  # the per-key rate is not what is tested here: a 429 must not hide the other answers
    code = (case.path_parameters or {}).get("code")
    # Only a generated valid code is swapped for a real one: an invalid one is a negative case and must stay one.
    if code is not None and pick != "generated" and is_uuid(code):
        case.path_parameters["code"] = tenant_data["code" if pick == "own" else "other"]
    case.call_and_validate(headers={"Authorization": f"Bearer {tenant_data['secret']}"})
