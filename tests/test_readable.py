"""The result and review workbooks and the console as people read them (issue 13, second part).

The workbooks are checked cell by cell here (headers, widths against every shown value, number
formats, row heights of wrapped text, filters, print setup, the chart) and, with LibreOffice, as
printed pages (``test_printed_*``: PDF through ``soffice --convert-to pdf``, text through
``pdftotext``). Without LibreOffice or poppler those skip with the reason, unless
GREEN_AWARD_REQUIRE_LIBREOFFICE is set, when they fail.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from rich.console import Console
from typer.testing import CliRunner

from addin import cli
from addin.demo import SAMPLE, run_demo
from addin.portfolio import EXAMPLE, FULL_SHEET, SHEETS, read_rows, run_portfolio
from addin.sheet_style import MONEY_FORMAT, Column, fit_widths, shown, text_width, wrapped_lines
from policies import catalog
from policies.stacking import column_name

import libreoffice

runner = CliRunner()
TABLE_SHEETS = SHEETS[1:]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``green-award demo``'s folder (results.xlsx, review.xlsx, declarations) and what it printed at 80 columns."""
    out = tmp_path_factory.mktemp("demo") / "out"
    console = Console(width=80, record=True, file=io.StringIO())
    run_demo(out, console=console)
    return out, console.export_text()


@pytest.fixture(scope="module")
def portfolio():
    return run_portfolio(SAMPLE, None, quiet=True)


# --- the shared look ----------------------------------------------------------------------------------


def test_widths_count_cjk_as_two_and_wrapping_never_underestimates():
    assert text_width("北京a") == 5
    assert wrapped_lines("abc def", 20) == 1
    assert wrapped_lines("北京" * 20, 22) == 4  # 80 cells in lines of 20
    assert wrapped_lines("a\nb", 30) == 2
    assert wrapped_lines("x" * 100, 22) == 5  # a long word (a path) breaks inside
    (width,) = fit_widths([Column("金额", "Amount", "money")], [[Decimal("16000000")]])
    assert width >= len("16,000,000.00") + 1


# --- results.xlsx -------------------------------------------------------------------------------------


def _head(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _width(ws, col: int) -> float:
    """Column ``col``'s width (1-based). A run of columns of one width is one <col> element (as Excel
    and xlsxwriter write it), which openpyxl files under the run's first column only."""
    for dimension in ws.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= col <= dimension.max:
            return dimension.width
    return ws.column_dimensions[get_column_letter(col)].width


@pytest.mark.slow
def test_results_sheets_summary_first_full_table_hidden_last(demo):
    book = openpyxl.load_workbook(demo[0] / "results.xlsx")
    assert book.sheetnames == [*SHEETS, FULL_SHEET]
    assert book[FULL_SHEET].sheet_state == "hidden"
    assert all(book[name].sheet_state == "visible" for name in SHEETS)


@pytest.mark.slow
def test_results_tables_have_bilingual_headers_filters_frozen_rows_and_fitted_widths(demo):
    book = openpyxl.load_workbook(demo[0] / "results.xlsx")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for name in (*TABLE_SHEETS, FULL_SHEET):
        ws = book[name]
        head = _head(ws)
        for text in head:
            zh, en = text.split("\n")
            assert cjk.search(zh) and re.search(r"[A-Za-z]", en), (name, text)
        assert ws.freeze_panes in ("A2", "D2"), name
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(head))}{ws.max_row}", name
        # every value that is not wrapped fits its column: nothing prints as ### or is cut
        for col, cells in enumerate(ws.iter_cols(min_row=2), 1):
            width = _width(ws, col)
            for c in cells:
                if c.value is None or c.alignment.wrap_text:
                    continue
                kind = "money" if c.number_format == MONEY_FORMAT else "text"
                if name == FULL_SHEET and kind == "text" and width >= 30:
                    continue  # the hidden full table caps a text column at 30; it is not printed
                assert text_width(shown(c.value, kind)) + 1 <= width, (name, c.coordinate, c.value, width)


@pytest.mark.slow
def test_results_claims_view_amounts_status_and_wrapped_notes(demo, portfolio):
    ws = openpyxl.load_workbook(demo[0] / "results.xlsx")[SHEETS[1]]
    assert [column_name(h) for h in _head(ws)] == [
        "Enterprise",
        "Project",
        "Clause",
        "Claim year",
        "Amount (yuan)",
        "Granted (yuan)",
        "Status",
        "Note",
    ]
    records = [dict(zip(portfolio.columns, r)) for r in portfolio.records()]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(records)
    for row, record in zip(rows, records):
        assert row[1].value == record["project"] and row[3].value == int(record["year"])
        for cell, key in ((row[4], "amount_yuan"), (row[5], "granted_yuan")):
            assert cell.number_format == MONEY_FORMAT
            assert (None if cell.value is None else Decimal(str(cell.value))) == record[key]
        assert row[6].value.endswith(record["status"]) and re.match(r"[\u4e00-\u9fff]", row[6].value)
        note = row[7]
        assert note.value == (record["note"] or None) and note.alignment.wrap_text
        width = _width(ws, 8)
        lines = max(wrapped_lines(note.value or "", width), wrapped_lines(row[0].value, _width(ws, 1)))
        height = ws.row_dimensions[note.row].height
        assert lines == 1 or height >= lines * 15, (note.coordinate, lines, height)


@pytest.mark.slow
def test_results_print_setup_claims_view_one_a4_landscape_page_wide(demo):
    book = openpyxl.load_workbook(demo[0] / "results.xlsx")
    for name in TABLE_SHEETS:
        ws = book[name]
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape", name
        # one page wide: fitToWidth 1, or absent (None), which is 1 by default
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None), name
        assert ws.page_setup.fitToHeight == 0, name  # as many pages down as the rows need
        assert ws.print_title_rows == "$1:$1", name  # the header on every page
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


@pytest.mark.slow
def test_results_summary_figures_and_chart(demo, portfolio):
    ws = openpyxl.load_workbook(demo[0] / "results.xlsx")[SHEETS[0]]
    figures = {row[0]: row[1] for row in ws.iter_rows(max_col=2, values_only=True) if row[0]}
    assert figures["核定 Granted"] == 56 and figures["无效 Invalid"] == 3
    assert (
        Decimal(str(figures["核定金额合计（元） Granted (yuan)"])) == portfolio.granted_total == Decimal("48584567.89")
    )
    (chart,) = ws._charts
    assert chart.y_axis.numFmt.formatCode == "#,##0" and not chart.y_axis.numFmt.sourceLinked
    assert chart.legend.legendPos == "b"
    assert not chart.x_axis.delete and not chart.y_axis.delete  # shown (None: not deleted, the default)
    titles = [s.tx.strRef.f for s in chart.series]
    assert len(titles) == 3  # the header cells 北京市\nBeijing ...: both languages
    header_row = next(r for r in ws.iter_rows() if r[0].value == "申报年度\nClaim year")
    assert [c.value for c in header_row[1:4]] == ["北京市\nBeijing", "通州区\nTongzhou", "经开区\nE-Town"]


def test_results_full_table_reads_back_as_the_claims(tmp_path, portfolio):
    path = tmp_path / "r.xlsx"
    run_portfolio(SAMPLE, path, quiet=True)
    header, rows = read_rows(path)
    assert header == portfolio.columns  # 中文 over the name reads as the name
    project, granted = header.index("project"), header.index("granted_yuan")
    expected = [(r[project], "" if r[granted] is None else str(r[granted])) for r in portfolio.records()]
    got = [(r[project], r[granted]) for r in rows]
    assert [(p, g and Decimal(g)) for p, g in got] == [(p, g and Decimal(g)) for p, g in expected]


# --- review.xlsx --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_review_report_rows_as_tall_as_their_wrapped_text_and_paths_relative(demo):
    book = openpyxl.load_workbook(demo[0] / "review.xlsx")
    assert book.sheetnames == ["汇总 Summary", "审核 Review"]
    summary = {r[0]: r[1] for r in book["汇总 Summary"].iter_rows(max_col=2, values_only=True)}
    assert summary["文件夹 Folder"] == str((demo[0] / "declarations").resolve())
    ws = book["审核 Review"]
    assert _head(ws)[0] == "文件\nFile" and ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:I")
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    names = {p.name for p in (demo[0] / "declarations").glob("*.xlsx")}
    assert {ws.cell(r, 1).value for r in range(2, ws.max_row + 1)} == names
    tall = 0
    for r in range(2, ws.max_row + 1):
        lines = max(
            wrapped_lines(str(ws.cell(r, c).value or ""), ws.column_dimensions[get_column_letter(c)].width)
            for c in (1, 4, 8, 9)
        )
        assert all(ws.cell(r, c).alignment.wrap_text for c in (1, 4, 8, 9))
        height = ws.row_dimensions[r].height
        assert lines == 1 or height >= lines * 15, (r, lines, height)
        tall += lines > 2
    assert tall >= 5  # the capped claims' warnings take several lines
    for c in range(5, 8):
        assert ws.cell(2, c).number_format == MONEY_FORMAT


# --- the template -------------------------------------------------------------------------------------


def test_template_chinese_over_names_label_dropdowns_example_row_round_trips(tmp_path):
    path = tmp_path / "t.xlsx"
    assert runner.invoke(cli.app, ["template", "portfolio", "-o", str(path)]).exit_code == 0
    book = openpyxl.load_workbook(path)
    claims = book["claims"]
    head = _head(claims)
    assert head[:3] == ["企业名称\nenterprise", "统一社会信用代码\nuscc", "项目编号\nproject"]
    names = [column_name(h) for h in head]
    at = names.index("investment_yuan")
    assert head[at].split("\n")[0] == "核定总投资"
    lists = book["lists"]
    dropdowns = {col[0].value: [c.value for c in col[1:] if c.value] for col in lists.iter_cols()}
    assert dropdowns["choice:zone"][0] == "城市副中心（通州）"
    assert "自有" in str(dropdowns.get("choice:ownership"))  # labels, not the codes self/third_party
    assert "self" not in dropdowns.get("choice:ownership", [])
    example = {names[c.column - 1]: c.value for c in claims[2] if c.value is not None}
    assert example == EXAMPLE
    help_rows = list(book["help"].iter_rows(min_row=2, values_only=True))
    assert set(names) <= {r[0] for r in help_rows}
    zone_help = next(r for r in help_rows if r[0] == "zone")
    assert "城市副中心（通州） (tongzhou)" in zone_help[3]
    # the template as a user hands it in: the example row (a label for the zone, 是 for a condition) computes
    result = runner.invoke(cli.app, ["portfolio", str(path), "-o", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    header, rows = read_rows(tmp_path / "r.xlsx")
    row = dict(zip(header, rows[0]))
    assert Decimal(row["granted_yuan"]) == Decimal("1500000") and row["status"] == "granted"  # 30% of 5,000,000
    assert "Zone assumed" not in row["note"]  # the zone label was read as tongzhou


def test_a_csv_saved_from_the_template_reads_its_two_line_headers(tmp_path):
    path = tmp_path / "c.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "企业名称\nenterprise",
                "项目编号\nproject",
                "条款\nclause",
                "申报年度\nyear",
                "核定总投资\ninvestment_yuan",
            ]
        )
        writer.writerow(["甲", "P1", "tongzhou:3", "2025", "1000000"])
    result = run_portfolio(path, None, quiet=True)
    assert result.column("granted_yuan") == [Decimal("300000.00")]


# --- the console --------------------------------------------------------------------------------------


def _lines_fit(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert text_width(line) <= width, line


@pytest.mark.slow
def test_demo_console_fits_80_columns_with_every_amount_whole(demo, portfolio):
    _, text = demo
    _lines_fit(text)
    for record in portfolio.records():
        row = dict(zip(portfolio.columns, record))
        for key in ("amount_yuan", "granted_yuan"):
            if row[key] is not None:
                assert f"{row[key]:,.2f}" in text, (row["project"], key)
    for row in portfolio.by_enterprise_year.itertuples():
        assert f"{row.granted_yuan:,.2f}" in text
    assert "…" not in "".join(re.findall(r"[\d,]+\.\d*…", text))  # no figure cut with an ellipsis
    assert "48,584,567.89" in text


def _run(*args: str, columns: int = 80) -> str:
    """The command as a user runs it, in a terminal of ``columns`` columns."""
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-c", "from addin.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_clauses_list_at_80_columns_shows_every_input_name_whole():
    text = _run("clauses")
    _lines_fit(text)
    words = set(text.split())
    for row in catalog():
        assert row["id"] in words
        for item in row["inputs"]:
            if item["kind"] == "input":
                assert item["name"] in words, (row["id"], item["name"])


def test_one_clause_in_full():
    text = _run("clauses", "etown:10")
    _lines_fit(text)
    flat = re.sub(r"\s+", "", text)
    from policies.engine import find_clause

    _, clause = find_clause("etown:10")
    assert re.sub(r"\s+", "", clause.source) in flat  # the source sentence
    words = set(text.split())
    for name in ("boiler_grade", "investment_yuan", "meter_sets", "total_incl_tax_yuan", "no_major_penalty"):
        assert name in words
    for cite in (p.cites for p in clause.parameters.values()):
        assert re.sub(r"\s+", "", cite) in flat
    assert "50,000 元/套" in text and "A级" in text and "default 否 no" in text and "money 元" in text
    assert "integer 套" in text and "须达到绩效A级或B级" in text
    bad = runner.invoke(cli.app, ["clauses", "nope:1"])
    assert bad.exit_code == 2 and "nope:1" in bad.output


def test_version():
    from importlib.metadata import version

    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0 and f"green-award {version('green-award')}" in result.output


@pytest.mark.slow
def test_review_console_at_80_columns_keeps_figures_and_tells_each_problem(demo):
    _, text = demo
    capped = re.findall(r"^ ?(\d+)\s+\S.*pass\*\s+(\S+)\s+([\d,]+\.\d\d)\s+([\d,]+\.\d\d)\s*$", text, re.M)
    assert len(capped) == 11, text[-3000:]
    for number, *_ in capped:
        assert re.search(rf"^{number}\. 封顶 Annual cap: granted [\d,]+\.\d\d 元", text, re.M)


# --- printed with LibreOffice -------------------------------------------------------------------------


def _pdf_tools() -> str | None:
    for tool in ("soffice", "pdftotext", "pdfinfo"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    return None


def _overprinted(bbox: str) -> list[tuple[str, str]]:
    """Pairs of printed words whose boxes overlap (``pdftotext -bbox``): text drawn over other text, as
    a wrapped cell in a row too short for it prints (its lines run into the next row)."""
    found = []
    for page in bbox.split("<page ")[1:]:
        words = sorted(
            (
                (float(a), float(b), float(c), float(d), w)
                for a, b, c, d, w in re.findall(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page
                )
            ),
            key=lambda word: word[1],
        )
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                if b[1] >= a[3]:
                    break
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                if dx > 1 and dy > 0.3 * min(a[3] - a[1], b[3] - b[1]):
                    found.append((a[4], b[4]))
    return found


@pytest.fixture(scope="module")
def printed(demo, tmp_path_factory):
    """results.xlsx and review.xlsx of the demo as LibreOffice prints them: {name: [page text, ...]}."""
    reason = _pdf_tools()
    if reason:
        if os.environ.get(libreoffice.REQUIRE_ENV):
            pytest.fail(f"LibreOffice is required ({libreoffice.REQUIRE_ENV} is set) but unusable: {reason}")
        pytest.skip(f"LibreOffice unavailable: {reason}")
    folder = tmp_path_factory.mktemp("pdf")
    profile = folder / "profile"
    sources = [demo[0] / "results.xlsx", demo[0] / "review.xlsx"]
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, sources),
        ],
        capture_output=True,
        timeout=300,
        check=True,
    )
    out = {}
    for source in sources:
        pdf = folder / (source.stem + ".pdf")
        assert pdf.exists(), f"LibreOffice wrote no {pdf.name}"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
        texts = [
            subprocess.run(
                ["pdftotext", "-layout", "-f", str(p), "-l", str(p), str(pdf), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for p in range(1, pages + 1)
        ]
        raw = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        out[source.stem] = {"pages": texts, "size": tuple(map(float, size)), "raw": raw, "bbox": bbox}
    return out


@pytest.mark.slow
def test_printed_results_claims_view_one_page_wide_with_readable_figures(printed, portfolio):
    result = printed["results"]
    text = "\n".join(result["pages"])
    assert "###" not in text
    width, height = result["size"]
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    view = [page for page in result["pages"] if page.lstrip().startswith(SHEETS[1])]
    assert view, "the claims view prints"
    for page in view:  # one page wide: every page holds the first and the last column
        assert "Enterprise" in page and "Note" in page
    lines = "\n".join(view).splitlines()
    for record in portfolio.records():
        row = dict(zip(portfolio.columns, record))
        amounts = [f"{row[k]:,.2f}" for k in ("amount_yuan", "granted_yuan") if row[k] is not None]
        line = next(
            x for x in lines if f" {row['project']} " in x and row["clause"] in x and all(a in x for a in amounts)
        )
        assert line  # the row's project, clause and both amounts on one printed line
    assert len(view) <= len(portfolio.rows) // 10 + 1
    # the printed figures are readable: the amounts' glyphs at least 6 pt tall
    heights = [
        float(m.group(2)) - float(m.group(1))
        for m in re.finditer(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">[\d,]+\.\d\d<', result["bbox"])
    ]
    assert heights and min(heights) >= 6, min(heights)
    assert "48,584,567.89" in text  # thousands separators
    assert "investment_yuan" not in text  # the hidden full table (中文 over the input names) is not printed
    assert _overprinted(result["bbox"]) == []  # wrapped notes and names in rows as tall as they need


@pytest.mark.slow
def test_printed_review_report_without_overprinted_text_or_cut_paths(printed, demo):
    review = printed["review"]
    text = "\n".join(review["pages"])
    assert "###" not in text
    # a wrapped cell's lines joined: pdftotext may put the next cell ("通过 pass") after a cell's first
    # line and drops a hyphen at a line break
    flat = re.sub(r"通过pass|不通过FAIL", "", re.sub(r"[\s-]", "", review["raw"]))
    for path in (demo[0] / "declarations").glob("*.xlsx"):
        assert re.sub(r"[\s-]", "", path.name) in flat, path.name
    assert _overprinted(review["bbox"]) == []  # each row as tall as its wrapped warnings (186 pairs without)
    assert "48,584,567.89" in text and "60,374,567.89" in text
