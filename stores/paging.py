"""A paginator for lists that may hold millions of rows: the total is exact up to a threshold, estimated past it.

Django's Paginator counts with an exact `COUNT(*)`, which reads every matching row: the cost of page 1 grows with
the table. `BigPaginator` counts at most `threshold + 1` rows (a `LIMIT` subquery) and, on PostgreSQL, past the
threshold takes the planner's estimate of the filtered query (`EXPLAIN (FORMAT JSON)` → "Plan Rows"), marked
`estimated` so a page can say "about" (`approximate_count`, rounded; templates/includes/pager.html). Every list
costs the same queries at every size: on PostgreSQL the capped count and the EXPLAIN (planning only, nothing is
read), on SQLite one exact count (there is no estimate to fall back on; SQLite serves development and tests, whose
lists are small). While the total is estimated, "Next" is decided by fetching one row more than the page holds, so
the last page never links to an empty one. While it is exact, the last page is read without a LIMIT (see `page`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet

# Up to this many matching rows the total is exact (override with settings.LIST_EXACT_COUNT_UP_TO).
EXACT_COUNT_UP_TO = 10_000


def estimates(alias: str) -> bool:
    """Whether the database can estimate a count (PostgreSQL's planner); elsewhere counts are exact."""
    return connections[alias].vendor == "postgresql"


def planner_rows(queryset: QuerySet[Any]) -> int:
    """PostgreSQL's estimate of how many rows `queryset` matches, without running it."""
    query = queryset.order_by().values("pk").query
    sql, params = query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return int(plan[0]["Plan"]["Plan Rows"])


class BigPage(Page):
    more: bool | None = None  # set while the total is estimated: whether a row exists past this page

    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
        return super().has_next()

    def next_page_number(self) -> int:
        # An estimate may undercount: the rows decide whether there is a next page, not the estimated total.
        if self.more is not None:
            return self.number + 1
        return super().next_page_number()


class BigPaginator(Paginator):
    def __init__(
        self, object_list: QuerySet[Any], per_page: int, threshold: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.threshold = (
            threshold
            if threshold is not None
            else getattr(settings, "LIST_EXACT_COUNT_UP_TO", EXACT_COUNT_UP_TO)
        )
        self._estimated = False

    @property
    def estimated(self) -> bool:
        """Whether `count` is the planner's estimate (asking counts first)."""
        self.count  # noqa: B018 - computes the count, which decides
        return self._estimated

    @estimated.setter
    def estimated(self, value: bool) -> None:
        self.count  # noqa: B018
        self._estimated = value

    @property
    def approximate_count(self) -> int:
        """The total as a page shows it: exact, or while estimated rounded to two significant digits
        ("about 1,000,000" rather than a planner's 998,513, which would look exact)."""
        count = self.count
        if not self.estimated or count < 100:
            return count
        step = 10 ** (len(str(count)) - 2)
        return round(count / step) * step

    def validate_number(self, number: Any) -> int:
        if not self.estimated:
            return super().validate_number(number)
        # Past the threshold the total is a guess: any page from 1 up is asked for; an empty one shows as empty.
        try:
            value = int(number)
        except (TypeError, ValueError) as e:
            raise PageNotAnInteger("That page number is not an integer") from e
        if value < 1:
            raise EmptyPage("That page number is less than 1")
        return value

    @cached_property
    def count(self) -> int:
        qs: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        if not estimates(qs.db):
            return qs.count()  # no estimate to fall back on: exact (SQLite serves development and tests)
        capped = qs.order_by().values("pk")[: self.threshold + 1].count()
        estimate = planner_rows(qs)  # always asked, so the number of queries does not depend on the size
        if capped <= self.threshold:
            return capped
        self._estimated = True
        return max(estimate, capped)

    def page(self, number: Any) -> BigPage:
        number = self.validate_number(number)
        if not self.estimated:
            bottom = (number - 1) * self.per_page
            if bottom + self.per_page + self.orphans >= self.count:
                # The last page holds the rest: read it without a LIMIT. A LIMIT as small as a search's few
                # matches tempts PostgreSQL, which guesses a hundred matches where there are three, to walk the
                # list's order index and filter it to the end of the table instead of reading the trigram index.
                return self._get_page(list(self.object_list[bottom:]), number, self)
            return super().page(number)  # type: ignore[return-value]
        # (validate_number above let any page through: the rows below decide what is on it)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def _get_page(self, *args: Any, **kwargs: Any) -> BigPage:
        return BigPage(*args, **kwargs)


def paginate(object_list: QuerySet[Any], per_page: int, number: Any) -> Page:
    """The page `number` of `object_list` (a bad or out-of-range number gives the first or last page)."""
    return BigPaginator(object_list, per_page).get_page(number)


__all__: Sequence[str] = [
    "EXACT_COUNT_UP_TO",
    "BigPage",
    "BigPaginator",
    "estimates",
    "paginate",
    "planner_rows",
]
