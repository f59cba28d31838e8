"""One writer at a time on a SQLite file, so that lock contention never ends in "database is locked".

SQLite lets one connection write at a time. Left to SQLite, the others poll for the lock (the busy
timeout: sleeps of up to 100 ms, first come not first served) and give up after the timeout with
"database is locked" — under load that is an HTTP 500. Here the writers of one process queue on a
``threading.Lock`` instead: a connection takes it just before its first write statement and gives
it back when its transaction ends (commit, rollback, close), and the next writer goes on at once.
Readers never take it (WAL: they read a snapshot while one connection writes).

It works at the driver level (a ``sqlite3.Connection`` subclass given to ``sqlite3.connect``), so
every write is covered whatever issued it: the ORM's flush, a Core upsert, ``BEGIN IMMEDIATE``.
pysqlite opens its implicit transaction right before the first INSERT/UPDATE/DELETE/REPLACE (a
read before it runs outside the transaction), so a transaction always starts with its write and
never has to upgrade a stale read snapshot (which SQLite refuses at once, busy timeout or not).

Other processes on the same file (``kefu escalate`` from cron) still meet SQLite's own lock and
its busy timeout. A writer that cannot get the lock within the timeout gets SQLite's own error,
``database is locked``, which the web layer answers with 503 (kefu.web.admission).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

# The statements after which pysqlite holds a write transaction (it opens one before the first
# four itself), and explicit transaction starts.
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN", "SAVEPOINT")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def writer_lock(database: str) -> threading.Lock:
    """The one lock of this process for the database file ``database`` (an absolute path)."""
    with _locks_guard:
        return _locks.setdefault(database, threading.Lock())


def _is_write(statement: str) -> bool:
    return statement.lstrip()[:9].upper().startswith(WRITES)


class SerialisedConnection(sqlite3.Connection):
    """A pysqlite connection whose write transactions take the process's writer lock of its file."""

    writer: threading.Lock  # set by ``connection_class``
    wait: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holds_writer = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or SerialisedCursor)

    def before(self, statement: str) -> None:
        if self.holds_writer or not _is_write(statement):
            return
        if not self.writer.acquire(timeout=self.wait):
            raise sqlite3.OperationalError(f"database is locked (no turn to write within {self.wait:g} s)")
        self.holds_writer = True

    def settle(self) -> None:
        """Give the lock back once no transaction is open (after a commit, a rollback, a failed
        first write, or a write in autocommit mode)."""
        if self.holds_writer and not self.in_transaction:
            self.holds_writer = False
            self.writer.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.settle()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.settle()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.holds_writer:  # closed mid-transaction: SQLite rolled it back
                self.holds_writer = False
                self.writer.release()


class SerialisedCursor(sqlite3.Cursor):
    connection: SerialisedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> SerialisedCursor:
        self.connection.before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.settle()

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> SerialisedCursor:
        self.connection.before(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.settle()


def connection_class(database: str, wait: float) -> type[SerialisedConnection]:
    """The ``factory`` for ``sqlite3.connect`` of the file ``database``: writers wait up to ``wait``
    seconds for their turn."""
    return type("KefuSQLiteConnection", (SerialisedConnection,), {"writer": writer_lock(database), "wait": wait})
