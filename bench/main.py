"""Entry point of bench/run: `python -m bench.main [section ...] [--quick]`."""

from __future__ import annotations

import os
import sys

import django


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client and ALLOWED_HOSTS=testserver for in-process page timing
    from django.conf import settings

    # Thousands of generated users: a slow password hash would dominate the data setup, not what is measured.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from bench import common

    quick = "--quick" in argv
    sections = [a for a in argv if not a.startswith("--")] or [
        "lists",
        "callbacks",
        "load",
        "orders",
        "recheck",
        "tokens",
        "latency",
        "fleet",
        "api",
    ]
    print(f"Machine: {common.machine()}")
    failed = False
    for i, name in enumerate(sections):
        if i:
            print(f"(database settled before {name} in {common.settle():.0f} s)")
        module = __import__(f"bench.{name}", fromlist=["run"])
        ok = module.run(quick=quick)
        failed = failed or not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
