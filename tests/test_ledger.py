"""The claims ledger (issue 11) on SQLite and, with GREEN_AWARD_TEST_DATABASE_URL, on PostgreSQL.

Figures: Tongzhou 第三条 30% of the approved investment (at most 2,000,000 a project), 第六条 30%,
第四条 municipal honour 500,000, 第十条 2,000,000 per enterprise per year and best clause only.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from addin.cli import app
from addin.ledger import db as ledger_db
from addin.ledger.db import LedgerError, init_ledger, open_ledger, upgrade_ledger
from addin.ledger.models import Decision, Enterprise, Submission
from addin.ledger.repository import (
    Item,
    decide,
    export,
    import_items,
    import_rows,
    record,
    sha256_of,
    show,
    void,
)
from policies import evaluate

from ledger_db import BACKENDS, fresh_database

D = Decimal
USCC = "91350100M000100Y43"
OTHER = "91110000802100433B"
ZONES = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}
runner = CliRunner()


def said(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def item(
    clause: str,
    project: str,
    year: int = 2025,
    *,
    uscc: str = USCC,
    file: str | None = None,
    passed: bool = True,
    **inputs,
) -> Item:
    inputs = {"zone": ZONES[clause.split(":")[0]], **inputs}
    award = evaluate(clause, on=year, **inputs)
    file = file or f"{uscc[-4:]}-{project}-{clause}-{year}.xlsx"
    return Item(
        file=file,
        sha256=sha256_of(f"{file}|{uscc}|{clause}|{year}|{sorted(inputs.items())}".encode()),
        uscc=uscc,
        enterprise="甲公司" if uscc == USCC else "乙公司",
        project=project,
        clause=clause,
        year=year,
        inputs=inputs,
        declared=award.amount,
        recomputed=award.amount,
        passed=passed,
        granted=award.amount,
    )


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path):
    with fresh_database(request.param, tmp_path) as name:
        yield name


@pytest.fixture
def ledger(target):
    book = init_ledger(target)
    yield book
    book.close()


def granted(outcomes) -> list[Decimal]:
    return [o.granted for o in outcomes]


# --- creating and opening ------------------------------------------------------------------------------


def test_init_creates_a_ledger_once_and_never_recreates_it(target):
    init_ledger(target).close()
    with pytest.raises(LedgerError, match="never recreated"):
        init_ledger(target)
    book = open_ledger(target)
    assert book.revision() == ledger_db.head()
    book.close()


def test_a_path_that_does_not_exist_is_an_error_not_an_empty_ledger(tmp_path, monkeypatch):
    missing = tmp_path / "mistyped.db"
    with pytest.raises(LedgerError, match="no such file"):
        open_ledger(str(missing))
    assert not missing.exists()
    monkeypatch.setenv(ledger_db.ENV, str(missing))
    result = runner.invoke(app, ["portfolio", str(Path(__file__).parent / "missing.csv")])
    assert result.exit_code == 2 and "no such file" in said(result) and not missing.exists()


def test_no_ledger_named_means_none_is_used(monkeypatch):
    from addin.ledger import grants_on_record

    monkeypatch.delenv(ledger_db.ENV, raising=False)
    assert grants_on_record(None) is None


def test_a_database_that_is_not_a_ledger_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(LedgerError, match="not a green-award ledger"):
        open_ledger(str(path))
    with pytest.raises(LedgerError, match="never recreated"):
        init_ledger(str(path))
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerError, match="cannot open"):
        open_ledger(str(garbage))


def test_an_empty_postgres_database_is_not_a_ledger_until_init(target):
    if not target.startswith("postgresql"):
        pytest.skip("an empty SQLite file is a path that does not exist")
    with pytest.raises(LedgerError, match="not initialised"):
        open_ledger(target)


def test_another_schema_is_never_migrated_silently(ledger, target, monkeypatch):
    current = ledger_db.head()
    monkeypatch.setattr(ledger_db, "head", lambda: "9998")  # as a later green-award would see it
    with pytest.raises(LedgerError, match="ledger upgrade"):
        open_ledger(target)
    monkeypatch.undo()
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_version SET version_num = '9999'"))
    with pytest.raises(LedgerError, match="newer green-award"):
        open_ledger(target)
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_version SET version_num = :v"), {"v": current})
    assert upgrade_ledger(target) == (current, current)


def test_the_sqlite_ledger_is_in_wal_mode(tmp_path):
    init_ledger(str(tmp_path / "w.db")).close()
    with sqlite3.connect(tmp_path / "w.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_match_the_models(ledger):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from addin.ledger.models import Base

    with ledger.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "ledger_version"})
        diff = [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (isinstance(d, list) or d[0] in ("remove_table",))
        ]
    assert diff == []


# --- recording: the record's rules, idempotent on the file's hash -----------------------------------------


def test_a_second_batch_is_checked_against_the_first(ledger):
    first = record(ledger, [item("tongzhou:3", "P1", investment_yuan=5_000_000)])
    assert granted(first) == [D("1500000.00")] and first[0].new
    second = record(
        ledger,
        [
            item("tongzhou:3", "P2", investment_yuan=2_000_000),  # 600,000
            item("tongzhou:6", "P3", investment_yuan=1_000_000),  # 300,000
            item("tongzhou:3", "P1", 2026, investment_yuan=5_000_000),  # the one-off again
        ],
    )
    # 500,000 left of 第十条's 2,000,000 in 2025, in proportion 600:300
    assert granted(second) == [D("333333.33"), D("166666.67"), D("0.00")]
    assert f"ledger #{first[0].submission}" in second[0].warnings[0] and "500,000.00" in second[0].warnings[0]
    assert not second[2].passed and "重复 Duplicate" in second[2].problems[0]
    assert f"ledger #{first[0].submission}" in second[2].problems[0]
    # the same batch again: nothing new, the same outcome
    again = record(
        ledger,
        [
            item("tongzhou:3", "P2", investment_yuan=2_000_000),
            item("tongzhou:6", "P3", investment_yuan=1_000_000),
            item("tongzhou:3", "P1", 2026, investment_yuan=5_000_000),
        ],
    )
    assert [o.new for o in again] == [False] * 3
    assert granted(again) == granted(second) and again[2].problems == second[2].problems
    with ledger.read() as session:
        assert session.scalar(select(func.count(Submission.id))) == 4


def test_the_same_file_twice_in_one_batch_is_recorded_once(ledger):
    one = item("tongzhou:3", "P1", investment_yuan=1_000_000)
    outcomes = record(ledger, [one, one])
    assert [o.new for o in outcomes] == [True, False] and outcomes[0].submission == outcomes[1].submission


def test_a_failed_submission_is_recorded_and_grants_nothing(ledger):
    bad = item("tongzhou:3", "P1", investment_yuan=5_000_000, passed=False)
    bad.problems = ["无效 Invalid: the declared amount is not the recomputed one"]
    out = record(ledger, [bad])
    assert out[0].granted == 0 and not out[0].passed
    # nothing on record for P1: the next claim of it is no duplicate
    assert granted(record(ledger, [item("tongzhou:3", "P1", investment_yuan=5_000_000, file="fixed.xlsx")])) == [
        D("1500000.00")
    ]


def test_a_corrected_resubmission_replaces_its_predecessor(ledger):
    old = record(ledger, [item("tongzhou:3", "P1", investment_yuan=5_000_000, file="old.xlsx")])[0]
    new = record(ledger, [item("tongzhou:3", "P1", investment_yuan=4_000_000, file="new.xlsx")])[0]
    assert new.granted == D("1200000.00") and new.passed and new.replaced == [old.submission]
    assert "取代 Replaces" in new.warnings[0] and "old.xlsx" in new.warnings[0]
    data = export(ledger)
    states = {s["file"]: (s["state"], s["granted_yuan"]) for s in data["submissions"]}
    assert states == {"old.xlsx": ("void", 0.0), "new.xlsx": ("passed", 1200000.0)}
    (voided,) = data["decisions"]
    assert voided["action"] == "void" and voided["submission"] == old.submission and voided["voids"] is None
    assert voided["reason"].startswith("resubmitted")


def test_co_funders_share_an_event_across_batches_and_enterprises(ledger):
    a = record(ledger, [item("tongzhou:9", "论坛", funding_yuan=1_200_000, event="2025 副中心绿色论坛")])  # 600,000
    b = record(
        ledger, [item("tongzhou:9", "论坛赞助", uscc=OTHER, funding_yuan=3_000_000, event="2025 副中心绿色论坛")]
    )
    assert granted(a) == [D("600000.00")] and granted(b) == [D("400000.00")]
    info = show(ledger, OTHER)
    (event,) = info["years"][0]["events"]
    assert event["used_yuan"] == D("1000000.00") and event["left_yuan"] == 0


def test_tongzhou_8_the_ledger_replaces_awarded_before(ledger):
    first = record(ledger, [item("tongzhou:8", "平台", 2025)])
    assert granted(first) == [D("2000000.00")]  # 5,000,000 within 第十条's 2,000,000
    second = record(ledger, [item("tongzhou:8", "平台", 2026, awarded_before_yuan=0)])
    assert granted(second) == [D("2000000.00")]
    assert any("2,000,000.00 元 granted before" in w for w in second[0].warnings)
    third = record(ledger, [item("tongzhou:8", "平台", 2027)])
    assert granted(third) == [D("1000000.00")]
    fourth = record(ledger, [item("tongzhou:8", "平台", 2028)])
    assert granted(fourth) == [D("0.00")] and not fourth[0].passed


# --- decisions --------------------------------------------------------------------------------------------


def test_decisions_are_appended_and_hold_the_cap(ledger):
    a, b = record(
        ledger,
        [item("tongzhou:3", "P1", investment_yuan=5_000_000), item("tongzhou:3", "P2", investment_yuan=5_000_000)],
    )
    assert granted([a, b]) == [D("1000000.00"), D("1000000.00")]  # 1,500,000 each, 2,000,000 shared
    with pytest.raises(LedgerError, match="more than"):
        decide(ledger, a.submission, "reduce", amount=D("1200000"), reviewer="王审核", reason="check")
    rejected = decide(ledger, b.submission, "reject", reviewer="王审核", reason="资料不全 papers missing")
    assert rejected.action == "rejected" and rejected.amount == 0
    raised = decide(ledger, a.submission, "grant", reviewer="王审核", reason="room freed")
    assert raised.action == "granted" and raised.amount == D("1500000.00")  # its own amount, now within the cap
    reduced = decide(ledger, a.submission, "reduce", amount=D("1400000"), reviewer="李复核", reason="一项发票不符")
    assert reduced.amount == D("1400000.00")
    # undo the rejection: b falls back to its review's 1,000,000, more than the 600,000 left: reduced to that
    (voided, cut) = void(ledger, rejected.id, reviewer="王审核", reason="papers arrived")
    assert voided.voids_id == rejected.id and (cut.action, cut.amount, cut.submission_id) == (
        "reduced",
        D("600000.00"),
        b.submission,
    )
    with pytest.raises(LedgerError, match="already void"):
        void(ledger, rejected.id, reviewer="王审核", reason="again")
    (undo, cut_a) = void(
        ledger, reduced.id, reviewer="李复核", reason="发票已补"
    )  # a back to 1,500,000: 1,400,000 left
    assert cut_a.amount == D("1400000.00")
    with pytest.raises(LedgerError, match="itself a void"):
        void(ledger, undo.id, reviewer="x", reason="y")
    again = void(ledger, cut_a.id, reviewer="李复核", reason="再核")  # back to the grant of 1,500,000: cut again
    assert [(d.action, d.amount) for d in again] == [("void", None), ("reduced", D("1400000.00"))]
    info = show(ledger, USCC)
    states = {s["id"]: (s["state"], s["granted_yuan"]) for s in info["years"][0]["submissions"]}
    assert states[b.submission] == ("reduced", D("600000.00"))
    assert states[a.submission][1] == D("1400000.00")
    cap = next(c for c in info["years"][0]["caps"] if c["cap"] == "tongzhou_enterprise_year")
    assert cap["used_yuan"] == D("2000000.00") and cap["left_yuan"] == 0
    data = export(ledger)
    assert [d["action"] for d in data["decisions"]][:7] == [
        "rejected",
        "granted",
        "reduced",
        "void",
        "reduced",
        "void",
        "reduced",
    ]
    assert data["decisions"][3]["voids"] == rejected.id


def test_deciding_needs_who_and_why_and_a_live_submission(ledger):
    (a,) = record(ledger, [item("tongzhou:3", "P1", investment_yuan=5_000_000, file="old.xlsx")])
    with pytest.raises(LedgerError, match="reviewer"):
        decide(ledger, a.submission, "grant", reviewer=" ", reason="x")
    with pytest.raises(LedgerError, match="reason"):
        decide(ledger, a.submission, "grant", reviewer="x", reason="")
    with pytest.raises(LedgerError, match="no submission"):
        decide(ledger, 999, "grant", reviewer="x", reason="y")
    (b,) = record(ledger, [item("tongzhou:3", "P1", investment_yuan=5_000_000, file="new.xlsx")])
    with pytest.raises(LedgerError, match=f"void.*#{b.submission}"):
        decide(ledger, a.submission, "grant", reviewer="x", reason="y")


# --- export, import, backup -------------------------------------------------------------------------------


def test_export_json_lists_submissions_and_decisions(ledger, tmp_path):
    (a,) = record(ledger, [item("etown:27", "屋顶光伏", capacity_kw=100)])
    decide(ledger, a.submission, "reduce", amount=D("70000"), reviewer="王审核", reason="容量按备案核减")
    data = export(ledger)
    (sub,) = data["submissions"]
    assert {
        k: sub[k]
        for k in ("clause", "uscc", "enterprise", "project", "year", "declared_yuan", "recomputed_yuan", "granted_yuan")
    } == {
        "clause": "etown:27",
        "uscc": USCC,
        "enterprise": "甲公司",
        "project": "屋顶光伏",
        "year": 2025,
        "declared_yuan": 80000.0,
        "recomputed_yuan": 80000.0,
        "granted_yuan": 70000.0,
    }
    assert len(sub["sha256"]) == 64 and sub["file"].endswith(".xlsx")
    (decision,) = data["decisions"]
    assert {k: decision[k] for k in ("reviewer", "action", "amount", "reason", "voids")} == {
        "reviewer": "王审核",
        "action": "reduced",
        "amount": 70000.0,
        "reason": "容量按备案核减",
        "voids": None,
    }
    assert decision["time"]


def test_import_a_past_season_then_the_portfolio_reads_it(ledger, target, tmp_path):
    from addin.portfolio import read_rows, stack, write_result

    past = stack(
        [
            {
                "enterprise": "甲公司",
                "uscc": USCC,
                "project": "P1",
                "clause": "tongzhou:3",
                "year": 2025,
                "zone": "tongzhou",
                "investment_yuan": 5_000_000,
            },
            {
                "enterprise": "甲公司",
                "uscc": USCC,
                "project": "光伏",
                "clause": "etown:27",
                "year": 2025,
                "zone": "etown_core",
                "capacity_kw": 100,
            },
            {"enterprise": "甲公司", "uscc": "", "project": "X", "clause": "etown:27", "year": 2025, "capacity_kw": 10},
        ]
    )
    table = tmp_path / "season2025.csv"
    write_result(past, table)
    header, rows = read_rows(table)
    items, problems = import_rows(header, rows, source=table.name)
    assert len(items) == 2 and len(problems) == 1 and "row 4" in problems[0]
    out = import_items(ledger, items, reviewer="2025审核组", source=table.name)
    assert [o.new for o in out] == [True, True]
    assert [o.new for o in import_items(ledger, items, reviewer="2025审核组", source=table.name)] == [False, False]
    assert [d["action"] for d in export(ledger)["decisions"]] == ["granted", "granted"]

    claims = tmp_path / "claims2026.csv"
    claims.write_text(
        "enterprise,uscc,project,clause,year,zone,investment_yuan,capacity_kw\n"
        f"甲公司,{USCC},P1,tongzhou:6,2026,tongzhou,1000000,\n"
        f"甲公司,{USCC},光伏,etown:27,2026,etown_core,,100\n"
        f"甲公司,{USCC},P9,tongzhou:3,2026,tongzhou,1000000,\n",
        encoding="utf-8",
    )
    out_csv = tmp_path / "result.csv"
    result = runner.invoke(app, ["portfolio", str(claims), "-o", str(out_csv), "--ledger", target])
    assert result.exit_code == 0, result.output
    header, rows = read_rows(out_csv)
    at = {h: i for i, h in enumerate(header)}
    got = [(r[at["project"]], r[at["status"]], r[at["granted_yuan"]]) for r in rows]
    assert got == [("P1", "superseded", "0.00"), ("光伏", "duplicate", "0.00"), ("P9", "granted", "300000.00")]
    assert "ledger #1" in rows[0][at["note"]]
    # read, never written
    with ledger.read() as session:
        assert session.scalar(select(func.count(Submission.id))) == 2


def test_backup_is_a_consistent_copy_while_a_writer_holds_a_transaction(tmp_path):
    path = tmp_path / "live.db"
    book = init_ledger(str(path))
    record(book, [item("tongzhou:3", "P1", investment_yuan=5_000_000)])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO enterprises (uscc, name, created_at) VALUES ('91110000802100433B', 'uncommitted', '2025-01-01')"
    )
    result = runner.invoke(app, ["ledger", "backup", "-o", str(tmp_path / "copy.db"), "--ledger", str(path)])
    writer.execute("COMMIT")
    writer.close()
    assert result.exit_code == 0, result.output
    copy = open_ledger(str(tmp_path / "copy.db"))
    with copy.read() as session:
        assert session.scalars(select(Enterprise.name)).all() == ["甲公司"]
        assert session.scalar(select(func.count(Submission.id))) == 1
    copy.close()
    again = runner.invoke(app, ["ledger", "backup", "-o", str(tmp_path / "copy.db"), "--ledger", str(path)])
    assert again.exit_code == 2 and "exists" in said(again)
    book.close()


def test_backup_of_postgres_points_to_export_and_pg_dump(ledger, target):
    if not target.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    result = runner.invoke(app, ["ledger", "backup", "-o", "x.db", "--ledger", target])
    assert result.exit_code == 2 and "pg_dump" in said(result)


# --- the commands as users run them -------------------------------------------------------------------------


def test_the_ledger_commands(target, tmp_path, monkeypatch):
    monkeypatch.setenv(ledger_db.ENV, target)
    assert runner.invoke(app, ["ledger", "init", target]).exit_code == 0
    again = runner.invoke(app, ["ledger", "init", target])
    assert again.exit_code == 2 and "never recreated" in said(again)
    book = open_ledger(None)  # from GREEN_AWARD_LEDGER
    (a, b) = record(
        book, [item("tongzhou:3", "P1", investment_yuan=5_000_000), item("tongzhou:6", "P2", investment_yuan=5_000_000)]
    )
    book.close()
    listing = runner.invoke(app, ["ledger", "enterprises"])
    assert listing.exit_code == 0 and USCC in said(listing) and "2,000,000.00" in said(listing)
    shown = runner.invoke(app, ["ledger", "show", USCC])
    assert shown.exit_code == 0 and "left 0.00" in said(shown)
    reduce = runner.invoke(
        app, ["ledger", "decide", str(a.submission), "reduce", "800000", "--reason", "核减", "--reviewer", "王审核"]
    )
    assert reduce.exit_code == 0 and "reduced 800,000.00" in said(reduce)
    too_much = runner.invoke(
        app, ["ledger", "decide", str(b.submission), "reduce", "1300000", "--reason", "x", "--reviewer", "王审核"]
    )
    assert too_much.exit_code == 2 and "more than" in said(too_much)
    grant = runner.invoke(
        app, ["ledger", "decide", str(b.submission), "grant", "--reason", "room freed", "--reviewer", "王审核"]
    )
    assert grant.exit_code == 0 and "granted 1,200,000.00" in said(grant)
    undo = runner.invoke(app, ["ledger", "void", "1", "--reason", "错误", "--reviewer", "王审核"])
    # a falls back to its review's 1,000,000; b's grant left it 800,000: cut to that, said so
    assert undo.exit_code == 0 and "voids #1" in said(undo) and "reduced 800,000.00" in said(undo)
    out = tmp_path / "ledger.json"
    assert runner.invoke(app, ["ledger", "export", "-o", str(out)]).exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [d["action"] for d in data["decisions"]] == ["reduced", "granted", "void", "reduced"]
    assert runner.invoke(app, ["ledger", "export", "-o", str(out)]).exit_code == 2  # exists
    xlsx = tmp_path / "ledger.xlsx"
    assert runner.invoke(app, ["ledger", "export", "-o", str(xlsx)]).exit_code == 0
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["申报 submissions", "决定 decisions", "支付 payments"]
    ws = wb["申报 submissions"]
    assert ws["A1"].value.startswith("编号") and ws.freeze_panes == "A2" and ws.max_row == 3
    assert runner.invoke(app, ["ledger", "export", "-o", str(tmp_path / "x.txt")]).exit_code == 2
    assert runner.invoke(app, ["ledger", "upgrade"]).exit_code == 0
    missing = runner.invoke(app, ["ledger", "show", USCC, "--ledger", str(tmp_path / "nope.db")])
    assert missing.exit_code == 2 and "no such file" in said(missing)


def test_money_is_exact_cents(ledger):
    with ledger.write() as session:
        enterprise = Enterprise(uscc=USCC, name="x")
        session.add(enterprise)
    (a,) = record(ledger, [item("tongzhou:9", "E", funding_yuan=D("123456.78"))])
    assert a.granted == D("61728.39")
    with ledger.read() as session:
        sub = session.get(Submission, a.submission)
        assert sub.declared_yuan == D("61728.39") and sub.inputs["funding_yuan"] == "123456.78"
        assert session.execute(update(Decision).values(reason="x").where(Decision.id == -1)).rowcount == 0


def test_without_a_ledger_sqlalchemy_is_not_even_imported():
    import os
    import subprocess
    import sys

    code = (
        "import sys; from addin.cli import app; from addin.ledger import grants_on_record; "
        "from addin.ledger.review import open_for_review; "
        "assert grants_on_record(None) is None and open_for_review(None) is None; "
        "print('sqlalchemy' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != ledger_db.ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
