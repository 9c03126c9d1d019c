"""Opening a ledger: a SQLite file (the default: one file, WAL) or a PostgreSQL URL, at its schema's version.

A ledger is used only when one is named (``--ledger PATH|URL`` or ``GREEN_AWARD_LEDGER``). Only
``green-award ledger init`` creates one: a path that does not exist is an error everywhere else (a
mistyped path must not give an empty ledger that lets everything pass), and an existing ledger is
never recreated, nor migrated except by ``green-award ledger upgrade``.

Writes that use the room under a cap are serialised: on SQLite each write transaction starts with
``BEGIN IMMEDIATE`` (one writer at a time, the others wait up to ``BUSY_SECONDS``); on PostgreSQL it
takes a transaction-level advisory lock (``pg_advisory_xact_lock``). Readers are never blocked.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from policies.errors import GreenAwardError

from . import ENV, target_of  # noqa: F401  (here too for callers of db)

VERSION_TABLE = "ledger_version"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_SECONDS = 60
#: The advisory lock every cap-using write takes on PostgreSQL (any fixed 64-bit key; "GA-LEDGR").
PG_LOCK = 0x47412D4C45444752


class LedgerError(GreenAwardError):
    """A ledger that cannot be used as asked (missing, not a ledger, at another version...)."""


def is_url(target: str) -> bool:
    return "://" in target


def url_of(target: str) -> str:
    """A SQLAlchemy URL: a URL as given (``postgresql+psycopg://…``, ``sqlite:///…``), a path as SQLite."""
    if is_url(target):
        try:
            url = make_url(target)
        except ArgumentError:
            raise LedgerError(f"ledger: {target!r} is not a database URL / 账本地址无效") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise LedgerError(
                f"ledger: {url.get_backend_name()} is not supported; use a SQLite file or "
                "postgresql+psycopg://… / 仅支持SQLite文件或PostgreSQL"
            )
        if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)
    return "sqlite:///" + str(Path(target).expanduser().resolve())


def shown(target: str) -> str:
    """The target as messages show it (no password)."""
    return make_url(url_of(target)).render_as_string(hide_password=True) if is_url(target) else target


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise LedgerError("ledger: an in-memory SQLite database keeps nothing; give a file / 账本须为文件")
    return Path(parsed.database)


def _engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _connect(dbapi, _record) -> None:  # noqa: ANN001
            dbapi.isolation_level = None  # the driver's own BEGIN is off: ``_begin`` says which
            cursor = dbapi.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("ledger_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(connection: Connection | None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    current = ScriptDirectory.from_config(config).get_current_head()
    assert current is not None, "the ledger's migrations have a head"
    return current


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


class Ledger:
    """An open ledger: ``read()`` and ``write()`` give sessions, each one transaction."""

    def __init__(self, target: str, engine: Engine):
        self.target, self.engine = target, engine
        self.sqlite = engine.dialect.name == "sqlite"

    @property
    def name(self) -> str:
        return shown(self.target)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that may use the room under a cap: serialised with every other such write."""
        with self.engine.connect() as conn:
            conn.execution_options(ledger_write=True)  # SQLite: BEGIN IMMEDIATE (see ``_engine``)
            with Session(bind=conn) as session, session.begin():
                if not self.sqlite:
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _signed(PG_LOCK)})
                yield session

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return _revision(conn)

    def close(self) -> None:
        self.engine.dispose()


def _signed(key: int) -> int:
    return key - (1 << 64) if key >= 1 << 63 else key


def existing(target: str | os.PathLike | None, *, given: str, create: bool = False) -> tuple[str, str]:
    """The name and URL of a ledger that must exist: one line when none is given (``given`` says how to)
    or its SQLite file is missing (``create``: with the command that makes one)."""
    name = target_of(target)
    if name is None:
        raise LedgerError(f"no ledger given: {given} or set {ENV} / 未指定账本")
    url = url_of(name)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        hint = f"; create one with `green-award ledger init {name}`" if create else ""
        raise LedgerError(f"ledger {name}: no such file{hint} / 账本文件不存在")
    return name, url


def open_ledger(target: str | os.PathLike | None) -> Ledger:
    """The ledger at ``target`` (or ``GREEN_AWARD_LEDGER``), which must exist at this version's schema."""
    name, url = existing(target, given="pass --ledger PATH|URL", create=True)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            found = _revision(conn)
            if found is None and inspect(conn).get_table_names():
                raise LedgerError(
                    f"ledger {shown(name)}: the database holds tables but is not a green-award ledger / 不是账本数据库"
                )
    except OperationalError as exc:
        engine.dispose()
        raise LedgerError(f"ledger {shown(name)}: cannot open it ({first_line(exc)}) / 无法打开账本") from None
    except (sqlite3.DatabaseError, LedgerError):
        engine.dispose()
        raise
    except Exception as exc:  # noqa: BLE001 - a file that is not SQLite, a refused connection...
        engine.dispose()
        raise LedgerError(f"ledger {shown(name)}: cannot open it ({first_line(exc)}) / 无法打开账本") from None
    want = head()
    if found is None:
        engine.dispose()
        raise LedgerError(
            f"ledger {shown(name)}: empty, not initialised; run `green-award ledger init {shown(name)}` / 账本未初始化"
        )
    if found != want:
        engine.dispose()
        raise LedgerError(_version_message(name, found, want))
    return Ledger(name, engine)


def _version_message(name: str, found: str, want: str) -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(None))
    try:
        script.get_revision(found)
    except Exception:  # noqa: BLE001 - a revision this version does not know: a newer program made it
        return (
            f"ledger {shown(name)} is at schema {found}, made by a newer green-award (this one knows up to {want}); "
            "upgrade green-award / 账本由更新版本创建"
        )
    return (
        f"ledger {shown(name)} is at schema {found}, this green-award needs {want}; back it up "
        f"(`green-award ledger backup`) and run `green-award ledger upgrade {shown(name)}` / 账本需升级"
    )


def first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def init_ledger(target: str | os.PathLike, *, revision: str = "head") -> Ledger:
    """Create a ledger at ``target``: a new SQLite file, or an empty PostgreSQL database. Never recreates one.

    ``revision``: the schema to create, the latest by default (an older one makes a ledger as an earlier
    green-award made it: the tests of ``ledger upgrade``)."""
    name = str(target).strip()
    if not name:
        raise LedgerError("ledger init: give a file path or a database URL / 请指定账本路径或地址")
    url = url_of(name)
    path = sqlite_path(url)
    if path is not None:
        if path.exists():
            raise LedgerError(
                f"ledger {name} exists; it is never recreated (`green-award ledger upgrade` migrates it) / 账本已存在"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if inspect(conn).get_table_names():
                found = _revision(conn)
                what = f"a ledger at schema {found}" if found else "tables"
                raise LedgerError(
                    f"ledger {shown(name)} already holds {what}; it is never recreated / 数据库非空，不会重建"
                )
        _migrate(engine, revision)
    except LedgerError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        if path is not None:
            path.unlink(missing_ok=True)
        raise LedgerError(f"ledger {shown(name)}: cannot create it ({first_line(exc)}) / 无法创建账本") from None
    return Ledger(name, engine)


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Every step to ``revision`` in one transaction (a failed step leaves the ledger as it was)."""
    from alembic import command

    with engine.connect() as conn:
        conn = conn.execution_options(ledger_write=True)
        with conn.begin():
            if engine.dialect.name != "sqlite":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _signed(PG_LOCK)})
            (command.downgrade if down else command.upgrade)(_alembic_config(conn), revision)


def upgrade_ledger(target: str | os.PathLike | None) -> tuple[str | None, str]:
    """Migrate an existing ledger to this version's schema: (from, to)."""
    return _move(target, head(), down=False)


def downgrade_ledger(target: str | os.PathLike | None, revision: str) -> tuple[str | None, str]:
    """Migrate a ledger back to an earlier schema (to return to an earlier green-award): (from, to)."""
    return _move(target, revision, down=True)


def _move(target: str | os.PathLike | None, want: str, *, down: bool) -> tuple[str | None, str]:
    name, url = existing(target, given="pass the ledger")
    engine = _engine(url)
    try:
        found = Ledger(name, engine).revision()
        if found is None:
            raise LedgerError(f"ledger {shown(name)} is not initialised; use `green-award ledger init` / 账本未初始化")
        if found != want:
            try:
                _migrate(engine, want, down=down)
            except SQLAlchemyError as exc:
                raise LedgerError(
                    f"ledger {shown(name)}: the migration from schema {found} to {want} failed; nothing was "
                    f"changed ({first_line(exc)}) / 升级失败，台账未改动"
                ) from None
        return found, want
    finally:
        engine.dispose()


def backup_sqlite(ledger: Ledger, out: Path) -> None:
    """A consistent copy of a SQLite ledger, taken while others may be writing (sqlite3's backup API)."""
    path = sqlite_path(url_of(ledger.target))
    if path is None:
        raise LedgerError(
            "ledger backup copies a SQLite ledger; for PostgreSQL use `green-award ledger export -o "
            "FILE.json` or pg_dump (docs/ledger.md) / PostgreSQL请用导出或pg_dump"
        )
    source = sqlite3.connect(path, timeout=BUSY_SECONDS)
    try:
        target = sqlite3.connect(out)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()
