"""Many rows in one statement, with their new ids: what an import writes.

On SQLite one writer holds the database at a time (kefu.core.sqlite_writer), so an import's
write must be short. ``insert_rows`` hands all rows to one ``executemany``: SQLAlchemy prepares
every row's parameters before the first row reaches SQLite, so the write lock is held only while
SQLite itself stores them. (``INSERT … RETURNING`` in the order given would make SQLAlchemy send
the rows one by one, preparing each while the lock is held: 50,000 customers held it 2.5 s
instead of 0.3 s.) The ids come afterwards: the newest ``len(rows)`` ids of the table, still in
the same transaction, which no other writer can have entered. On PostgreSQL the ids are drawn
from the table's sequence first and written with the rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, String, Table, bindparam, insert, select, text, type_coerce
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (every one with the same keys, no ``id``) into ``table``, whose primary key
    is an integer ``id``; their new ids, in the order of ``rows``."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n) ORDER BY 1"),
                {"table": table.name, "n": len(rows)},
            )
        )
        session.execute(insert(table), [{**row, "id": new} for row, new in zip(rows, ids, strict=True)])
        return ids
    statement, prepared = _sqlite_insert(table, rows)
    session.execute(statement, prepared)
    newest = list(session.scalars(select(table.c.id).order_by(table.c.id.desc()).limit(len(rows))))
    return newest[::-1]


def _sqlite_insert(table: Table, rows: Sequence[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """JSON values encoded here, before the first row is written: SQLAlchemy would encode them
    while the previous statement of the transaction already holds the write lock (an import's
    scorecards after its calls). SQLite keeps JSON as text; reading back is unchanged."""
    names = [name for name in rows[0] if isinstance(table.c[name].type, JSON)]
    if not names:
        return insert(table), list(rows)
    encoded = [{**row, **{n: None if row[n] is None else json.dumps(row[n]) for n in names}} for row in rows]
    return insert(table).values({n: type_coerce(bindparam(n), String) for n in names}), encoded
