from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make around it are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config: object) -> None:
    from django.conf import settings

    # Password hashing dominates a test that logs in; MD5 is fine for throwaway test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Django's test client is the browser at http://testserver: register its callbacks at the sandbox's apps,
    # as a developer registers each environment's redirect URI at Amazon.
    settings.SANDBOX_REDIRECT_BASES = [*settings.SANDBOX_REDIRECT_BASES, "http://testserver"]
    # The sandbox answers inside the test's own database transaction (tests/sandbox_http.py), which another thread
    # cannot see: the next order page is asked for in the job's thread (the worker-kill test runs the thread).
    settings.ORDER_SYNC_PREFETCH_IN_THREAD = False
