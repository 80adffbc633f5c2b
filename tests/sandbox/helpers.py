"""Shared helpers for the sandbox contract tests: Amazon's model schemas and the OAuth dance through HTTP."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import Client
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from sandbox import api
from sandbox.models import SandboxSeller

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "amazon-models"
CALLBACK = "http://localhost:8000/amazon/callback/"
ADS_CALLBACK = "http://localhost:8000/amazon/ads/callback/"
US, CA, DE, JP = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "A1VC38T7YXB528"


@cache
def _registry() -> Registry:
    registry: Registry = Registry()
    for path in MODELS.glob("*.json"):
        registry = registry.with_resource(path.name, DRAFT4.create_resource(json.loads(path.read_text())))
    return registry


@cache
def _model(model: str) -> dict[str, Any]:
    return json.loads((MODELS / model).read_text())


def response_schema(model: str, path: str, method: str, status: int) -> dict[str, Any]:
    """The schema Amazon's model declares for one operation's response status (refs kept, resolved on use)."""
    operation = _model(model)["paths"][path][method.lower()]
    schema = operation["responses"][str(status)]["schema"]
    ref = schema["$ref"]
    assert ref.startswith("#/definitions/")
    return {"$ref": f"{model}{ref}"}


def assert_matches_model(model: str, path: str, method: str, response: Any) -> Any:
    """Validate a sandbox response body against the model's schema for that operation and status; returns the body."""
    body = response.json()
    validator = Draft4Validator(
        response_schema(model, path, method, response.status_code),
        registry=_registry(),
        format_checker=Draft4Validator.FORMAT_CHECKER,
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{model} {method} {path} {response.status_code}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )
    return body


def orders_app() -> dict[str, Any]:
    return settings.AMAZON_SPAPI_APPS["orders"]


def listings_app() -> dict[str, Any]:
    return settings.AMAZON_SPAPI_APPS["listings"]


def ads_app() -> dict[str, Any]:
    return settings.AMAZON_ADS_APP


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def consent_url(
    application_id: str, state: str = "st-1", redirect_uri: str = CALLBACK, host: str = ""
) -> str:
    host = host or "sellercentral.amazon.com"
    from urllib.parse import urlencode

    params = {"application_id": application_id, "state": state, "redirect_uri": redirect_uri}
    return f"/sandbox/sellercentral/{host}/apps/authorize/consent?{urlencode(params)}"


def confirm_consent(
    client: Client, seller: SandboxSeller, app: dict[str, Any] | None = None
) -> dict[str, str]:
    """Confirm the consent page as `seller`; returns the callback's query parameters."""
    app = app or orders_app()
    host = {
        "NA": "sellercentral.amazon.com",
        "EU": "sellercentral-europe.amazon.com",
        "FE": "sellercentral.amazon.co.jp",
    }[seller.region]
    response = client.post(
        consent_url(app["app_id"], host=host),
        {"seller": seller.selling_partner_id, "understand": "1", "action": "confirm"},
    )
    assert response.status_code == 302, response.content
    return query(response["Location"])


def exchange(
    client: Client, code: str, app: dict[str, Any] | None = None, redirect_uri: str = CALLBACK
) -> Any:
    app = app or orders_app()
    return client.post(
        "/sandbox/na/auth/o2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )


def refresh(client: Client, refresh_token: str, app: dict[str, Any] | None = None) -> Any:
    app = app or orders_app()
    return client.post(
        "/sandbox/na/auth/o2/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )


def connect(client: Client, seller: SandboxSeller, app: dict[str, Any] | None = None) -> dict[str, Any]:
    """Consent + code exchange through the sandbox's HTTP endpoints; returns the token JSON."""
    params = confirm_consent(client, seller, app)
    response = exchange(client, params["spapi_oauth_code"], app)
    assert response.status_code == 200, response.content
    return response.json()


def new_seller(
    name: str = "Test Seller",
    region: str = "NA",
    marketplace_ids: list[str] | None = None,
    orders_per_day: int = 4,
) -> SandboxSeller:
    return api.create_seller(
        name, region, marketplace_ids or ([US, CA] if region == "NA" else None), orders_per_day
    )
