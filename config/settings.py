"""Settings, read only from the environment (django-environ).

A `.env` file at the repository root is read when present (the setup script writes one for development);
variables already set in the environment win. Production (DEBUG off) refuses to start without its secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if os.environ.get("DJANGO_READ_DOT_ENV", "1") == "1" and (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required_in_production(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} is not set. It is required when DEBUG is off (production); see .env.example."
    )


SECRET_KEY = _required_in_production("SECRET_KEY", "dev-only-insecure-secret-key-do-not-use-in-production")
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set. It is required when DEBUG is off (production).")
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Fernet keys, newest first, comma separated. Rotation: put a new key first and run `manage.py rotate_tokens`.
TOKEN_ENCRYPTION_KEYS: list[str] = [
    k.strip()
    for k in _required_in_production(
        "TOKEN_ENCRYPTION_KEYS", "ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0zMmI="
    ).split(",")
    if k.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "django_q",
    "accounts",
    "stores",
    "authorizations",
    "sync",
    "shipping",
    "sandbox",
    "rest_framework",
    "drf_spectacular",
    "api",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SessionCookieGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.TenantMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so its 400 page renders with the user's language and tenant like every other page.
    "config.middleware.RefuseNulMiddleware",
]

ROOT_URLCONF = "config.urls"
# Form widgets render through TEMPLATES, so templates/ can hold widget templates.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.tenant",
                "authorizations.context_processors.held_grants",
                "authorizations.context_processors.platform_status",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process and the qcluster workers share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Django's SQLite notes: with the default DEFERRED mode a transaction that reads and then writes
            # fails at once with "database is locked" when another connection wrote meanwhile (the busy
            # timeout does not apply to the upgrade). IMMEDIATE takes the write lock at BEGIN and waits for it.
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: email + password, no username.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Mandatory: a sign-up logs in only once its address is confirmed, which is what lets the sign-up answer the same
# for a registered and a new address (allauth's ACCOUNT_PREVENT_ENUMERATION needs it; the owner of a registered
# address is emailed instead). Joining a distributor account needs a confirmed address in any case.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_PREVENT_ENUMERATION = True
# Confirming in the browser that signed up logs in and goes on to `next` (an invitation page, for instance).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_ADAPTER = "config.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "stores:list"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# The platform's name, as users see it in the sender of every email.
PLATFORM_NAME = env.str("PLATFORM_NAME", default="Distributor portal")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{PLATFORM_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language (config/formats/<locale>/formats.py): templates use SHORT_DATE_FORMAT and
# SHORT_DATETIME_FORMAT, never a literal format.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# Security headers. HTTPS-only settings follow DEBUG so `check --deploy` is clean in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token in a hidden field (FormData in app.js as well).
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline code, no
# framing. form-action is left open on purpose: the Appstore flow answers a POST with a redirect to Amazon.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# One cache shared by every web and worker process: allauth's login rate limits count there, so four gunicorn
# workers share one budget instead of four. The database on the embedded default (`createcachetable` runs with
# the migrations), Redis when CACHE_REDIS_URL is set.
if env.str("CACHE_REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("CACHE_REDIS_URL"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
            # One access token per grant lives here for its hour: Django's default of 300 entries would cull
            # them with a few hundred stores (bench/run tokens measured 3.4 refreshes per grant-hour at 1,000).
            "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=200_000), "CULL_FREQUENCY": 4},
        }
    }

# Store rules.
STORE_INITIAL_DATE_MAX_AGE_DAYS = env.int("STORE_INITIAL_DATE_MAX_AGE_DAYS", default=730)
STORES_PER_PAGE = 50

# The platform API (api/): key authentication only (a browser session is not accepted, so no CSRF applies), one
# error shape, and a per-key rate kept in the shared cache.
API_KEY_RATE = env.str("API_KEY_RATE", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["api.authentication.ApiKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_KEY_RATE},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
    "UNAUTHENTICATED_USER": None,
}
# Webhooks (webhooks/): events pushed to the distribution platform, signed per Standard Webhooks.
# Off in production: an endpoint must be https and resolve to a public address (checked on the form and again when
# each delivery connects, against DNS rebinding). On: http and loopback (127.0.0.1, ::1) are allowed too, for the
# demo and the tests; private, link-local and metadata addresses stay refused either way.
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=DEBUG)
# Seconds between a failed attempt and the next one (each with up to 10% jitter); after the last one the delivery
# is given up. The default spans about 28 hours.
WEBHOOKS_RETRY_SCHEDULE = [
    float(s)
    for s in env.list(
        "WEBHOOKS_RETRY_SCHEDULE", default=["5", "300", "1800", "7200", "18000", "36000", "36000"]
    )
]
# An endpoint whose deliveries have failed for this many days without one success is disabled and its owners mailed.
WEBHOOKS_DISABLE_AFTER_DAYS = env.int("WEBHOOKS_DISABLE_AFTER_DAYS", default=5)
# After a secret rotation, deliveries carry a signature with the previous secret too for this many hours.
WEBHOOKS_ROTATION_OVERLAP_HOURS = env.int("WEBHOOKS_ROTATION_OVERLAP_HOURS", default=24)
# Seconds a receiver has to answer a delivery (the connection itself: HTTP_CONNECT_TIMEOUT).
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Store authorization portal API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    # One named enum per set of choices, however many fields use it (else drf-spectacular invents names).
    "ENUM_NAME_OVERRIDES": {
        "AuthorizationStatusEnum": "authorizations.models.AuthStatus",
        "CapabilityEnum": "authorizations.models.Capability",
        "CombinedStatusEnum": "stores.models.CombinedStatus",
    },
}

# Checks someone asks for ("Query authorization result", "Re-check now", the API's POST /stores/{code}/recheck): at
# most this many per authorization per minute, shared by the buttons and the API (0: no limit).
LIVE_CHECKS_PER_MINUTE = env.int("LIVE_CHECKS_PER_MINUTE", default=6)

# Invitations to a distributor account: how long the emailed link stays valid.
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
# Invitation emails (sliding windows in the shared cache; 0 turns one off): per inviting user per hour, per
# distributor account per day, per address per day, and no second email to an address within the minutes.
INVITATIONS_PER_USER_PER_HOUR = env.int("INVITATIONS_PER_USER_PER_HOUR", default=20)
INVITATIONS_PER_TENANT_PER_DAY = env.int("INVITATIONS_PER_TENANT_PER_DAY", default=50)
INVITATIONS_PER_ADDRESS_PER_DAY = env.int("INVITATIONS_PER_ADDRESS_PER_DAY", default=3)
INVITATION_RESEND_MINUTES = env.int("INVITATION_RESEND_MINUTES", default=10)

# The sandbox (simulated Amazon). On by default in development only; production needs both flags.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
SANDBOX_ALLOWED_IN_PRODUCTION = env.bool("SANDBOX_ALLOWED_IN_PRODUCTION", default=False)
# Where the portal's server side reaches the sandbox (the same process in the demo).
SANDBOX_BASE_URL = env.str("SANDBOX_BASE_URL", default="http://127.0.0.1:8000/sandbox")
# The sandbox's SP-API application ids that hold the Direct-to-Consumer Delivery (Restricted) role: only they get the
# recipient's personal fields (sandbox/simulated_orders.py `recipient_json`).
SANDBOX_RESTRICTED_ROLE_APPLICATIONS: list[str] = env.list("SANDBOX_RESTRICTED_ROLE_APPLICATIONS", default=[])
# Origins whose /amazon/callback/ and /amazon/ads/callback/ the sandbox's applications register, as real apps
# register their redirect URIs at Amazon (the sandbox compares them whole). PUBLIC_BASE_URL and the origin of
# SANDBOX_BASE_URL are registered too.
# The queue the sandbox delivers Amazon's notifications to (the one the portal reads, unless set apart).
SANDBOX_NOTIFICATIONS_QUEUE_URL = env.str(
    "SANDBOX_NOTIFICATIONS_QUEUE_URL", default=env.str("AMAZON_NOTIFICATIONS_QUEUE_URL", default="")
)
SANDBOX_REDIRECT_BASES: list[str] = env.list(
    "SANDBOX_REDIRECT_BASES", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)
# 0 (frozen) or 0.01 to 10000 virtual seconds per real second: the bounds of sandbox/clock.py (NaN fails both tests).
# Parsed with float(): env.float drops the letters, so "1e308" would read as 1308.
try:
    SANDBOX_TIME_SCALE = float(env.str("SANDBOX_TIME_SCALE", default="1.0"))
except ValueError:
    SANDBOX_TIME_SCALE = -1.0  # refused just below
if SANDBOX_TIME_SCALE != 0 and not 0.01 <= SANDBOX_TIME_SCALE <= 10000:
    raise ImproperlyConfigured("SANDBOX_TIME_SCALE must be 0 (frozen) or a number from 0.01 to 10000.")
# Decided here, from the environment's DEBUG (tests run with settings.DEBUG forced off): the sandbox is mounted and
# answers only when active; otherwise every sandbox URL is a 404, whatever the system check says.
SANDBOX_ACTIVE = SANDBOX_ENABLED and (DEBUG or SANDBOX_ALLOWED_IN_PRODUCTION)
# The control page ("Manage your apps", faults, time scale) is open to anyone in development, staff only otherwise.
SANDBOX_CONTROL_OPEN = env.bool("SANDBOX_CONTROL_OPEN", default=DEBUG)

# Outbound HTTP.
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=20.0)

# django-q2. timeout < retry, finite attempts: a killed worker's task is handed out again, never forever.
Q_CLUSTER = {
    "name": "portal",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=720),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    # Long tasks: a cluster takes one task at a time and keeps a short local queue, so several clusters (several
    # machines) share the work instead of one hoarding it.
    "queue_limit": env.int("Q_QUEUE_LIMIT", default=env.int("Q_WORKERS", default=2) * 2),
    "bulk": env.int("Q_BULK", default=1),
    # A worker process is replaced after this many tasks (django-q2's default, 500).
    "recycle": env.int("Q_RECYCLE", default=500),
    "catch_up": False,
    "save_limit": 1000,
    "label": "Django Q2",
}
if env.str("Q_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("Q_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"
if env.bool("Q_SYNC", default=False):
    Q_CLUSTER["sync"] = True

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "config.logfilters.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own default "django" handler would print each of its lines (and a 403's traceback) a second
        # time next to the root's: one handler, ours.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # runserver's request lines carry query strings (OAuth callbacks): through the redacting handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Amazon. With AMAZON_USE_SANDBOX the endpoints below are replaced by the sandbox's (see amazon/endpoints.py);
# switching to real Amazon is configuration only.
AMAZON_USE_SANDBOX = env.bool("AMAZON_USE_SANDBOX", default=SANDBOX_ENABLED)
AMAZON_ENDPOINTS = {
    "NA": {
        "sp_api": env.str("AMAZON_NA_SP_API", default="https://sellingpartnerapi-na.amazon.com"),
        "lwa_authorize": env.str("AMAZON_NA_LWA_AUTHORIZE", default="https://www.amazon.com/ap/oa"),
        # Amazon Ads' token host of the region (Ads API docs, "Retrieve access and refresh tokens"); the older
        # name AMAZON_NA_LWA_TOKEN is still read.
        "ads_token": env.str(
            "AMAZON_NA_ADS_LWA_TOKEN",
            default=env.str("AMAZON_NA_LWA_TOKEN", default="https://api.amazon.com/auth/o2/token"),
        ),
        "ads_api": env.str("AMAZON_NA_ADS_API", default="https://advertising-api.amazon.com"),
    },
    "EU": {
        "sp_api": env.str("AMAZON_EU_SP_API", default="https://sellingpartnerapi-eu.amazon.com"),
        "lwa_authorize": env.str("AMAZON_EU_LWA_AUTHORIZE", default="https://eu.account.amazon.com/ap/oa"),
        # Amazon Ads' token host of the region (Ads API docs, "Retrieve access and refresh tokens"); the older
        # name AMAZON_EU_LWA_TOKEN is still read.
        "ads_token": env.str(
            "AMAZON_EU_ADS_LWA_TOKEN",
            default=env.str("AMAZON_EU_LWA_TOKEN", default="https://api.amazon.co.uk/auth/o2/token"),
        ),
        "ads_api": env.str("AMAZON_EU_ADS_API", default="https://advertising-api-eu.amazon.com"),
    },
    "FE": {
        "sp_api": env.str("AMAZON_FE_SP_API", default="https://sellingpartnerapi-fe.amazon.com"),
        "lwa_authorize": env.str("AMAZON_FE_LWA_AUTHORIZE", default="https://apac.account.amazon.com/ap/oa"),
        # Amazon Ads' token host of the region (Ads API docs, "Retrieve access and refresh tokens"); the older
        # name AMAZON_FE_LWA_TOKEN is still read.
        "ads_token": env.str(
            "AMAZON_FE_ADS_LWA_TOKEN",
            default=env.str("AMAZON_FE_LWA_TOKEN", default="https://api.amazon.co.jp/auth/o2/token"),
        ),
        "ads_api": env.str("AMAZON_FE_ADS_API", default="https://advertising-api-fe.amazon.com"),
    },
}
# The SP-API's LWA token endpoint is one host for every region ("Connect to the Selling Partner API").
AMAZON_SPAPI_LWA_TOKEN = env.str("AMAZON_SPAPI_LWA_TOKEN", default="https://api.amazon.com/auth/o2/token")
# Seller Central consent host per site comes from amazon/marketplaces.py; this template turns it into a URL.
AMAZON_SELLER_CENTRAL_URL_TEMPLATE = env.str("AMAZON_SELLER_CENTRAL_URL_TEMPLATE", default="https://{host}")
# Public base URL of the portal, used for OAuth redirect URIs registered at Amazon. Amazon compares redirect_uri
# with the registered https URI exactly ("Website authorization workflow", MD5101 otherwise), so production must
# name it; only development may take it from the request.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
# Links in emails: the public URL, or the demo's address in development.
EMAIL_LINK_BASE_URL = PUBLIC_BASE_URL or "http://127.0.0.1:8000"
if not DEBUG and not PUBLIC_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        ("PUBLIC_BASE_URL is not set." if not PUBLIC_BASE_URL else "PUBLIC_BASE_URL is not an https URL.")
        + " It is required when DEBUG is off (production): the portal's https URL, whose /amazon/callback/ and "
        "/amazon/ads/callback/ are registered at Amazon."
    )


def _amazon_secret(name: str, sandbox_default: str) -> str:
    # Sandbox values are the development defaults; production leaves them empty and a system check reports it.
    return env.str(name, default=sandbox_default if AMAZON_USE_SANDBOX else "")


# Two SP-API applications (one per capability) and one Login with Amazon client for Ads.
AMAZON_SPAPI_APPS = {
    "orders": {
        "app_id": _amazon_secret("SPAPI_ORDERS_APP_ID", "amzn1.sp.solution.sandbox-orders-0001"),
        "client_id": _amazon_secret("SPAPI_ORDERS_CLIENT_ID", "amzn1.application-oa2-client.sandbox-orders"),
        "client_secret": _amazon_secret("SPAPI_ORDERS_CLIENT_SECRET", "sandbox-orders-client-secret"),
        "beta": env.bool("SPAPI_ORDERS_DRAFT", default=False),
    },
    "listings": {
        "app_id": _amazon_secret("SPAPI_LISTINGS_APP_ID", "amzn1.sp.solution.sandbox-listings-0002"),
        "client_id": _amazon_secret(
            "SPAPI_LISTINGS_CLIENT_ID", "amzn1.application-oa2-client.sandbox-listings"
        ),
        "client_secret": _amazon_secret("SPAPI_LISTINGS_CLIENT_SECRET", "sandbox-listings-client-secret"),
        "beta": env.bool("SPAPI_LISTINGS_DRAFT", default=False),
    },
}
AMAZON_ADS_APP = {
    "client_id": _amazon_secret("ADS_CLIENT_ID", "amzn1.application-oa2-client.sandbox-ads"),
    "client_secret": _amazon_secret("ADS_CLIENT_SECRET", "sandbox-ads-client-secret"),
}
# Amazon's notifications (application secret expiry and new secrets; ORDER_CHANGE) arrive on an SQS queue, read
# with boto3. AWS_SQS_ENDPOINT_URL points boto3 at a local SQS-protocol server in the demo and the tests; empty
# means AWS itself. AWS credentials come from boto3's usual environment variables.
AMAZON_NOTIFICATIONS_QUEUE_URL = env.str("AMAZON_NOTIFICATIONS_QUEUE_URL", default="")
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
AWS_SQS_ENDPOINT_URL = env.str("AWS_SQS_ENDPOINT_URL", default="")
# Application secrets: rotate by API this many days before Amazon's expiry; staff are mailed at these thresholds
# while no rotation has succeeded.
APP_SECRET_ROTATION_LEAD_DAYS = env.int("APP_SECRET_ROTATION_LEAD_DAYS", default=30)
APP_SECRET_WARNING_DAYS = (90, 30, 7)
# Access tokens live an hour; the portal reuses one per grant and refreshes this many seconds before it lapses.
ACCESS_TOKEN_REFRESH_MARGIN_SECONDS = env.int("ACCESS_TOKEN_REFRESH_MARGIN_SECONDS", default=300)
AUTHORIZATION_ATTEMPT_TTL_SECONDS = 15 * 60
AUTHORIZATION_VALIDITY_DAYS = 365
AUTHORIZATION_RENEWAL_WARNING_DAYS = 30

# Background work: order loading, inventory push, re-checks (sync app).
# The longest pause between incremental order syncs of a store (lastUpdatedAfter). A store whose orders keep coming is
# polled as often as Amazon's searchOrders rate limit lets it (sync/cadence.py, "adaptive polling") and backs off
# towards this when quiet, or stays at it while ORDER_CHANGE notifications bring its orders.
ORDER_SYNC_INTERVAL_MINUTES = env.int("ORDER_SYNC_INTERVAL_MINUTES", default=15)
# Quiet incremental runs in a row before the polling pause starts doubling.
ORDER_SYNC_QUIET_RUNS = env.int("ORDER_SYNC_QUIET_RUNS", default=3)
# Subscribe every seller whose order loading is authorized to ORDER_CHANGE (Notifications API, our SQS
# destination). Needs AMAZON_NOTIFICATIONS_QUEUE_URL; off without it.
ORDER_CHANGE_NOTIFICATIONS = env.bool("ORDER_CHANGE_NOTIFICATIONS", default=True)
# `manage.py sync_loop` runs (scripts/run starts it): it dispatches due syncs every second and long-polls the
# notification queue, so syncs are not also planned as one-off django-q2 schedules.
SYNC_LOOP = env.bool("SYNC_LOOP", default=False)
# Orders per searchOrders page (1-100).
ORDER_SYNC_PAGE_SIZE = env.int("ORDER_SYNC_PAGE_SIZE", default=100)
# Incremental syncs re-read this much before the last watermark, for updates Amazon records late.
ORDER_SYNC_OVERLAP_MINUTES = env.int("ORDER_SYNC_OVERLAP_MINUTES", default=5)
# Keep each order's JSON as Amazon sent it.
ORDER_SYNC_KEEP_RAW = env.bool("ORDER_SYNC_KEEP_RAW", default=False)
# True only when the orders application was granted Amazon's Direct-to-Consumer Delivery (Restricted) role: orders
# are then read with the recipient's ship-to address (amazon/orders.py `included_data`, sync/ship_to.py).
AMAZON_ORDERS_RESTRICTED_ROLE = env.bool("AMAZON_ORDERS_RESTRICTED_ROLE", default=False)
# Days after shipment or cancellation the ship-to address's personal fields are kept (Amazon's Data Protection
# Policy allows at most 30 days after delivery; shipping comes before delivery, so this erases no later).
SHIP_TO_RETENTION_DAYS = env.int("SHIP_TO_RETENTION_DAYS", default=30)
# The next page of an order search is asked for in a thread while the current one is stored (sync/prefetch.py `Ahead`).
ORDER_SYNC_PREFETCH_IN_THREAD = env.bool("ORDER_SYNC_PREFETCH_IN_THREAD", default=True)
# A task stops starting new pages after this long and continues in a new task (must stay well below Q_TIMEOUT).
SYNC_TASK_BUDGET_SECONDS = env.int("SYNC_TASK_BUDGET_SECONDS", default=300)
# How long a worker's claim on a store's order sync lasts without progress (a killed worker's claim lapses).
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=600)
# Waits for a rate-limit token up to this long are slept inside the task; longer ones re-enqueue it.
SYNC_MAX_INLINE_WAIT_SECONDS = env.float("SYNC_MAX_INLINE_WAIT_SECONDS", default=10.0)
# Amazon 5xx/timeouts: retries with exponential backoff (base, doubled each time), then the error is recorded.
SYNC_RETRY_LIMIT = env.int("SYNC_RETRY_LIMIT", default=5)
SYNC_RETRY_BASE_SECONDS = env.int("SYNC_RETRY_BASE_SECONDS", default=60)
# Minutes between inventory pushes (only changed quantities are sent).
INVENTORY_PUSH_INTERVAL_MINUTES = env.int("INVENTORY_PUSH_INTERVAL_MINUTES", default=15)
SYNC_CSV_MAX_BYTES = 1024 * 1024
SYNC_ROWS_PER_PAGE = 50
