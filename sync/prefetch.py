"""The next page of an order search, asked for while the current page is stored (`Ahead`).

Only the HTTP call runs in the thread (no database access there): its arguments, the access token included, are read
before it starts, and the page it brings is stored by the job's own thread. With ORDER_SYNC_PREFETCH_IN_THREAD off
(the test suite, whose sandbox answers inside the test's own database transaction) the request is sent at once in the
job's thread, in the same order of events.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings

from amazon import orders as api


class Ahead:
    """The request of the next page, sent while the current page is stored."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[api.Page] | None = None
        self.marketplace_ids: list[str] = []

    def start(self, call: Callable[[], api.Page], marketplace_ids: list[str]) -> None:
        if settings.ORDER_SYNC_PREFETCH_IN_THREAD:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="order-page")
            self.pending = self.pool.submit(call)
        else:
            self.pending = now(call)
        self.marketplace_ids = marketplace_ids

    def take(self, marketplace_ids: list[str]) -> Future[api.Page] | None:
        """The page asked for ahead, if it was asked for these marketplaces (the store's sites may have changed)."""
        pending, self.pending = self.pending, None
        if pending is not None and self.marketplace_ids == marketplace_ids:
            return pending
        return None

    def drop(self) -> None:
        """Forget the page asked for ahead: a request still under way ends in its thread, and its page is dropped."""
        self.pending = None
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def now(call: Callable[[], api.Page]) -> Future[api.Page]:
    """The call made at once, in this thread, as a completed future."""
    done: Future[api.Page] = Future()
    try:
        done.set_result(call())
    except Exception as e:  # re-raised by done.result(), where the answer is read
        done.set_exception(e)
    return done
