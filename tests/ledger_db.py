"""Ledgers for the tests: a SQLite file, and a fresh PostgreSQL database when one is offered.

Set ``GREEN_AWARD_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
to run the ledger tests on PostgreSQL as well: each test gets a database of a random name, created
from that server and dropped afterwards. ``GREEN_AWARD_REQUIRE_POSTGRES=1`` makes its absence a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

URL_ENV = "GREEN_AWARD_TEST_DATABASE_URL"
REQUIRE_ENV = "GREEN_AWARD_REQUIRE_POSTGRES"
BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A target for ``ledger init``: a new SQLite path, or the URL of a new, empty PostgreSQL database."""
    if kind == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    server = os.environ.get(URL_ENV)
    if not server:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}) but {URL_ENV} is not set")
        pytest.skip(f"{URL_ENV} not set: the PostgreSQL ledger tests do not run")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "ga_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
