"""Application Management API (application_2023-11-30): rotate the LWA client secret of our own application.

rotateApplicationClientSecret, POST /applications/2023-11-30/clientSecret, a grantless operation (LWA scope
sellingpartnerapi::client_credential:rotation). Amazon answers 204 and delivers the new secret as an
APPLICATION_OAUTH_CLIENT_NEW_SECRET notification to the application's SQS destination (Application Management
API use case guide; github:amzn/selling-partner-api-samples use-cases/lwa-rotation).
"""

from __future__ import annotations

from amazon import spapi

ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"


class ApplicationsApiError(spapi.SpApiError):
    pass


def rotate_client_secret(sp_api_base: str, access_token: str) -> None:
    spapi.call(
        ApplicationsApiError,
        "POST",
        f"{sp_api_base}/applications/2023-11-30/clientSecret",
        access_token,
        allow_empty=True,
    )
