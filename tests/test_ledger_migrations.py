"""The ledger's migrations on a ledger an earlier green-award made: 0003 turns the findings' text mark into a column.

Up to schema 0002 the findings of the rules against the record were told by their text ("账本 Ledger: …");
0003 gives findings a ``source`` (``review`` | ``ledger``) and removes the mark from the stored text; the
downgrade puts it back. Run on SQLite and, with GREEN_AWARD_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from addin.ledger.db import LedgerError, downgrade_ledger, head, init_ledger, open_ledger, upgrade_ledger
from addin.ledger.repository import Item, record

from ledger_db import BACKENDS, fresh_database

MARK = "账本 Ledger: "  # how schema 0002 marked them
USCC = "91350100M000100Y43"
SHA = "ab" * 32
RULED = "重复 Duplicate: tongzhou:3 is granted once a project: on record as ledger #7 old.xlsx / 重复申报"
FOUND = "金额 Declared: 1,500,000.00 元 declared, recomputed 1,400,000.00 / 申报金额不符"
NOTED = "上限 Capped: 500,000.00 元 left of 第十条's 2,000,000 / 按上限核减"

metadata = sa.MetaData()
enterprises = sa.Table(
    "enterprises",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("uscc", sa.String),
    sa.Column("name", sa.String),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("enterprise_id", sa.Integer),
    sa.Column("code", sa.String),
)
submissions = sa.Table(
    "submissions",
    metadata,
    *(sa.Column(name, sa.Integer) for name in ("id", "enterprise_id", "project_id", "year")),
    *(sa.Column(name, sa.String) for name in ("clause", "event", "file", "sha256", "source", "recorded_by")),
    sa.Column("inputs", sa.JSON),
    sa.Column("passed", sa.Boolean),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
)
findings = sa.Table(
    "findings",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("submission_id", sa.Integer),
    sa.Column("kind", sa.String),
    sa.Column("text", sa.Text),
)


@pytest.fixture(params=BACKENDS)
def old_ledger(request, tmp_path):
    """A ledger at schema 0002 holding a submission that failed on the record: two marked findings, one not."""
    with fresh_database(request.param, tmp_path) as target:
        ledger = init_ledger(target, revision="0002")
        try:
            with ledger.engine.begin() as conn:
                now = datetime(2026, 3, 1, tzinfo=UTC)
                conn.execute(enterprises.insert().values(id=1, uscc=USCC, name="甲公司", created_at=now))
                conn.execute(projects.insert().values(id=1, enterprise_id=1, code="P1"))
                conn.execute(
                    submissions.insert().values(
                        id=1,
                        enterprise_id=1,
                        project_id=1,
                        clause="tongzhou:3",
                        year=2025,
                        event="",
                        inputs={"zone": "tongzhou", "investment_yuan": "5000000"},
                        passed=False,
                        file="p1.xlsx",
                        sha256=SHA,
                        source="review",
                        recorded_at=now,
                        recorded_by="王审核",
                    )
                )
                conn.execute(
                    findings.insert(),
                    [
                        {"id": 1, "submission_id": 1, "kind": "warning", "text": FOUND},
                        {"id": 2, "submission_id": 1, "kind": "problem", "text": MARK + RULED},
                        {"id": 3, "submission_id": 1, "kind": "warning", "text": MARK + NOTED},
                    ],
                )
        finally:
            ledger.close()
        yield target


def stored(target: str) -> list[tuple]:
    """The findings as stored: (id, kind, text[, source])."""
    engine = sa.create_engine(_url(target))
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("findings")}
            picked = ["id", "kind", "text"] + (["source"] if "source" in columns else [])
            return [
                tuple(row) for row in conn.execute(sa.text(f"SELECT {', '.join(picked)} FROM findings ORDER BY id"))
            ]
    finally:
        engine.dispose()


def _url(target: str) -> str:
    from addin.ledger.db import url_of

    return url_of(target)


def test_0003_moves_the_mark_into_the_source_column_and_back(old_ledger):
    with pytest.raises(LedgerError, match="needs 0003"):
        open_ledger(old_ledger)
    assert head() == "0003"
    assert upgrade_ledger(old_ledger) == ("0002", "0003")
    assert stored(old_ledger) == [
        (1, "warning", FOUND, "review"),
        (2, "problem", RULED, "ledger"),
        (3, "warning", NOTED, "ledger"),
    ]
    # the repository reads the column: the same file again brings back the record's findings, unmarked
    ledger = open_ledger(old_ledger)
    try:
        again = Item(
            file="p1.xlsx",
            sha256=SHA,
            uscc=USCC,
            enterprise="甲公司",
            project="P1",
            clause="tongzhou:3",
            year=2025,
            inputs={"zone": "tongzhou", "investment_yuan": "5000000"},
            declared=Decimal("1500000.00"),
            recomputed=Decimal("1500000.00"),
            passed=True,
        )
        (outcome,) = record(ledger, [again])
    finally:
        ledger.close()
    assert (outcome.submission, outcome.new, outcome.passed, outcome.granted) == (1, False, False, Decimal("0.00"))
    assert outcome.problems == [RULED] and outcome.warnings == [NOTED]

    assert downgrade_ledger(old_ledger, "0002") == ("0003", "0002")
    assert stored(old_ledger) == [(1, "warning", FOUND), (2, "problem", MARK + RULED), (3, "warning", MARK + NOTED)]
    assert upgrade_ledger(old_ledger) == ("0002", "0003")
    assert [row[3] for row in stored(old_ledger)] == ["review", "ledger", "ledger"]


def test_0003_rejects_a_source_it_does_not_know(old_ledger):
    upgrade_ledger(old_ledger)
    engine = sa.create_engine(_url(old_ledger))
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE findings SET source = 'guess' WHERE id = 1"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # 0001's check survives the rebuild
            conn.execute(sa.text("UPDATE findings SET kind = 'guess' WHERE id = 1"))
    finally:
        engine.dispose()


def test_the_upgrade_is_one_transaction(old_ledger):
    """A step that fails after the column was added leaves the ledger as it was: at 0002, its text marked."""

    def fail_on_update(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE FINDINGS"):
            raise OperationalError(statement, parameters, RuntimeError("injected failure"))

    before = stored(old_ledger)
    sa.event.listen(Engine, "before_cursor_execute", fail_on_update)
    try:
        with pytest.raises(LedgerError, match="from schema 0002 to 0003 failed; nothing was changed"):
            upgrade_ledger(old_ledger)
    finally:
        sa.event.remove(Engine, "before_cursor_execute", fail_on_update)
    assert stored(old_ledger) == before  # no source column, the mark still there
    with pytest.raises(LedgerError, match="is at schema 0002"):
        open_ledger(old_ledger)
    assert upgrade_ledger(old_ledger) == ("0002", "0003")
