"""The review's reports: the console table (``print_review``), the JSON report (``write_json``: a list of
each submission's entry with its problems, warnings, findings and sha256) and the workbook for people
(``write_xlsx``). Each renders the findings, which stay data until here."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .findings import Submission, printable

if TYPE_CHECKING:
    from rich.console import Console


def summary(subs: list[Submission]) -> dict:
    """Counts and totals; a skipped file (a lock file) is counted as neither passed nor failed."""
    passed = sum(1 for s in subs if s.status == "pass")
    skipped = sum(1 for s in subs if s.status == "skipped")
    refused: dict[str, int] = {}
    for s in subs:
        if s.refused:
            refused[s.refused] = refused.get(s.refused, 0) + 1
    total = lambda attr: sum((getattr(s, attr) or Decimal(0) for s in subs), Decimal(0))  # noqa: E731
    return {
        "submissions": len(subs) - skipped,
        "passed": passed,
        "failed": len(subs) - skipped - passed,
        "skipped": skipped,
        "with_warnings": sum(1 for s in subs if s.warnings),
        "refused_unread": refused,
        "declared_yuan": total("declared_yuan"),
        "recomputed_yuan": total("recomputed_yuan"),
        "granted_yuan": total("granted_yuan"),
    }


def write_json(subs: list[Submission], path: Path, *, overwrite: bool = False) -> Path:
    from ..files import write_atomically

    data = (json.dumps([s.report() for s in subs], ensure_ascii=False, indent=2) + "\n").encode(
        "utf-8", "backslashreplace"
    )

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return write_atomically(Path(path), write, overwrite=overwrite)


def write_xlsx(subs: list[Submission], path: Path, *, overwrite: bool = False) -> Path:
    """The report for people: a summary sheet first, then one row per submission (problems
    highlighted), with the shared look of ``addin.sheet_style`` (bilingual headers, fitted widths,
    wrapped problems in rows as tall as their text, filter, frozen header, A4 landscape one page wide).
    Files show relative to the folder they share, which the summary names."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    from ..files import write_atomically
    from ..sheet_style import (
        BOLD,
        HEADER_ALIGN,
        HEADER_FILL,
        HEADER_FONT,
        TITLE_FONT,
        Column,
        Sheet,
        cell,
        lines_height,
        print_setup,
        write_table,
    )

    red = PatternFill("solid", fgColor="F8CBAD")
    amber = PatternFill("solid", fgColor="FFE699")
    green = PatternFill("solid", fgColor="C6EFCE")
    grey = PatternFill("solid", fgColor="D9D9D9")
    try:
        folder = os.path.commonpath([os.path.dirname(os.path.abspath(s.file)) for s in subs]) if subs else ""
    except ValueError:  # files on different drives
        folder = ""

    def shown_path(file: str) -> str:
        return os.path.relpath(os.path.abspath(file), folder) if folder else file

    wb = Workbook(write_only=True)
    sm = wb.create_sheet("汇总 Summary")
    print_setup(sm, landscape=False, title_rows=None, title="审核汇总 Review summary", grid=False)
    sm.column_dimensions["A"].width = 34
    sm.column_dimensions["B"].width = 18
    for col in "CD":
        sm.column_dimensions[col].width = 16
    sheet = Sheet(sm)
    info = summary(subs)
    sheet.append([cell(sm, "申报表审核 Review of declarations", font=TITLE_FONT)], 24)
    sheet.append([cell(sm, f"生成日期 Generated {date.today().isoformat()}")])
    if folder:
        sheet.append([cell(sm, "文件夹 Folder", font=BOLD), cell(sm, folder)])
    sheet.append([])
    figures = [
        ("提交 Submissions", info["submissions"], "count"),
        ("通过 Passed", info["passed"], "count"),
        ("不通过 Failed", info["failed"], "count"),
        ("跳过 Skipped (lock and hidden files)", info["skipped"], "count"),
        ("有提示 With warnings", info["with_warnings"], "count"),
        *((f"拒读 Refused unread: {k}", v, "count") for k, v in sorted(info["refused_unread"].items())),
        ("申报合计 Declared (元)", info["declared_yuan"], "money"),
        ("核算合计 Recomputed (元)", info["recomputed_yuan"], "money"),
        ("核定合计 Granted (元)", info["granted_yuan"], "money"),
    ]
    for label, value, kind in figures:
        sheet.append([cell(sm, label, font=BOLD), cell(sm, value, kind)])
    sheet.append([])
    heads = [("条款", "Clause"), ("提交", "Submissions"), ("通过", "Passed"), ("核定（元）", "Granted (yuan)")]
    sheet.append(
        [cell(sm, f"{zh}\n{en}", font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGN) for zh, en in heads],
        lines_height(2),
    )
    clauses: dict[str, list[Submission]] = {}
    for sub in subs:
        if not sub.skipped:
            clauses.setdefault(sub.clause or "(unread)", []).append(sub)
    for clause in sorted(clauses, key=lambda c: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", c)]):
        group = clauses[clause]
        sheet.append(
            [
                cell(sm, clause),
                cell(sm, len(group), "count"),
                cell(sm, sum(1 for s in group if s.ok), "count"),
                cell(sm, sum((s.granted_yuan or Decimal(0) for s in group), Decimal(0)), "money"),
            ]
        )

    ws = wb.create_sheet("审核 Review")
    print_setup(ws, title="申报表审核 Review of declarations")
    columns = [
        Column("文件", "File", "wrap", 34),
        Column("结果", "Result"),
        Column("条款", "Clause"),
        Column("企业", "Enterprise", "wrap", 24),
        Column("申报（元）", "Declared (yuan)", "money"),
        Column("核算（元）", "Recomputed (yuan)", "money"),
        Column("核定（元）", "Granted (yuan)", "money"),
        Column("问题", "Problems", "wrap", 56),
        Column("提示", "Warnings", "wrap", 56),
    ]
    rows = [
        [
            printable(shown_path(s.file)),
            "跳过 skipped" if s.skipped else "通过 pass" if s.ok else "不通过 FAIL",
            s.clause or "",
            printable(s.enterprise or ""),
            s.declared_yuan,
            s.recomputed_yuan,
            s.granted_yuan,
            printable("\n".join(s.problems)),
            printable("\n".join(s.warnings + ([s.skipped] if s.skipped else []))),
        ]
        for s in subs
    ]
    fills = [grey if s.skipped else red if not s.ok else (amber if s.warnings else green) for s in subs]
    write_table(ws, columns, rows, fills=fills, fill_at=1)
    return write_atomically(Path(path), lambda tmp: wb.save(tmp), overwrite=overwrite)


def print_review(subs: list[Submission], console: Console, *, flagged_only: bool = False) -> None:
    """A numbered line per submission (only those with a problem or warning if ``flagged_only``), each
    one's first problem or warning in full under the table (it fits 80 columns), then the summary."""
    from rich.markup import escape

    from .. import console_tables as tables

    table = tables.table("审核结果 Review" + (": 有问题或提示的 with problems or warnings" if flagged_only else ""))
    tables.figure(table, "#")
    tables.text(table, "文件\nFile")
    tables.name(table, "结果\nResult")
    tables.name(table, "条款\nClause")
    tables.figure(table, "申报（元）\nDeclared")
    tables.figure(table, "核定（元）\nGranted")
    notes = []
    for sub in subs:
        if flagged_only and not (sub.problems or sub.warnings):
            continue
        result = "[green]pass[/green]" if sub.ok else "[red]FAIL[/red]"
        if sub.ok and sub.warnings:
            result = "[yellow]pass*[/yellow]"
        if sub.skipped:
            if flagged_only:
                continue
            result = "[dim]skipped[/dim]"
        number = table.row_count + 1
        table.add_row(
            str(number),
            escape(Path(sub.file).name),
            result,
            escape(sub.clause or "—"),
            tables.yuan(sub.declared_yuan),
            tables.yuan(sub.granted_yuan),
        )
        said: list[str] = [*(sub.problems or sub.warnings)] or ([sub.skipped] if sub.skipped else [])
        if said:
            more = f" (+{len(said) - 1} more 另有{len(said) - 1}条, see the report)" if len(said) > 1 else ""
            notes.append(f"{number}. {said[0]}{more}")
    if table.row_count:
        console.print(table)
        for note in notes:
            console.print(note, highlight=False, markup=False)
    left_out = len(subs) - table.row_count
    if flagged_only and left_out:
        console.print(
            f"其余{left_out}份通过且无提示（每份见 --report / --json）/ The other {left_out} pass with nothing to say "
            "(every file: --report or --json)",
            highlight=False,
        )
    info = summary(subs)
    skipped = f", {info['skipped']} skipped (lock or hidden files)" if info["skipped"] else ""
    console.print(
        f"{info['submissions']} submissions: {info['passed']} pass, {info['failed']} fail, {info['with_warnings']} with warnings"
        f"{skipped} (* = pass with a warning, e.g. an annual cap); declared {info['declared_yuan']:,.2f} 元, granted {info['granted_yuan']:,.2f} 元 / "
        f"共{info['submissions']}份，通过{info['passed']}份，不通过{info['failed']}份",
        highlight=False,
    )
