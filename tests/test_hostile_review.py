"""Issue 9's hostile corpus (``hostile_corpus.py``, generated here): every hostile file fails with its named
problem, file by file and in one batch with genuine declarations, which pass; nothing crashes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from test_review import only, pv

from addin import review
from addin.review import batch, code_of, find_files, review_file, review_paths, single, write_json, write_xlsx
from addin.safe_xlsx import UnsafeWorkbook, read_book

import hostile_corpus as hc

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, hc.Case]]:
    folder = tmp_path_factory.mktemp("hostile_corpus")
    return folder, hc.write_corpus(folder)


def codes(sub) -> list[str]:
    return [code_of(p) for p in sub.problems]


# --- file by file -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", hc.CASES, ids=[hc.file_name(c) for c in hc.CASES])
def test_each_hostile_file_fails_with_its_named_problem(corpus, case):
    folder, _ = corpus
    sub = review_file(folder / hc.file_name(case))
    assert sub.status == "fail" and not sub.ok
    assert case.code in codes(sub), sub.problems
    for message in sub.problems:
        assert CJK.search(message) and re.search(r"[A-Za-z]{3}", message), message  # bilingual
        assert len(message) <= 2001  # quoted text is cut
    assert len(sub.problems) <= review.MAX_PROBLEMS


def test_genuine_declaration_under_a_gbk_name_passes(corpus):
    folder, _ = corpus
    sub = review_file(folder / hc.file_name(hc.GBK_GENUINE))
    assert sub.ok, sub.problems
    assert sub.file.endswith("\\xc2\\xcc\\xc9\\xab\\xc9\\xea\\xb1\\xa8\\xb1\\xed.xlsx")  # bytes escaped, never mojibake
    assert sub.file.encode("utf-8")  # printable, encodable


def test_lock_files_and_hidden_files_are_listed_as_skipped(tmp_path):
    (tmp_path / "~$a.xlsx").write_bytes(b"\x05owner")
    (tmp_path / "._a.xlsx").write_bytes(b"\0\5\26\7")  # macOS AppleDouble
    (tmp_path / "a.xlsx").write_bytes(pv())
    subs = {Path(s.file).name: s for s in review_paths(find_files([tmp_path]))}
    assert {n: s.status for n, s in subs.items()} == {"~$a.xlsx": "skipped", "._a.xlsx": "skipped", "a.xlsx": "pass"}
    info = review.summary(list(subs.values()))
    assert (info["submissions"], info["passed"], info["failed"], info["skipped"]) == (1, 1, 0, 2)


def test_every_file_of_a_folder_is_reviewed_whatever_its_extension(tmp_path):
    names = ["a.xlsx", "b.xlsm", "c.xls", "d.csv", "e", "sub/f.XLSX", "sub/g.txt"]
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(pv(project=f"P-{name}"))
    subs = {Path(s.file).relative_to(tmp_path).as_posix(): s for s in review_paths(find_files([tmp_path]))}
    assert set(subs) == set(names)
    assert [n for n, s in subs.items() if s.ok] == ["a.xlsx", "sub/f.XLSX"]
    assert "macro" in codes(subs["b.xlsm"]) and "file_type" in codes(subs["d.csv"]) and "file_type" in codes(subs["e"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_pipe_named_xlsx_fails_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.xlsx")  # opening it for reading would wait for a writer forever
    (sub,) = review_paths(find_files([tmp_path]))
    assert sub.refused == "not_regular" and "not_regular" in codes(sub)


def test_harmless_parts_a_spreadsheet_program_adds_still_pass(tmp_path):
    """docProps/custom.xml, calcChain, printer settings, a customXml item, a sensitivity label, a thumbnail, comments."""
    od = hc.OD
    data = hc.with_parts(
        pv(),
        {
            "docProps/custom.xml": b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>',
            "xl/calcChain.xml": b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="C17" i="4"/></calcChain>',
            "xl/printerSettings/printerSettings1.bin": b"\0" * 64,
            "customXml/item1.xml": b"<b:Sources xmlns:b='http://schemas.openxmlformats.org/officeDocument/2006/bibliography'/>",
            "docMetadata/LabelInfo.xml": b"<clbl:labelList xmlns:clbl='http://schemas.microsoft.com/office/2020/mipLabelMetadata'/>",
            "docProps/thumbnail.jpeg": b"\xff\xd8\xff\xe0" + b"\0" * 32,
            "xl/comments1.xml": b'<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
        },
        {
            "docProps/custom.xml": od + "custom-properties+xml",
            "xl/calcChain.xml": od + "spreadsheetml.calcChain+xml",
            "xl/printerSettings/printerSettings1.bin": od + "spreadsheetml.printerSettings",
            "docMetadata/LabelInfo.xml": "application/vnd.ms-office.classificationlabels+xml",
            "docProps/thumbnail.jpeg": "image/jpeg",
            "xl/comments1.xml": od + "spreadsheetml.comments+xml",
        },
        {
            "_rels/.rels": [
                hc.rel("rId8", hc.R06 + "custom-properties", "docProps/custom.xml"),
                hc.rel(
                    "rId9",
                    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
                    "docProps/thumbnail.jpeg",
                ),
                hc.rel(
                    "rId10",
                    "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels",
                    "docMetadata/LabelInfo.xml",
                ),
            ],
            "xl/_rels/workbook.xml.rels": [
                hc.rel("rId80", hc.R06 + "calcChain", "calcChain.xml"),
                hc.rel("rId81", hc.R06 + "customXml", "../customXml/item1.xml"),
            ],
            "xl/worksheets/_rels/sheet3.xml.rels": [
                hc.rel("rId1", hc.R06 + "printerSettings", "../printerSettings/printerSettings1.bin"),
                hc.rel("rId2", hc.R06 + "comments", "../comments1.xml"),
            ],
        },
    )
    (tmp_path / "d.xlsx").write_bytes(data)
    sub = review_file(tmp_path / "d.xlsx")
    assert sub.ok, sub.problems


# --- item 4: whatever one file does is that file's problem ------------------------------------------------


def test_any_exception_while_reading_is_that_files_problem(tmp_path, monkeypatch):
    for name in ("a.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(pv(project=name))
    real = single.read_book

    def flaky(path, limits):
        if str(path).endswith("a.xlsx"):
            raise ValueError("Invalid column index 18279")
        return real(path, limits)

    monkeypatch.setattr(single, "read_book", flaky)
    a, b = review_paths([tmp_path / "a.xlsx", tmp_path / "b.xlsx"])
    assert "18279" in only(a, "could not be reviewed") and codes(a) == ["internal"]
    assert b.ok, b.problems


def test_a_row_of_20000_cells_without_r_is_named_not_raised():
    data = hc.row_without_r(20_000)
    with pytest.raises(UnsafeWorkbook, match="beyond column XFD") as err:
        read_book(data)
    assert err.value.kind == "xml"


@pytest.mark.slow
def test_a_worker_that_dies_costs_only_its_file(tmp_path, monkeypatch):
    """A process-pool worker killed while reviewing one file: the others of its chunk are reviewed again, each
    in a process of its own, and the file that kills is failed with a named problem."""
    paths = []
    for i in range(10):
        (tmp_path / f"{i}.xlsx").write_bytes(pv(project=f"P-{i}"))
        paths.append(tmp_path / f"{i}.xlsx")
    real = batch.review_file

    def killing(path, limits=review.DEFAULT_LIMITS):
        if str(path).endswith("3.xlsx"):
            os._exit(9)  # as if killed for memory
        return real(path, limits)

    monkeypatch.setattr(batch, "review_file", killing)  # what the workers call (forked: they see the patch)
    subs = {Path(s.file).name: s for s in review_paths(paths, workers=2)}
    assert len(subs) == 10
    assert codes(subs["3.xlsx"]) == ["internal"] and "ended abnormally" in subs["3.xlsx"].problems[0]
    assert all(s.ok for n, s in subs.items() if n != "3.xlsx"), {n: s.problems for n, s in subs.items()}


# --- item 8: bounded work -------------------------------------------------------------------------------


def test_absurd_exponent_is_refused_before_any_formatting(corpus):
    folder, _ = corpus
    sub = review_file(folder / "exponent_text.xlsx")
    assert sum(map(len, sub.problems)) < 1000  # was a 133 MB message
    assert "'-1e99999999'" in only(sub, "not a plausible number")


def test_quoted_applicant_text_is_cut(corpus):
    folder, _ = corpus
    message = only(review_file(folder / "text_100k_chars.xlsx"), "100,000 characters")
    assert len(message) < 400


def test_validations_and_problems_are_capped(corpus):
    folder, _ = corpus
    sub = review_file(folder / "validations_199_overlapping.xlsx")
    assert len(sub.problems) < 20  # was 99,989
    sub = review_file(folder / "many_problems.xlsx")
    assert len(sub.problems) == review.MAX_PROBLEMS and re.search(r"… \d+ more problems not listed", sub.problems[-1])


def test_elements_are_counted_while_parsing_wherever_they_are():
    """Elements outside any row stop the parse at the budget: not parsed to the end, then counted."""
    data = hc.in_sheet(hc.base("H-101"), hc.INPUTS, "</worksheet>", hc.elements_at_ratio(3).decode())
    with pytest.raises(UnsafeWorkbook, match="100,000 XML elements") as err:
        read_book(data)
    assert err.value.kind == "too_large"


def test_deep_nesting_within_the_budget_does_not_crash(tmp_path):
    deep = "<x>" * 150_000 + "</x>" * 150_000
    data = hc.in_sheet(hc.base("H-102"), hc.INPUTS, "</worksheet>", deep)
    (tmp_path / "deep.xlsx").write_bytes(data)
    sub = review_file(tmp_path / "deep.xlsx")
    assert sub.status in ("pass", "fail")  # reviewed, whatever it finds; no RecursionError, no crash


def test_a_huge_exponent_in_a_formula_is_compared_not_expanded():
    from addin.review_formula import normalise

    assert normalise("ROUND(1E99999999,2)") == "ROUND(1E99999999,2)"
    assert normalise("ROUND(1E99999999,2)") != normalise("ROUND(1E99999998,2)")
    assert normalise("x*5E-1") == normalise("x*0.5")


# --- item 6 and the reports -----------------------------------------------------------------------------


def test_reports_hold_names_that_are_not_utf8_and_control_characters(tmp_path):
    names = [os.fsdecode("申报.xlsx".encode("gbk")), "tab\there.xlsx", "[red]markup.xlsx"]
    for name in names:
        (tmp_path / name).write_bytes(b"junk")
    subs = review_paths(find_files([tmp_path]))
    write_json(subs, tmp_path / "r.json")
    write_xlsx(subs, tmp_path / "r.xlsx")
    rows = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    shown = sorted(Path(r["file"]).name for r in rows)
    assert shown == sorted(["\\xc9\\xea\\xb1\\xa8.xlsx", "tab\\there.xlsx", "[red]markup.xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["审核 Review"]
    assert sorted(Path(ws.cell(r, 1).value).name for r in range(2, 5)) == shown


# --- the mixed batch, from the command line -------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, corpus) -> tuple[Path, dict[str, hc.Case], set[str]]:
    """The sample portfolio's declarations (as `declare` writes them) and the hostile corpus in one folder."""
    from addin.declaration import declare_frame
    from addin.demo import read_sample

    folder = tmp_path_factory.mktemp("mixed")
    batch = declare_frame(read_sample(), folder, workers=1)
    assert batch.written and not batch.problems
    genuine = {p.name for p in folder.iterdir()}
    cases = hc.write_corpus(folder)
    genuine.add(hc.file_name(hc.GBK_GENUINE))
    return folder, cases, genuine


@pytest.mark.slow
def test_mixed_batch_from_the_command_line(mixed, tmp_path):
    """`green-award review DIR --json r.json --report r.xlsx`: exit 1, no traceback; every hostile file fails with
    its code, every genuine one passes, the lock file is skipped; the JSON is UTF-8 whatever the names."""
    folder, cases, genuine = mixed
    out_json, out_xlsx = tmp_path / "r.json", tmp_path / "r.xlsx"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from addin.cli import main; main()",
            "review",
            str(folder),
            "--json",
            str(out_json),
            "--report",
            str(out_xlsx),
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    output = (run.stdout + run.stderr).decode("utf-8", "replace")
    assert run.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    rows = {r["file"]: r for r in json.loads(out_json.read_bytes().decode("utf-8"))}
    assert len(rows) == len(os.listdir(folder))
    by_name = {}
    for name in os.listdir(folder):
        by_name[name] = rows[review.display_name(folder / name)]
    for name, row in by_name.items():
        if name in cases:
            assert row["status"] == "fail" and cases[name].code in row["codes"], (name, row["problems"])
        elif name in genuine:
            assert row["status"] == "pass", (name, row["problems"])
        else:
            assert name == hc.LOCK_FILE and row["status"] == "skipped" and not row["ok"]
    wb = openpyxl.load_workbook(out_xlsx)
    summary = {wb["汇总 Summary"].cell(r, 1).value: wb["汇总 Summary"].cell(r, 2).value for r in range(1, 9)}
    assert summary["通过 Passed"] == len(genuine) and summary["不通过 Failed"] == len(cases)
    assert summary["跳过 Skipped (lock and hidden files)"] == 1


@pytest.mark.slow
def test_mixed_batch_through_a_process_pool_keeps_the_codes(mixed):
    folder, cases, genuine = mixed
    subs = {os.path.basename(s.file): s for s in review_paths(find_files([folder]), workers=2)}
    hostile = {review.display_name(n): c for n, c in cases.items()}
    for name, sub in subs.items():
        if name in hostile:
            assert hostile[name].code in codes(sub), (name, sub.problems)
        elif name != hc.LOCK_FILE:
            assert sub.ok, (name, sub.problems)
