"""The skeleton of every paced job, written once (`Pacer`):

    may the job still run? → a token from the operation's usage-plan bucket (a short wait slept, a long one handed
    back as `Later`) → the call with the grant's access token → on a 403 one renewed access token and the call
    again → what is left (the error, or a back-off) is the job's to record.

`Pacer.call` runs those steps for one request; jobs that must interleave them (order loading asks for the next page
while it stores this one) use the same steps one by one: `may_run`, `take`, `give_back`, `answered`, `failed`.
What the skeleton takes care of: the authorization re-read (`recheck_every`), our shared token bucket
(sync/ratelimit.py, whose PLANS table holds every usage plan), a 429 emptying that bucket, the rate Amazon reports
in x-amzn-RateLimit-Limit, the 403 renewal and the grant's "last checked" (sync/grants.py), the job's time budget,
and the failures in a row (`throttles`, `server_failures`) a job bases its back-off on.

Users: sync/order_sync.py (searchOrders), sync/inventory.py (patchListingsItem, then getListingsItem),
sync/order_changes.py `load` (getOrder), sync/rechecks.py (getMarketplaceParticipations: the bucket only, as
authorizations/grant_checks.py makes the call and a 403 there is the re-check's verdict, not an expired token).

A coming job uses it as it is, e.g. shipment confirmation:
1. its usage plan in sync/ratelimit.py PLANS: `"confirmShipment": Plan(2.0, 10)` (ordersV0.json, per seller);
2. `pacer = Pacer(grants.Grant(auth, Capability.ORDERS, refused), "confirmShipment",
   budget=settings.SYNC_TASK_BUDGET_SECONDS)`, then per package
   `pacer.call(lambda token: api.confirm_shipment(base, token, ...))`, catching `Later` (re-enqueue the job
   `later.after` seconds from now), `Ended` (the authorization is gone: stop) and the client's AmazonError (record it
   by `e.kind`; back off once `pacer.throttles` or `pacer.server_failures` reach the job's limit).
Reports and feeds do the same per operation (createReport, getReport, createFeed, …: each its PLANS row). A job with
no Amazon grant (webhook delivery to a distributor's URL) passes `grant=None` with its own bucket key
(`who`: the endpoint, `application`: e.g. "webhooks") and a PLANS row for its operation: it gets the pacing, the
budget and the failure counts; `call` hands its request an empty token and a 403 is simply raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from amazon.errors import AmazonError
from sync import grants, ratelimit

T = TypeVar("T")
# What is re-read of the authorization before a call (one query): whether it is still authorized, its refresh token
# (rotated by a re-authorization) and the marketplaces it participates in.
AUTH_FIELDS = ["status", "refresh_token_encrypted", "granted_marketplaces"]
SERVER_KINDS = ("server_error", "network")


class Later(Exception):
    """Not now: the job resumes `after` seconds from now, its own way (a re-enqueue, a one-off schedule, the
    next_run_at its dispatcher reads). A long wait for a token, or the job's time budget spent."""

    def __init__(self, after: float) -> None:
        super().__init__(f"{after:.1f} s")
        self.after = after


class Ended(Exception):
    """The job may no longer run: its authorization stopped being authorized (disabled, revoked, archived)."""


class Pacer:
    """One job's calls of one Amazon operation.

    `recheck_every`: seconds between two re-reads of the authorization (0: before every call; None: never, for a
    job that just read it and makes one call); the job's start counts as a read. `store_fields`: what else of the
    store the job needs fresh (order loading: its sites). `budget`: seconds the job may run before it hands over
    (`Later(0)`), so a task ends well before django-q2's timeout.
    """

    def __init__(
        self,
        grant: grants.Grant | None,
        operation: str,
        *,
        who: str = "",
        application: str = "",
        budget: float | None = None,
        recheck_every: float | None = 0.0,
        store_fields: tuple[str, ...] = (),
    ) -> None:
        self.grant = grant
        self.operation = operation
        # The bucket's key: Amazon's usage plans apply per seller and application.
        self.who = who or (grant.seller if grant else "")
        self.application = application or (grant.capability if grant else "")
        self.deadline = None if budget is None else time.monotonic() + budget
        self.recheck_every = recheck_every
        self.store_fields = list(store_fields)
        self.checked = time.monotonic()
        self.throttles = 0  # 429s since the last answer
        self.server_failures = 0  # 5xx or no answer in a row
        self.throttle_wait = 0.0  # after a 429: seconds until our bucket holds a token again
        self.rate_seen: float | None = None  # the last x-amzn-RateLimit-Limit the bucket was told about

    # --- the steps ---------------------------------------------------------------------------------------------

    def may_run(self) -> bool:
        """Whether the job may still call Amazon, the authorization re-read when `recheck_every` says so."""
        if self.grant is None:
            return True
        auth = self.grant.auth
        if self.recheck_every is not None and time.monotonic() - self.checked >= self.recheck_every:
            auth.refresh_from_db(fields=AUTH_FIELDS)
            if self.store_fields:
                auth.store.refresh_from_db(fields=self.store_fields)
            self.checked = time.monotonic()
        return grants.runnable(auth)

    def over_budget(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def take(self) -> float:
        """A token from the shared bucket, short waits slept: 0.0, or the long wait the job must schedule."""
        return ratelimit.take(
            self.who, self.application, self.operation, settings.SYNC_MAX_INLINE_WAIT_SECONDS
        )

    def give_back(self) -> None:
        """A token taken for a request that was not sent after all."""
        ratelimit.give_back(self.who, self.application, self.operation)

    def token(self) -> str:
        """The grant's access token, got from LWA (or the shared cache) the first time it is needed."""
        if self.grant is None:
            return ""
        if not self.grant.token:
            self.grant.renew()
        return self.grant.token

    def answered(self, rate_limit: float | None = None) -> None:
        """Amazon answered (whatever it said about the item): the token holds, the failures in a row end, and the
        bucket follows the rate Amazon reported."""
        if self.grant is not None:
            self.grant.accepted()
        self.throttles = self.server_failures = 0
        if rate_limit is not None and rate_limit != self.rate_seen:
            ratelimit.observe_limit(self.who, self.application, self.operation, rate_limit)
            self.rate_seen = rate_limit

    def failed(self, e: AmazonError) -> bool:
        """Count a failed call; True when it is worth sending again at once (a 403 that earned a fresh token).

        A 403 with a token that was already fresh marks the authorization (grants.Grant.retry_after_403) and returns
        False; a refused renewal raises the grant's `refused` exception. A 429 empties our bucket (`throttled`).
        """
        if e.kind == "unauthorized":
            return self.grant is not None and self.grant.retry_after_403()
        if e.kind == "throttled":
            self.throttled()
            return False
        self.server_failures = self.server_failures + 1 if e.kind in SERVER_KINDS else 0
        return False

    def throttled(self) -> float:
        """Amazon answered 429: its bucket is empty, so ours is too. Returns (and keeps) the wait for a token."""
        self.throttles += 1
        self.throttle_wait = ratelimit.throttled(self.who, self.application, self.operation)
        return self.throttle_wait

    # --- the whole skeleton for one request --------------------------------------------------------------------

    def ready(self) -> None:
        """Before a call: raises `Ended` when the job may no longer run, `Later` when it must wait or hand over."""
        if not self.may_run():
            raise Ended
        if self.over_budget():
            raise Later(0.0)
        wait = self.take()
        if wait:
            raise Later(wait)

    def call(self, request: Callable[[str], T]) -> T:
        """`request(access_token)` through every step. Raises `Ended`, `Later`, the grant's `refused` exception, or
        the client's AmazonError once the skeleton has done its part (counted, the bucket emptied on a 429)."""
        while True:
            self.ready()
            try:
                result = request(self.token())
            except AmazonError as e:
                if self.failed(e):
                    continue
                raise
            self.answered(getattr(result, "rate_limit", None))
            return result
