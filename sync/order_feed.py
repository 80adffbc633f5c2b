"""The orders changes feed: every write of an order moves it to a new position, and a reader that keeps its cursor
receives every change after it exactly once, in position order, and never skips one.

Why a cursor over `updated_at` skips: a writer reads the clock, then commits later. Transaction A stamps order X at
10:00:00 and stays open; transaction B stamps order Y at 10:00:01 and commits; a consumer reads "updated after its
cursor", gets Y and moves its cursor to 10:00:01; A commits, and X (10:00:00) is behind the cursor for ever. Any
position handed out before commit (a time, a sequence value, an autoincrement id) has the same flaw: positions are
taken in one order and become visible in another.

The feed (`OrderFeedEntry`, one row per order) orders changes by (txid, seq) and shows a reader only positions that
can no longer be preceded by anything new:

- **PostgreSQL.** `record` stamps the written orders' rows with the writer's transaction id (`pg_current_xact_id()`,
  64 bits, never wraps) and a value of a sequence. `read` returns only rows whose txid is below the oldest
  transaction its own snapshot sees running (`pg_current_snapshot()`: its xmin, less the transactions of other
  databases, which never write these tables; `HORIZON`): every transaction with a smaller id has committed or
  rolled back, and every transaction that has not yet written will get a larger id. So nothing can later appear at or
  below a position a reader has been given. Rows of one transaction are ordered by seq; across transactions the
  order is by txid, not seq, because the sequence value is not taken in commit order either (a transaction may draw
  a value, and another a larger one and commit first).
- **SQLite.** Writers are serialized by the database's write lock (taken at BEGIN: transaction_mode IMMEDIATE, and
  by every statement in autocommit), and `record` runs after the writer's first write, so a counter read and bumped
  inside the statement (max(seq) + n) is in commit order. txid is 0.

The price of never skipping: on PostgreSQL the feed stops at the oldest transaction still open in the database that
has written anything (any table). Order writers hold their transactions for one page of orders, so the delay is that
long; a transaction left open for an hour would hold the feed back an hour (and show in pg_stat_activity as "idle in
transaction"). Read-only transactions have no id and hold nothing back.

Indexes (tenant, txid, seq), (store, txid, seq) and (txid, seq) make a page one index range scan from the cursor,
whatever the size of the table.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from stores.models import Store
from sync.models import OrderFeedEntry

SEQUENCE = "sync_order_feed_seq"  # created by sync/migrations/0008_order_changes_feed.py (PostgreSQL only)
BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True, order=True)
class Position:
    txid: int
    seq: int

    def token(self) -> str:
        """The opaque cursor a consumer keeps: base64url of "txid.seq" without padding."""
        return base64.urlsafe_b64encode(f"{self.txid}.{self.seq}".encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> Position:
        """The position of a cursor; ValueError when it is not one this feed handed out."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            txid, seq = (int(part) for part in text.split("."))
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise ValueError(token) from e
        if not (0 <= txid <= BIGINT_MAX and 0 <= seq <= BIGINT_MAX) or token != cls(txid, seq).token():
            raise ValueError(token)
        return cls(txid, seq)


START = Position(0, 0)

# The first txid a reader may not return yet: the oldest transaction its snapshot sees running (pg_snapshot_xip),
# or the snapshot's xmax when none runs. Computed once per statement, so a page is an index range below it.
# Transactions of other databases of the server (which never write these tables) are left out when pg_stat_activity
# names their database; an xid it does not name stays in, which can only hold the feed back, never skip. The
# reader's own transaction is not in xip: its own writes (a test's one transaction) are its own to read.
HORIZON = """
    SELECT LEAST(
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
        (SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
         WHERE (x::text::bigint & 4294967295) NOT IN (
            SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
            WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database())))
"""


def record(store: Store, order_ids: Iterable[int]) -> None:
    """Move the written orders to new positions of the feed: one statement, in the writer's transaction (called by
    sync/order_store.py `upsert` after the orders were written, which on SQLite means the write lock is held)."""
    ids = sorted(order_ids)
    if not ids:
        return
    qn = connection.ops.quote_name
    table = qn(OrderFeedEntry._meta.db_table)
    head = f"INSERT INTO {table} (order_id, tenant_id, store_id, txid, seq) "  # noqa: S608
    tail = " ON CONFLICT (order_id) DO UPDATE SET txid = EXCLUDED.txid, seq = EXCLUDED.seq"
    if connection.vendor == "postgresql":
        sql = (
            head + f"SELECT t.id, %s, %s, pg_current_xact_id()::text::bigint, nextval('{SEQUENCE}') "  # noqa: S608
            "FROM unnest(%s::bigint[]) AS t(id)" + tail
        )
        params: list[Any] = [store.tenant_id, store.pk, ids]
    else:
        # "WHERE true": SQLite needs it to read ON CONFLICT after INSERT … SELECT as the upsert clause.
        sql = (
            head + f"SELECT CAST(j.value AS INTEGER), %s, %s, 0, "  # noqa: S608
            f"(SELECT COALESCE(MAX(seq), 0) FROM {table} WHERE txid = 0) + j.key + 1 "
            "FROM json_each(%s) AS j WHERE true" + tail
        )
        params = [store.tenant_id, store.pk, json.dumps(ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def read(
    stores: QuerySet[Store], after: Position, limit: int, tenant_id: int | None = None
) -> list[tuple[Position, int]]:
    """Up to `limit` (position, order id) after `after`, in position order, of the orders of `stores` (a queryset
    used as a subquery); `tenant_id` narrows the index range to one tenant (None: a platform key, every tenant).
    Only final positions are returned (see the module docstring)."""
    qn = connection.ops.quote_name
    table = qn(OrderFeedEntry._meta.db_table)
    store_sql, store_params = stores.values("pk").query.sql_with_params()
    where = ["(f.txid, f.seq) > (%s, %s)", f"f.store_id IN ({store_sql})"]
    params: list[Any] = [after.txid, after.seq, *store_params]
    if tenant_id is not None:
        where.insert(0, "f.tenant_id = %s")
        params.insert(0, tenant_id)
    if connection.vendor == "postgresql":
        where.append(f"f.txid < ({HORIZON})")
    sql = (
        f"SELECT f.txid, f.seq, f.order_id FROM {table} f WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY f.txid, f.seq LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [(Position(txid, seq), order_id) for txid, seq, order_id in cursor.fetchall()]


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Read a page and the orders it names in one snapshot, so each order is shown as it was at its position.

    Read in two statements under READ COMMITTED, an order whose newer version commits in between would be shown at
    its old position with its new content, and again at its new position: twice in a row. PostgreSQL: one READ ONLY
    REPEATABLE READ transaction (takes no lock). SQLite: one transaction (it holds the write lock for the page's few
    reads). Inside a transaction already (a test's), its snapshot is the one."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
