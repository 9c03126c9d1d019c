"""The portfolio table on disk and at the front ends: csv and xlsx in and out, the command, the
template, the worksheet function PORTFOLIO_AWARDS and the demo's sample."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from addin import cli
from addin.cli import app
from addin.demo import SAMPLE
from addin.portfolio import SHEETS, read_rows, read_table, run_portfolio, stack_rows, write_template
from policies import GreenAwardError
from policies.parameters import parse_reform
from policies.stacking import REFORM_COLUMNS, added_columns, column_name, monetary_clauses

runner = CliRunner()
HEADER = [
    "enterprise",
    "uscc",
    "project",
    "clause",
    "year",
    "zone",
    "investment_yuan",
    "boiler_grade",
    "capacity_kw",
    "start_date",
    "completion_date",
    "total_incl_tax_yuan",
    "paid_incl_tax_yuan",
]
ROWS = [
    ["甲公司", "91350100M000100Y43", "001", "tongzhou:3", "2025", "tongzhou", "10000000", "", "", "", "", "", ""],
    ["甲公司", "", "002", "tongzhou:3", "2025", "tongzhou", "3000000", "", "", "", "", "", ""],
    [
        "乙公司",
        "",
        "E1",
        "etown:10",
        "2025",
        "etown_core",
        "1000000",
        "A",
        "",
        "2025-06-01",
        "2026-03-01",
        "1130000",
        "1017000",
    ],
    ["乙公司", "", "E2", "etown:27", "2025", "etown_core", "", "", "abc", "", "", "", ""],
    ["丙公司", "", "=cmd()", "etown:27", "2025", "etown_core", "", "", "100", "", "", "", ""],
]


def write_csv(path: Path, header=HEADER, rows=ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_csv_in_csv_out_adds_granted_per_row(tmp_path):
    source = write_csv(tmp_path / "claims.csv")
    result = run_portfolio(source, tmp_path / "out.csv", quiet=True)
    header, rows = read_rows(tmp_path / "out.csv")
    assert header == HEADER + added_columns()
    by_project = {r[2]: dict(zip(header, r)) for r in rows}
    assert by_project["001"]["granted_yuan"] == "1379310.34"  # 第十条: 2,000,000 × 20/29
    assert by_project["002"]["granted_yuan"] == "620689.66"
    assert by_project["E1"]["payment_2_year"] == "2026" and by_project["E1"]["payment_2_status"] == "due"
    assert by_project["E2"]["status"] == "invalid" and by_project["E2"]["granted_yuan"] == ""  # empty, not 0
    assert "capacity_kw" in by_project["E2"]["note"]
    assert by_project["001"]["uscc"] == "91350100M000100Y43"
    assert result.invalid == 1


def test_the_command_writes_xlsx_with_summaries_and_chart_and_exits_1_on_invalid_rows(tmp_path):
    source = write_csv(tmp_path / "claims.csv")
    out = tmp_path / "out.xlsx"
    first = runner.invoke(app, ["portfolio", str(source), "-o", str(out)])
    assert first.exit_code == 1, first.output  # written, but one row is invalid
    assert "invalid" in first.output and out.exists()
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [*SHEETS, "claims"]  # the summary first, the full table last
    assert book[SHEETS[0]]._charts, "a chart of granted amounts by year and policy"
    claims = book["claims"]
    assert claims.sheet_state == "hidden"  # not printed
    header = [column_name(c.value) for c in claims[1]]
    project = header.index("project")
    cell = next(row[project] for row in claims.iter_rows(min_row=2) if str(row[project].value).startswith("="))
    assert cell.data_type == "s"  # a text that looks like a formula stays text
    again = runner.invoke(app, ["portfolio", str(source), "-o", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    good = write_csv(tmp_path / "good.csv", rows=ROWS[:3])
    ok = runner.invoke(app, ["portfolio", str(good), "-o", str(tmp_path / "good_out.csv")])
    assert ok.exit_code == 0, ok.output


def test_xlsx_claims_sheet_with_enterprises_and_projects_sheets(tmp_path):
    book = openpyxl.Workbook()
    claims = book.active
    claims.title = "claims"
    claims.append(["enterprise", "project", "clause", "year", "investment_yuan", "boiler_grade"])
    claims.append(["乙公司", 1001, "etown:10", 2025, 1000000, "A"])
    claims.append(["乙公司", "P2", "etown:11", 2025.0, 2000000, None])
    enterprises = book.create_sheet("enterprises")
    enterprises.append(["enterprise", "uscc", "address"])
    enterprises.append(["乙公司", "91350100M000100Y43", "北京经济技术开发区"])
    projects = book.create_sheet("projects")
    projects.append(["project", "zone", "start_date", "completion_date", "total_incl_tax_yuan", "paid_incl_tax_yuan"])
    from datetime import datetime

    projects.append([1001, "etown_core", datetime(2025, 6, 1), datetime(2026, 3, 1), 1130000, 1017000])
    projects.append(["P2", "etown_core", None, None, None, None])
    path = tmp_path / "portfolio.xlsx"
    book.save(path)
    frame = read_table(path)
    assert list(frame["project"]) == ["1001", "P2"]  # a project number stays text
    assert list(frame["uscc"]) == ["91350100M000100Y43"] * 2
    result = run_portfolio(path, tmp_path / "out.xlsx", quiet=True)
    rows = {r["project"]: r for r in result.claims.to_dict("records")}
    assert rows["1001"]["granted_yuan"] == Decimal("500000.00")
    assert (rows["1001"]["payment_1_year"], rows["1001"]["payment_2_year"]) == (2025, 2026)
    assert rows["P2"]["granted_yuan"] == Decimal("600000.00")


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(GreenAwardError):
        read_rows(path)


def test_template_has_every_input_dropdowns_and_help(tmp_path):
    result = runner.invoke(app, ["template", "portfolio", "-o", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert {"claims", "enterprises", "projects", "help"} <= set(book.sheetnames)
    header = [column_name(c.value) for c in book["claims"][1]]
    assert header[:6] == ["enterprise", "uscc", "project", "project_name", "clause", "year"]
    assert {"investment_yuan", "boiler_grade", "capacity_kw", "loan_rate", "no_major_penalty"} <= set(header)
    validations = book["claims"].data_validations.dataValidation
    clause_col = openpyxl.utils.get_column_letter(header.index("clause") + 1)
    clause_dv = next(dv for dv in validations if str(dv.sqref).startswith(clause_col + "2"))
    assert clause_dv.type == "list" and "lists" in clause_dv.formula1
    lists = book["lists"]
    assert [c.value for c in lists["A"][1:]] == monetary_clauses()
    help_names = [r[0].value for r in book["help"].iter_rows(min_row=2)]
    assert set(header) <= set(help_names)
    # the template reads back as a table of its one example claim
    assert len(read_table(tmp_path / "t.xlsx")) == 1
    with pytest.raises(FileExistsError):
        write_template(tmp_path / "t.xlsx")


def test_portfolio_awards_worksheet_function():
    from udfs import PORTFOLIO_AWARDS
    from udfs._sheet import WorksheetError, doc_problems

    assert doc_problems(PORTFOLIO_AWARDS) == []
    table = [
        ["enterprise", "project", "clause", "year", "zone", "investment_yuan"],
        ["甲", 1001.0, "tongzhou:3", 2025.0, "tongzhou", 10000000.0],
        ["甲", "P2", "tongzhou:3", 2025.0, "tongzhou", 10000000.0],
        [None, None, None, None, None, None],  # room for more claims
        ["甲", "P3", "tongzhou:3", 2025.0, "tongzhou", -1.0],
    ]
    out = PORTFOLIO_AWARDS(table)
    assert out[0] == added_columns()
    at = {name: i for i, name in enumerate(out[0])}
    assert [r[at["granted_yuan"]] for r in out[1:3]] == [1000000.0, 1000000.0]
    assert out[3] == [""] * len(added_columns())
    assert out[4][at["status"]] == "invalid" and out[4][at["amount_yuan"]] == "" and out[4][at["granted_yuan"]] == ""
    assert "investment_yuan" in out[4][at["note"]]
    assert all(v is not None for row in out for v in row)
    with pytest.raises(WorksheetError, match="year"):
        PORTFOLIO_AWARDS([["enterprise", "project", "clause"], ["甲", "P", "tongzhou:3"]])
    assert PORTFOLIO_AWARDS(["enterprise", "project", "clause", "year"]) == [added_columns()]


def test_the_sample_shows_every_rule_and_a_granted_row_per_monetary_clause():
    header, rows = read_rows(SAMPLE)
    result = stack_rows(header, rows)
    statuses = set(result.column("status"))
    assert statuses == {"granted", "capped", "superseded", "conflict", "ineligible", "invalid"}
    records = [dict(zip(result.columns, r)) for r in result.records()]
    granted = {r["clause"] for r in records if r["status"] == "granted"}
    assert set(monetary_clauses()) <= granted
    notes = " ".join(r["note"] for r in records)
    for words in (
        "第十条",
        "第六条",
        "单个企业年度贴息",
        "七(二)3",
        "duplicate",
        "Conflict",
        "尚未施行",
        "已到期",
        "credit code",
    ):
        assert words in notes or words in str(result.by_policy), words
    assert any(r["payment_2_status"] == "pending" for r in records)
    assert any(r["payment_2_year"] and r["payment_2_year"] > r["payment_1_year"] for r in records)
    beijing_on_district = {
        (r["enterprise"], r["project"]) for r in records if r["policy"] == "beijing" and r["status"] == "granted"
    }
    district = {
        (r["enterprise"], r["project"])
        for r in records
        if r["policy"] != "beijing" and r["status"] in ("granted", "capped")
    }
    assert beijing_on_district & district


# --- the command as users run it, with the progress bar on ----------------------------------------


def sample_times(count: int) -> tuple[list[str], list[list[str]]]:
    """``count`` rows of the bundled sample, each copy's projects renamed (P001 -> P001-3)."""
    header, rows = read_rows(SAMPLE)
    at = header.index("project")
    out = []
    while len(out) < count:
        copy = len(out) // len(rows)
        for row in rows[: count - len(out)]:
            row = list(row)
            row[at] = f"{row[at]}-{copy}"
            out.append(row)
    return header, out


def test_the_command_on_2500_rows_with_the_progress_bar_shown(tmp_path, monkeypatch):
    header, rows = sample_times(2500)
    write_csv(tmp_path / "big.csv", header, rows)
    expected = stack_rows(header, rows)
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws the bar as on a terminal (it did not under a pipe)
    result = runner.invoke(app, ["portfolio", str(tmp_path / "big.csv"), "-o", str(tmp_path / "out.csv")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output  # written; the sample has invalid rows on purpose
    assert "2,500 rows" in result.output and "UTF-8" in result.output
    assert f"granted total 核定合计: {expected.granted_total:,.2f} 元" in result.output
    assert expected.granted_total > 0 and f"{expected.invalid} invalid row(s)" in result.output
    out_header, out_rows = read_rows(tmp_path / "out.csv")
    at = out_header.index("granted_yuan")
    assert sum(Decimal(r[at]) for r in out_rows if r[at]) == expected.granted_total
    assert len(out_rows) == 2500


def test_the_summary_lists_the_40_largest_enterprise_years_and_says_the_result_has_all(tmp_path, monkeypatch):
    header = ["enterprise", "project", "clause", "year", "zone", "capacity_kw"]
    rows = [[f"企业{i:02d}", "P1", "etown:27", "2025", "etown_core", str(10 * i)] for i in range(1, 46)]
    monkeypatch.setenv("COLUMNS", "100")
    result = runner.invoke(
        app, ["portfolio", str(write_csv(tmp_path / "c.csv", header, rows)), "-o", str(tmp_path / "r.csv")]
    )
    assert result.exit_code == 0, result.output
    listed = [
        line.split()[0]
        for line in result.output.splitlines()
        if line.startswith("企业") and not line.startswith("企业名称")
    ]
    assert listed == [f"企业{i:02d}" for i in range(6, 46)]  # 8,000 yuan each 10 kW: the five smallest left out
    assert "the 40 largest grants of 45 enterprise-years; every one is in the result file" in result.output


def test_bad_years_make_their_rows_invalid_and_the_summary_still_prints(tmp_path):
    years = ["2025", "2025年", "2025.0", "２０２５", "25", "FY2025", "二〇二五", ""]
    rows = [["甲", f"P{i}", "tongzhou:3", year, "tongzhou", "1000000"] for i, year in enumerate(years)]
    source = write_csv(
        tmp_path / "years.csv", ["enterprise", "project", "clause", "year", "zone", "investment_yuan"], rows
    )
    result = runner.invoke(app, ["portfolio", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1 and "4 invalid row(s)" in result.output
    assert "granted total 核定合计: 1,200,000.00 元" in result.output  # 4 × 300,000
    header, out = read_rows(tmp_path / "out.csv")
    status, note = header.index("status"), header.index("note")
    assert [r[status] for r in out] == ["granted"] * 4 + ["invalid"] * 4
    assert all("year must be a year such as 2025" in r[note] for r in out[4:])
    as_xlsx = runner.invoke(app, ["portfolio", str(source), "-o", str(tmp_path / "out.xlsx")])
    assert as_xlsx.exit_code == 1 and isinstance(as_xlsx.exception, SystemExit), as_xlsx.output
    years_of = [
        r[2].value
        for r in openpyxl.load_workbook(tmp_path / "out.xlsx")["按企业年度 By enterprise-year"].iter_rows(min_row=2)
    ]
    assert years_of == [None, 2025]  # the invalid rows' enterprise-year has no year


def as_text(value: object) -> str:
    """An added cell as the csv result writes it."""
    return "" if value is None else str(value)


def added_of(path: Path, names: list[str]) -> list[list[str]]:
    header, rows = read_rows(path)
    at = [header.index(n) for n in names]
    return [[r[i] for i in at] for r in rows]


def test_the_command_with_a_reform_on_3000_rows_gives_the_core_s_columns_side_by_side(tmp_path, monkeypatch):
    """Streamed in two passes, the command gives every row the core's added columns, the reform's beside them."""
    header, rows = sample_times(3000)
    source = write_csv(tmp_path / "big.csv", header, rows)
    sets = {"tongzhou.tongzhou_enterprise_year": "3000000", "etown:27.per_kw": {"2025-01-01": "1000"}}
    expected = stack_rows(header, rows, reform=parse_reform(sets))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws the bar as on a terminal, and as on an
    monkeypatch.setenv("TTY_INTERACTIVE", "1")  # interactive one (read when the console is made)
    monkeypatch.setattr(cli, "console", Console())
    result = runner.invoke(
        app,
        [
            "portfolio",
            str(source),
            "-o",
            str(tmp_path / "out.csv"),
            "--set",
            "tongzhou.tongzhou_enterprise_year=3000000",
            "--set",
            "etown:27.per_kw=1000@2025-01-01",
        ],
    )
    assert result.exit_code == 1, result.output  # written; the sample has invalid rows on purpose
    assert "计算 Evaluating" in result.output and "3,000 rows" in result.output
    names = added_columns() + REFORM_COLUMNS
    assert added_of(tmp_path / "out.csv", names) == [[as_text(v) for v in expected.extra(k)] for k in range(3000)]
    difference = expected.reform_granted_total - expected.granted_total
    assert difference > 0 and f"(difference 差额 {difference:+,.2f} 元)" in result.output
    granted = expected.column("granted_yuan")
    reformed = expected.column("reform_granted_yuan")
    assert any(r is not None and g is not None and r > g for r, g in zip(reformed, granted))


def test_the_command_with_a_ledger_on_2000_rows_deducts_the_grants_on_record(tmp_path):
    """The rules across years read the ledger's grants: a project granted there is a duplicate here."""
    from addin.ledger import grants_on_record
    from addin.ledger.db import init_ledger
    from addin.ledger.repository import import_items, import_rows
    from addin.portfolio import write_result

    header, rows = sample_times(2000)
    at = {h: i for i, h in enumerate(header)}
    past = [list(r) for r in rows[:400]]
    for row in past:
        row[at["year"]] = "2024" if row[at["clause"]].startswith("beijing") else row[at["year"]]
    season = tmp_path / "season.csv"
    write_result(stack_rows(header, past), season)
    target = str(tmp_path / "ledger.db")
    book = init_ledger(target)
    items, _ = import_rows(*read_rows(season), source=season.name)
    assert len(items) > 50
    import_items(book, items, reviewer="审核组", source=season.name)
    book.close()
    source = write_csv(tmp_path / "claims.csv", header, rows)
    expected = stack_rows(header, rows, record=grants_on_record(target))
    result = runner.invoke(app, ["portfolio", str(source), "-o", str(tmp_path / "out.csv"), "--ledger", target])
    assert result.exit_code == 1, result.output
    assert added_of(tmp_path / "out.csv", added_columns()) == [
        [as_text(v) for v in expected.extra(k)] for k in range(2000)
    ]
    without = stack_rows(header, rows)
    assert expected.column("status").count("duplicate") > without.column("status").count("duplicate")
    assert "ledger #" in " ".join(expected.column("note"))
    assert expected.granted_total < without.granted_total  # the record took its share


def test_the_command_on_a_dask_cluster_gives_the_same_bytes_as_in_one_process(tmp_path):
    """``--executor dask --workers 2`` (a LocalCluster of two processes) writes what ``--workers 1`` writes."""
    pytest.importorskip("distributed")
    one = runner.invoke(app, ["portfolio", str(SAMPLE), "-o", str(tmp_path / "one.csv"), "--workers", "1"])
    assert one.exit_code == 1, one.output
    dask = runner.invoke(
        app, ["portfolio", str(SAMPLE), "-o", str(tmp_path / "dask.csv"), "--executor", "dask", "--workers", "2"]
    )
    assert dask.exit_code == 1, dask.output
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    header, out = read_rows(tmp_path / "dask.csv")
    assert sum(Decimal(r[header.index("granted_yuan")] or 0) for r in out) == Decimal("48584567.89")


def test_the_portfolio_worksheet_function_runs_without_pandas():
    """PORTFOLIO_AWARDS and the policy core import no pandas (xlwings Lite has none)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from udfs.portfolio import PORTFOLIO_AWARDS\n"
        "out = PORTFOLIO_AWARDS([['enterprise', 'project', 'clause', 'year', 'zone', 'investment_yuan'],"
        " ['甲', 'P1', 'tongzhou:3', 2025, 'tongzhou', 5000000]])\n"
        "print(out[1][2])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1500000.0"
