"""Tables as users have them (addin.tables, addin.portfolio.read_source): the encodings and delimiters
Excel writes, formula text neutralised in every CSV written, and hostile or unreadable inputs as
one line. Driven through the commands as users run them."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.demo import SAMPLE
from addin.portfolio import read_rows, read_source, run_portfolio
from addin.tables import csv_cell, csv_row, decode, neutralise, read_csv, sniff_delimiter, unneutralise
from policies import GreenAwardError
from policies.stacking import added_columns

runner = CliRunner()
ADDED = len(added_columns())


def sample() -> tuple[list[str], list[list[str]]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    return table[0], table[1:]


def write(path: Path, header, rows, *, encoding: str, delimiter: str = ",") -> Path:
    """A table as Excel would save it: CRLF lines, the given encoding and delimiter."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def added(path: Path) -> list[list[str]]:
    """The added columns of a result csv, row by row."""
    header, rows = read_rows(path)
    assert header[-ADDED:] == added_columns()
    return [row[-ADDED:] for row in rows]


def ok(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output


def said(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def with_prolog(data: bytes, doctype: bytes) -> bytes:
    """``doctype`` inserted before the part's root element (after its XML declaration, if any)."""
    if data.startswith(b"<?xml"):
        end = data.index(b"?>") + 2
        return data[:end] + doctype + data[end:]
    return doctype + data


# --- encodings and delimiters -------------------------------------------------------------------------

EXCEL_SAVES = [  # (file name, encoding, delimiter, what the command says it read)
    ("excel_gbk.csv", "gb18030", ",", "GB18030, comma"),  # Excel "CSV (逗号分隔)" on Chinese Windows
    ("excel_unicode.txt", "utf-16", "\t", "UTF-16, tab"),  # Excel "Unicode text" (BOM, tabs)
    ("bom_semicolon.csv", "utf-8-sig", ";", "UTF-8 with BOM, semicolon"),  # a European-locale Excel
]


def test_gb18030_utf16_and_semicolon_tables_give_the_utf8_result_in_portfolio_and_declare(tmp_path):
    header, rows = sample()
    assert any("北京" in c for c in rows[0])  # Chinese names: the encodings differ on these bytes
    reference = write(tmp_path / "utf8.csv", header, rows, encoding="utf-8")
    first = runner.invoke(app, ["portfolio", str(reference), "-o", str(tmp_path / "utf8_out.csv")])
    ok(first)
    assert "UTF-8, comma-separated" in first.output
    want_added, want_read = added(tmp_path / "utf8_out.csv"), read_rows(reference)
    assert any(r[2] for r in want_added)  # granted amounts to compare
    declared = runner.invoke(app, ["declare", str(reference), "-o", str(tmp_path / "decl_utf8"), "--workers", "1"])
    ok(declared)
    want_files = {p.name: p.read_bytes() for p in (tmp_path / "decl_utf8").glob("*.xlsx")}
    assert len(want_files) > 40
    for name, encoding, delimiter, said in EXCEL_SAVES:
        source = write(tmp_path / name, header, rows, encoding=encoding, delimiter=delimiter)
        assert source.read_bytes() != reference.read_bytes()
        assert read_rows(source) == want_read
        out = tmp_path / f"{name}.out.csv"
        result = runner.invoke(app, ["portfolio", str(source), "-o", str(out)])
        ok(result)
        assert result.exit_code == first.exit_code and said in result.output, result.output
        assert added(out) == want_added
        raw = out.read_bytes()
        assert raw.startswith(codecs.BOM_UTF8) and raw.count(b"\t") == 0  # the result: UTF-8 with BOM, commas
        assert raw == (tmp_path / "utf8_out.csv").read_bytes()  # here even byte for byte
        folder = tmp_path / f"decl_{name}"
        result = runner.invoke(app, ["declare", str(source), "-o", str(folder), "--workers", "1"])
        ok(result)
        assert result.exit_code == declared.exit_code and said in result.output
        assert {p.name: p.read_bytes() for p in folder.glob("*.xlsx")} == want_files


def test_decoding_is_strict_and_says_what_it_read():
    assert decode("甲,乙".encode()) == ("甲,乙", "UTF-8")
    assert decode(codecs.BOM_UTF8 + "甲".encode()) == ("甲", "UTF-8 with BOM")
    assert decode("甲\t乙".encode("utf-16")) == ("甲\t乙", "UTF-16")
    assert decode("甲,乙".encode("utf-16-be").join([codecs.BOM_UTF16_BE, b""])) == ("甲,乙", "UTF-16")
    assert decode("北京绿源".encode("gbk")) == ("北京绿源", "GB18030")  # GBK is read as GB18030, its superset
    # what decodes in neither, or only into characters no text has, is refused, not guessed
    for data in (
        b"a,b\r\n\x80,\xff\r\n",
        b"a,b\r\n\x00\x01\x02",
        "甲,乙".encode("utf-16-le"),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        "\ue000".encode("gb18030"),
    ):
        with pytest.raises(GreenAwardError, match="not a text table") as caught:
            decode(data, "x.csv")
        assert "\n" not in str(caught.value)


def test_an_undecodable_table_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"enterprise,project,clause,year\r\n\x80\xff,P1,tongzhou:3,2025\r\n")
    result = runner.invoke(app, ["portfolio", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert said(result).startswith("error 错误:") and said(result).count("error") == 1
    assert "not a text table in UTF-8 or GB18030" in said(result)


def test_a_cell_too_large_for_the_csv_module_is_one_line(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(
        "enterprise,project,clause,year\r\n甲,P1,tongzhou:3,2025\r\n" + "x" * 200_000 + ",P2\r\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["portfolio", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "line 3: not a readable csv" in said(result)


@pytest.mark.parametrize(
    "line, delimiter",
    [
        ("enterprise,project,clause,year", ","),
        ("enterprise;project;clause;year", ";"),
        ("enterprise\tproject\tclause\tyear", "\t"),
        ('"a;b",project,clause', ","),  # a delimiter inside quotes does not count
        ("enterprise", ","),
    ],
)
def test_the_delimiter_is_sniffed_on_the_header_line(line, delimiter):
    assert sniff_delimiter(line) == delimiter


# --- formula injection --------------------------------------------------------------------------------

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(1)", "\tTAB", "\rCR", "＝HYPERLINK(1)"]


def test_neutralise_and_unneutralise():
    for text in HOSTILE:
        assert neutralise(text) == "'" + text and unneutralise(neutralise(text)) == text
    for text in ("-5", "+3.5", "-1e3", "-0.25", "plain", "", "'quoted", "甲=乙"):
        assert neutralise(text) == text  # numbers and ordinary text are left as they are
    assert unneutralise("'plain") == "'plain"  # only the mark before a formula start is taken off
    assert csv_cell(None) == "" and csv_cell(-5) == "-5" and csv_cell("=1") == "'=1"
    safe = ["甲", "", "5", "a=b"]
    assert csv_row(safe) is safe  # a row of harmless text is written as it is
    assert csv_row(["甲", "-5"]) == ["甲", "-5"]
    assert csv_row(["甲", "@x", "", "\tTAB"]) == ["甲", "'@x", "", "'\tTAB"]
    assert csv_row(["甲\x1f=x", "=y"]) == ["甲\x1f=x", "'=y"]  # the separator inside a cell: still right
    assert csv_row(["=a", None, Decimal("-5.00"), 3, float("nan")]) == ["'=a", "", "-5.00", "3", ""]


def test_no_csv_we_write_starts_a_cell_with_a_formula_and_feeding_it_back_gives_the_same_result(tmp_path):
    header = ["enterprise", "project", "project_name", "clause", "year", "zone", "investment_yuan"]
    rows = [[text, f"P{i}", text, "tongzhou:3", "2025", "tongzhou", "1000000"] for i, text in enumerate(HOSTILE)]
    rows.append(["乙", "=1+1", "-5", "tongzhou:3", "2025", "tongzhou", "-5"])  # a negative number: invalid row
    source = write(tmp_path / "hostile.csv", header, rows, encoding="gb18030", delimiter=";")
    first = runner.invoke(app, ["portfolio", str(source), "-o", str(tmp_path / "out.csv")])
    ok(first)
    assert first.exit_code == 1  # the -5 investment
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))
    cells = [c for row in written for c in row]
    assert not [c for c in cells if c[:1] in set("=+-@\t\r＝＋－＠") and c not in ("-5",)]
    assert written[1][0] == "'=cmd|' /C calc'!A0" and written[8][1] == "'=1+1"
    assert written[8][header.index("investment_yuan")] == "-5"  # a number stays a number
    assert written[8][header.index("project_name")] == "-5"
    # read back: the marks are taken off, and the result is computed again to the same added columns
    back_header, back_rows = read_rows(tmp_path / "out.csv")
    assert [r[0] for r in back_rows[: len(HOSTILE)]] == HOSTILE
    again = runner.invoke(app, ["portfolio", str(tmp_path / "out.csv"), "-o", str(tmp_path / "again.csv")])
    ok(again)
    assert added(tmp_path / "again.csv") == added(tmp_path / "out.csv")
    assert [r[: len(header)] for r in read_rows(tmp_path / "again.csv")[1]] == [r[: len(header)] for r in back_rows]


def test_xlsx_results_keep_formula_text_as_text(tmp_path):
    header = ["enterprise", "project", "clause", "year", "zone", "investment_yuan"]
    rows = [[text, f"P{i}", "tongzhou:3", "2025", "tongzhou", "1000000"] for i, text in enumerate(HOSTILE)]
    source = write(tmp_path / "hostile.csv", header, rows, encoding="utf-8")
    run_portfolio(source, tmp_path / "out.xlsx", quiet=True)
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")["claims"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    as_xml_reads = [t.replace("\r", "\n") for t in HOSTILE]  # XML reads a CR as a line feed
    assert [c.value for c in cells] == as_xml_reads and {c.data_type for c in cells} == {"s"}
    assert [r[0] for r in read_rows(tmp_path / "out.xlsx")[1]] == as_xml_reads


# --- hostile or broken workbooks ----------------------------------------------------------------------


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "claims"
    book.active.append(["enterprise", "project", "clause", "year", "zone", "investment_yuan"])
    book.active.append(["甲", "P1", "tongzhou:3", 2025, "tongzhou", 1000000])
    book.save(path)
    return path


def rewrite(source: Path, target: Path, part: str, change) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == part else data)
    return target


BILLION_LAUGHS = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'


@pytest.mark.parametrize(
    "part, doctype",
    [
        ("xl/worksheets/sheet1.xml", BILLION_LAUGHS),
        ("xl/workbook.xml", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'),
        ("[Content_Types].xml", b"<!DOCTYPE Types>"),
    ],
)
def test_a_portfolio_workbook_with_a_dtd_is_one_line_and_exit_2(tmp_path, part, doctype):
    plain = workbook(tmp_path / "plain.xlsx")
    assert read_source(plain).rows == [["甲", "P1", "tongzhou:3", "2025", "tongzhou", "1000000"]]
    hostile = rewrite(plain, tmp_path / "dtd.xlsx", part, lambda data: with_prolog(data, doctype))
    for command in (["portfolio", str(hostile)], ["declare", str(hostile), "-o", str(tmp_path / "d")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and said(result).count("error") == 1
        assert said(result).startswith("error 错误:") and f"'{part}' declares a DTD" in said(result)
        assert not (tmp_path / "d").exists()


def test_a_damaged_workbook_is_one_line_and_exit_2(tmp_path):
    plain = workbook(tmp_path / "plain.xlsx")
    broken = rewrite(plain, tmp_path / "broken.xlsx", "xl/worksheets/sheet1.xml", lambda data: data[: len(data) // 2])
    result = runner.invoke(app, ["portfolio", str(broken)])
    assert result.exit_code == 2 and "not a readable xlsx" in said(result) and "Traceback" not in result.output


def test_read_csv_keeps_text_and_skips_blank_rows(tmp_path):
    path = write(
        tmp_path / "t.csv", [" enterprise ", "project"], [["甲", "001"], ["", ""], ["'=x", "'plain"]], encoding="utf-8"
    )
    table = read_csv(path)
    assert table.header == ["enterprise", "project"]
    assert table.rows == [["甲", "001"], ["=x", "'plain"]]
    assert table.described == "UTF-8, comma-separated"
