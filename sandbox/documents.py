"""Report and feed documents where Amazon keeps them: Amazon S3, reached through presigned URLs.

getReportDocument, getFeedDocument and createFeedDocument answer with "A presigned URL … This URL expires after 5
minutes." (reports_2021-06-30.json ReportDocument.url, feeds_2021-06-30.json FeedDocument.url and
CreateFeedDocumentResponse.url). The sandbox signs its URLs the way S3 does in spirit: X-Amz-Date and X-Amz-Expires
in the query and an HMAC of the document, the method and those two over the sandbox's secret in X-Amz-Signature, so a
URL cannot be stretched or pointed at another document. Time is the sandbox's virtual clock.

Answers are S3's, in S3's XML error format (Amazon S3, "Error responses",
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html): an expired URL → 403 AccessDenied "Request has
expired" with X-Amz-Expires, Expires and ServerTime, as S3 answers it; a bad signature → 403 SignatureDoesNotMatch;
an unknown document → 404 NoSuchKey. GET returns the stored bytes (gzip for reports and processing reports: the
client decompresses, as compressionAlgorithm GZIP tells it); PUT stores a feed document's upload and answers 200 with
an ETag, as S3's PutObject.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox import clock
from sandbox.models import SandboxDocument, SandboxSeller

URL_LIFETIME = timedelta(minutes=5)  # "This URL expires after 5 minutes." (the models, above)
AMZ_DATE = "%Y%m%dT%H%M%SZ"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a JSON_LISTINGS_FEED of 25,000 stock patches is ~5 MB


def _signature(document_id: str, method: str, date: str, expires: str) -> str:
    key = hashlib.sha256(f"sandbox-s3:{settings.SECRET_KEY}".encode()).digest()
    message = f"{method}\n{document_id}\n{date}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def presigned_url(document: SandboxDocument, method: str, at: datetime) -> str:
    """A URL that lets its holder GET (or PUT) the document until `at` + 5 minutes of virtual time."""
    date = at.astimezone(UTC).strftime(AMZ_DATE)
    expires = str(int(URL_LIFETIME.total_seconds()))
    query = {
        "X-Amz-Date": date,
        "X-Amz-Expires": expires,
        "X-Amz-Signature": _signature(document.document_id, method, date, expires),
    }
    base = settings.SANDBOX_BASE_URL.rstrip("/")
    region = document.seller.region.lower()
    return f"{base}/{region}/s3/{document.document_id}?{urlencode(query)}"


def download_answer(document: SandboxDocument, id_field: str, at: datetime) -> JsonResponse:
    """getReportDocument / getFeedDocument: the document's id (under the model's field name), a URL signed for the
    next minutes, and compressionAlgorithm GZIP when it is compressed (absent otherwise, as in the models)."""
    body: dict[str, str] = {id_field: document.document_id, "url": presigned_url(document, "GET", at)}
    if document.compressed:
        body["compressionAlgorithm"] = "GZIP"
    return JsonResponse(body)


def new_document(seller: SandboxSeller, kind: str, at: datetime, **fields: object) -> SandboxDocument:
    """A new document; its id is opaque to clients (the models: "The identifier for the … document")."""
    document_id = f"amzn1.spdoc.1.4.{seller.region.lower()}.{uuid.uuid4()}"
    return SandboxDocument.objects.create(
        document_id=document_id, seller=seller, kind=kind, created=at, **fields
    )


def s3_error(status: int, code: str, message: str, **extra: str) -> HttpResponse:
    request_id = uuid.uuid4().hex[:16].upper()
    parts = [f"<Code>{escape(code)}</Code>", f"<Message>{escape(message)}</Message>"]
    parts += [f"<{name}>{escape(value)}</{name}>" for name, value in extra.items()]
    parts += [f"<RequestId>{request_id}</RequestId>", f"<HostId>{uuid.uuid4().hex}</HostId>"]
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["x-amz-request-id"] = request_id
    return response


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """The guard's refusal (sandbox/guard.py) in S3's format."""
    return s3_error(400, "InvalidRequest", message)


def _s3_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check(request: HttpRequest, document_id: str, method: str, at: datetime) -> HttpResponse | None:
    """None when the URL is a valid presigned URL for this method that has not expired at `at`."""
    date = request.GET.get("X-Amz-Date", "")
    expires = request.GET.get("X-Amz-Expires", "")
    given = request.GET.get("X-Amz-Signature", "")
    if not (date and expires and given):
        return s3_error(403, "AccessDenied", "Access Denied")
    if not hmac.compare_digest(given, _signature(document_id, method, date, expires)):
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    try:
        signed = datetime.strptime(date, AMZ_DATE).replace(tzinfo=UTC)
        lifetime = timedelta(seconds=int(expires))
    except (ValueError, OverflowError):
        return s3_error(403, "AccessDenied", "Access Denied")
    if at > signed + lifetime:
        return s3_error(
            403,
            "AccessDenied",
            "Request has expired",
            **{
                "X-Amz-Expires": expires,
                "Expires": _s3_time(signed + lifetime),
                "ServerTime": _s3_time(at),
            },
        )
    return None


@csrf_exempt
def document(request: HttpRequest, region: str, document_id: str) -> HttpResponse:
    """GET (download) or PUT (upload of a feed document) through a presigned URL."""
    if request.method not in ("GET", "PUT"):
        return s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    at = clock.virtual_at(clock.config(), timezone.now())
    refused = _check(request, document_id, request.method, at)
    if refused is not None:
        return refused
    stored = SandboxDocument.objects.filter(document_id=document_id, seller__region=region).first()
    if stored is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    if request.method == "PUT":
        return _upload(request, stored, at)
    if stored.kind == SandboxDocument.Kind.FEED and stored.uploaded_at is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    response = HttpResponse(bytes(stored.content), content_type=stored.content_type or "text/plain")
    response["ETag"] = f'"{hashlib.md5(bytes(stored.content), usedforsecurity=False).hexdigest()}"'
    return response


def _upload(request: HttpRequest, stored: SandboxDocument, at: datetime) -> HttpResponse:
    if stored.kind != SandboxDocument.Kind.FEED:
        # A download URL is signed for GET only, so this is never reached through a URL the sandbox gave out.
        return s3_error(403, "AccessDenied", "Access Denied")
    body = request.body
    if len(body) > MAX_UPLOAD_BYTES:
        return s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    with transaction.atomic():
        SandboxDocument.objects.filter(pk=stored.pk).update(
            content=body,
            uploaded_at=at,
            content_type=request.headers.get("Content-Type", stored.content_type)[:200],
        )
    response = HttpResponse(status=200)
    response["ETag"] = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
    return response
