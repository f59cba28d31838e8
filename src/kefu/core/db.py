"""The database: SQLAlchemy 2 models share one ``Base``; Alembic migrates the schema.

SQLite (a file, nothing to install) by default; PostgreSQL through ``KEFU_DATABASE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker

from kefu.core.errors import NotFound
from kefu.core.settings import private_dir
from kefu.core.sqlite_writer import connection_class

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A time stored as UTC. SQLite keeps no offset: an aware time is turned into UTC before it is
    written or compared, or 10:00+08:00 would be stored (and compared) as 10:00 UTC; and what is
    read back is aware UTC on every database (SQLite gives it back without a zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(timezone=True)}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Versioned:
    """Optimistic locking: every update bumps ``version``; a save based on an older version
    is refused (see ``kefu.core.errors.Conflict``) instead of overwriting someone's edit."""

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}  # type: ignore[attr-defined]


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600), in a 0700 folder when
    kefu makes the folder, before SQLite creates it world-readable; SQLite gives its -wal and
    -shm files the database file's mode. An existing file is left as it is."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if path.exists():
        return
    private_dir(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


SQLITE_BUSY_SECONDS = 5.0  # a writer waits this long for its turn (kefu.core.sqlite_writer)


def make_engine(url: str, *, pool_size: int = 5, pool_timeout: float = 3.0) -> Engine:
    """``pool_size`` connections kept, as many again opened when needed, and a request waits at
    most ``pool_timeout`` seconds for one (then ``sqlalchemy.exc.TimeoutError``: a 503, never a
    queue of 30 s). On SQLite, writers take turns (kefu.core.sqlite_writer)."""
    pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        connect_args: dict[str, Any] = {"check_same_thread": False}
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            connect_args["factory"] = connection_class(str(Path(database).resolve()), SQLITE_BUSY_SECONDS)
        else:
            pool = {}  # an in-memory database: SQLAlchemy's single-connection pool
        engine = create_engine(url, connect_args=connect_args, **pool)  # type: ignore[arg-type]

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)  # type: ignore[arg-type]


def session_factory(engine: Engine, **info: Any) -> sessionmaker[Session]:
    """``info`` rides on every session (the platform's rulebook source, see kefu.quality.rulebooks)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed if the block succeeds, rolled back (nothing half-saved) if not."""
    with factory() as session, session.begin():
        yield session


Row = TypeVar("Row")


def get_or_404(session: Session, model: type[Row], key: object, what: str) -> Row:
    """The stored ``model`` with this id, or ``NotFound``: 「{what} {key} 不存在」."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{what} {key} 不存在")
    return found


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """An action that may be refused, inside a request's transaction: if it raises, what it did
    is undone (a savepoint) and the session stays usable — for the page that shows the refusal
    beside the form, which is then answered without anything half-saved."""
    with session.begin_nested():
        yield


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("kefu.core") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision``."""
    private_sqlite_file(url)
    command.upgrade(alembic_config(url), revision)
