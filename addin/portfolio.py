"""The portfolio table on disk: reading it (csv or xlsx), writing the result, and the empty template.

``run_portfolio`` is what ``green-award portfolio INPUT -o OUTPUT`` calls: read, ``policies.stacking
.stack``, write (csv: the claims; xlsx: claims, summaries, payments and a chart), print a summary.
The table is documented in docs/portfolio.md.
"""

from __future__ import annotations

import csv
import gc
import io
from collections import Counter
from concurrent.futures import Executor
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from policies import GreenAwardError
from policies.engine import compiled
from policies.registry import policies
from policies.schema import ZONES, InputSpec
from policies.stacking import REQUIRED, STATUSES, Portfolio, added_columns, monetary_clauses, stack_rows

from .files import write_atomically
from .safe_xlsx import DEFAULT_LIMITS, SafeZip, UnsafeWorkbook

#: Above this many rows the command shows a progress bar.
PROGRESS_MIN = 2000

# A portfolio workbook may hold 100,000s of claims: larger limits than a declaration's, same guard.
PORTFOLIO_LIMITS = replace(DEFAULT_LIMITS, max_file_bytes=200 * 2**20, max_entry_bytes=1024 * 2**20,
                           max_total_bytes=1536 * 2**20)

DETAIL_LABELS = {
    "enterprise": ("企业名称", "Enterprise name (identifies it when there is no credit code)"),
    "uscc": ("统一社会信用代码", "Unified social credit code, 18 characters (identifies the enterprise)"),
    "project": ("项目编号", "Project identifier, unique within the enterprise"),
    "clause": ("条款", "Clause id, e.g. etown:10 (green-award clauses lists them)"),
    "year": ("申报年度", "Claim year (checked against the policy's validity; caps are per enterprise-year)"),
    "zone": ("所在区域", "Zone of the project"),
    "address": ("地址", "Address"),
    "contact": ("联系人", "Contact person"),
    "phone": ("联系电话", "Phone"),
    "project_name": ("项目名称", "Project name"),
    "start_date": ("开工日期", "Start date (year of a first instalment)"),
    "completion_date": ("完工日期", "Completion date (year of a final or one-off payment)"),
}
ENTERPRISE_COLUMNS = ["enterprise", "uscc", "address", "contact", "phone"]
PROJECT_COLUMNS = ["enterprise", "project", "project_name", "zone", "start_date", "completion_date",
                   "total_incl_tax_yuan", "paid_incl_tax_yuan"]
TEXT_COLUMNS = {"enterprise", "uscc", "project", "clause", "phone", "project_name", "address", "contact"}
MONEY_FORMAT = "#,##0.00"


# --- reading --------------------------------------------------------------------------------------


def check_workbook(path: Path) -> None:
    """Refuse a workbook that is not a zip or whose directory declares a zip bomb (``addin.safe_xlsx``)."""
    try:
        SafeZip(path, PORTFOLIO_LIMITS)
    except UnsafeWorkbook as exc:
        raise GreenAwardError(f"{path}: {exc} / 工作簿不安全或已损坏") from None


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text, blanks as '' (a credit code or project number never becomes a float)."""
    frame = frame.astype(object).where(frame.notna(), "")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.map(lambda v: v if isinstance(v, str) else _cell_text(v))


def _cell_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_table(path: Path | str) -> pd.DataFrame:
    """The claims of a portfolio file as a DataFrame, every column as text (see ``read_rows``)."""
    header, rows = read_rows(path)
    return pd.DataFrame(rows, columns=header, dtype=object)


def read_rows(path: Path | str) -> tuple[list[str], list[list]]:
    """The claims of a portfolio file as a header and rows of text cells.

    csv: the table itself (UTF-8, with or without BOM). xlsx: the ``claims`` sheet (or the only
    sheet), with the columns of the optional ``enterprises`` sheet (keyed by ``enterprise``) and
    ``projects`` sheet (keyed by ``project``, and ``enterprise`` when it has that column) filled in
    where the claim leaves them blank. Rows without any value are left out.
    """
    path = Path(path)
    if not path.exists():
        raise GreenAwardError(f"{path}: no such file / 文件不存在")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        header, rows, _ = read_csv_lines(path)
        return header, rows
    if suffix not in (".xlsx", ".xlsm"):
        raise GreenAwardError(f"{path}: expected a .csv or .xlsx file / 须为csv或xlsx")
    check_workbook(path)
    sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    names = {name.strip().lower(): name for name in sheets}
    if "claims" in names:
        claims = sheets[names["claims"]]
    elif len(sheets) == 1:
        claims = next(iter(sheets.values()))
    else:
        raise GreenAwardError(f"{path}: no sheet named 'claims' (sheets: {', '.join(sheets)}) / 缺少claims工作表")
    claims = _without_blank_rows(_text_frame(claims))
    for sheet, keys in (("enterprises", ["enterprise"]), ("projects", ["enterprise", "project"])):
        if sheet in names:
            claims = _fill_from(claims, _text_frame(sheets[names[sheet]]), keys, f"{path.name}:{sheet}")
    return list(claims.columns), claims.to_numpy(dtype=object).tolist()


def read_csv_lines(path: Path) -> tuple[list[str], list[list], list[str] | None]:
    """A csv's header and rows, and each kept row's own line when every row is one line of the
    header's width (so the result can repeat the line as it was instead of writing it anew)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GreenAwardError(f"{path}: not UTF-8 text; save the csv as UTF-8 / 请以UTF-8编码保存") from None
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    if not parsed or not parsed[0]:
        raise GreenAwardError(f"{path}: empty file / 空文件")
    header = [c.strip() for c in parsed[0]]
    lines: list[str] | None = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(parsed):  # a quoted field spans lines: no line per row
        lines = None
    rows, kept = [], []
    width = len(header)
    for index, row in enumerate(parsed[1:], 1):
        if any(c.strip() for c in row):
            rows.append(row)
            if lines is not None:
                if len(row) != width:
                    lines = None
                else:
                    line = lines[index]
                    kept.append(line[:-1] if line.endswith("\r") else line)
    return header, rows, (kept if lines is not None else None)


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no value at all (a spacer row in a sheet) are not claims."""
    if frame.empty:
        return frame
    filled = frame.apply(lambda column: column.astype(str).str.strip().ne("")).any(axis=1)
    return frame if filled.all() else frame[filled].reset_index(drop=True)


def _fill_from(claims: pd.DataFrame, detail: pd.DataFrame, keys: list[str], where: str) -> pd.DataFrame:
    """Blank claim cells filled from a detail sheet matched on ``keys`` (the last one is required)."""
    if keys[-1] not in detail.columns:
        raise GreenAwardError(f"{where}: needs a column {keys[-1]!r} to match the claims / 缺少匹配列")
    keys = [k for k in keys if k in detail.columns]
    if any(k not in claims.columns for k in keys):
        return claims  # the claims sheet lacks a key column: stacking reports it
    detail = detail[[c for c in detail.columns if c and not c.startswith("Unnamed")]]
    detail = detail[detail[keys].ne("").all(axis=1)]
    doubled = detail.duplicated(keys, keep=False)
    if doubled.any():
        first = detail[doubled].iloc[0][keys].tolist()
        raise GreenAwardError(f"{where}: {' / '.join(first)} appears twice / 重复")
    lookup = detail.set_index(keys)
    claims = claims.copy()
    index = pd.MultiIndex.from_frame(claims[keys]) if len(keys) > 1 else pd.Index(claims[keys[0]])
    for column in lookup.columns:
        values = lookup[column].reindex(index).fillna("").tolist()
        if column in claims.columns:
            own = claims[column].tolist()
            claims[column] = [o if str(o).strip() else v for o, v in zip(own, values)]
        else:
            claims[column] = values
    return claims


# --- writing --------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, Decimal)):
        return value.item()  # numpy scalar
    return value


def _sheet(workbook, title: str, columns: list[str], records: Iterable[Sequence], money: set[str]) -> None:
    """A write-only sheet; strings are data, never formulas; money as #,##0.00."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = workbook.create_sheet(title)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=str(name))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    money_at = [name in money for name in columns]
    for record in records:
        out = []
        for value, is_money in zip(record, money_at):
            value = _plain(value)
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"  # text that looks like a formula stays text
                out.append(cell)
            elif is_money and isinstance(value, (Decimal, int, float)):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = MONEY_FORMAT
                out.append(cell)
            else:
                out.append(value)
        ws.append(out)


def _frame_sheet(workbook, title: str, frame: pd.DataFrame) -> None:
    _sheet(workbook, title, list(frame.columns), frame.itertuples(index=False, name=None), MONEY_COLUMNS)


def _chart_sheet(workbook, portfolio: Portfolio) -> None:
    from openpyxl.chart import BarChart, Reference

    ws = workbook.create_sheet("chart")
    pivot: dict[int, dict[str, Decimal]] = {}
    names = list(policies())
    for row in portfolio.by_policy.itertuples(index=False):
        pivot.setdefault(int(row.year), {})[row.policy] = row.granted_yuan
    ws.append(["year 年度", *[f"{p} granted 元" for p in names]])
    for year in sorted(pivot):
        ws.append([str(year), *[float(pivot[year].get(p, 0)) for p in names]])
    if not pivot:
        return
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Granted by year and policy 按年度和政策的核定金额"
    chart.y_axis.title = "元 yuan"
    chart.x_axis.title = "year 年度"
    data = Reference(ws, min_col=2, max_col=1 + len(names), min_row=1, max_row=1 + len(pivot))
    categories = Reference(ws, min_col=1, min_row=2, max_row=1 + len(pivot))
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    chart.width, chart.height = 18, 9
    ws.add_chart(chart, "A" + str(len(pivot) + 4))


MONEY_COLUMNS = {"amount_yuan", "granted_yuan", "due_yuan", "pending_yuan", "total_yuan",
                 *(c for c in added_columns() if c.endswith("_yuan"))}


def write_csv(portfolio: Portfolio, path: Path, lines: list[str] | None = None) -> None:
    """The claims with the added columns; amounts as exact decimal text, an empty amount as nothing.

    ``lines``: the input rows' own csv lines (``read_csv_lines``), repeated as they were with the
    added cells appended, when they match the rows one to one.
    """
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(portfolio.columns)
        if lines is not None and len(lines) == len(portfolio.rows) and all(
            len(r) == len(portfolio.header) for r in (portfolio.rows[:1] or [[]])
        ):
            buffer = io.StringIO()
            csv.writer(buffer).writerows(portfolio.added)
            added = buffer.getvalue().split("\r\n")
            if len(added) == len(lines) + 1 and not added[-1]:
                handle.write("".join(f"{line},{extra}\r\n" for line, extra in zip(lines, added)))
                return
        writer.writerows(portfolio.records())


def write_xlsx(portfolio: Portfolio, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _sheet(workbook, "claims", portfolio.columns, portfolio.records(), MONEY_COLUMNS)
    _frame_sheet(workbook, "by_enterprise_year", portfolio.by_enterprise_year)
    _frame_sheet(workbook, "by_policy", portfolio.by_policy)
    _frame_sheet(workbook, "by_payment_year", portfolio.by_payment_year)
    _frame_sheet(workbook, "payments", portfolio.payments)
    _chart_sheet(workbook, portfolio)
    workbook.save(path)


def write_result(
    portfolio: Portfolio, path: Path | str, *, overwrite: bool = False, lines: list[str] | None = None
) -> Path:
    """The result by suffix: .csv the claims with the added columns; .xlsx everything and a chart."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_atomically(path, lambda tmp: write_csv(portfolio, tmp, lines), overwrite=overwrite)
    if suffix == ".xlsx":
        return write_atomically(path, lambda tmp: write_xlsx(portfolio, tmp), overwrite=overwrite)
    raise GreenAwardError(f"{path}: the output must end in .csv or .xlsx / 输出须为csv或xlsx")


# --- the command ----------------------------------------------------------------------------------


def run_portfolio(
    source: Path | str,
    output: Path | str | None,
    *,
    overwrite: bool = False,
    console: Console | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    record=None,
) -> Portfolio:
    """Read ``source``, compute the portfolio, write ``output`` (when given) and print a summary.

    ``record``: the grants on record of a ledger (``policies.ledger_rules.Record``), read, never written."""
    console = console or Console()
    if output is not None and Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it / 文件已存在")
    enabled = gc.isenabled()
    gc.disable()  # reading and computing make 100,000s of objects that live to the end
    try:
        lines = None
        if Path(source).suffix.lower() in (".csv", ".txt") and Path(source).exists():
            header, rows, lines = read_csv_lines(Path(source))
        else:
            header, rows = read_rows(source)
        if len(rows) >= PROGRESS_MIN and not quiet:
            with Progress(
                TextColumn("计算 Evaluating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
                TimeRemainingColumn(), console=console, transient=True, auto_refresh=False,
            ) as bar:  # no refresh thread: the evaluation may fork worker processes
                task = bar.add_task("claims", total=None)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)
                    bar.refresh()

                result = stack_rows(header, rows, executor=executor, progress=advance, record=record)
        else:
            result = stack_rows(header, rows, executor=executor, record=record)
        if output is not None:
            write_result(result, output, overwrite=overwrite, lines=lines)
    finally:
        if enabled:
            gc.enable()
    if not quiet:
        print_summary(result, console)
        if output is not None:
            console.print(f"结果 Result: {output}", highlight=False)
    return result


def print_summary(portfolio: Portfolio, console: Console) -> None:
    for warning in portfolio.warnings:
        console.print(f"[yellow]注意 Warning:[/yellow] {warning}", highlight=False)
    counts = Counter(portfolio.column("status"))
    console.print(
        "claims 申报: " + ", ".join(f"{s} {int(counts.get(s, 0))}" for s in STATUSES if counts.get(s, 0)),
        highlight=False,
    )
    table = Table(title="按企业年度 Per enterprise and year")
    for column in ("enterprise 企业", "year 年度", "claims", "amount 金额 (元)", "granted 核定 (元)", "capped", "invalid"):
        table.add_column(column, justify="right" if column not in ("enterprise 企业",) else "left")
    frame = portfolio.by_enterprise_year
    for row in frame.head(40).itertuples(index=False):
        table.add_row(
            row.enterprise or row.uscc or "—", str(row.year) if row.year == row.year and row.year is not None else "—",
            str(row.claims), f"{row.amount_yuan:,.2f}", f"{row.granted_yuan:,.2f}", str(row.capped), str(row.invalid),
        )
    if len(frame) > 40:
        table.caption = f"first 40 of {len(frame)} enterprise-years; all are in the xlsx output"
    console.print(table)
    years = Table(title="按支付年度 Per payment year")
    for column in ("year 年度", "policy 政策", "due 应付 (元)", "pending 待条件 (元)"):
        years.add_column(column, justify="right")
    for row in portfolio.by_payment_year.itertuples(index=False):
        years.add_row(str(row.payment_year), row.policy, f"{row.due_yuan:,.2f}", f"{row.pending_yuan:,.2f}")
    console.print(years)
    if portfolio.invalid:
        console.print(
            f"[red]{portfolio.invalid} invalid row(s)[/red]: their amounts are empty and the totals above leave them out; "
            "fix them (see the note column) / 有无效行，合计不完整",
            highlight=False,
        )
    console.print(f"granted total 核定合计: {portfolio.granted_total:,.2f} 元", highlight=False)


# --- the template ---------------------------------------------------------------------------------


def template_columns() -> list[tuple[str, InputSpec | None, list[str]]]:
    """(column, its spec or None, the clauses reading it) in the template's order."""
    seen: dict[str, tuple[InputSpec | None, list[str]]] = {}
    for name in ("enterprise", "uscc", "project", "project_name", "clause", "year", "zone",
                 "start_date", "completion_date"):
        seen[name] = (None, [])
    inputs, conditions = {}, {}
    for clause_id in monetary_clauses():
        cc = compiled(clause_id)
        for name, spec in cc.specs.items():
            bucket = conditions if name in cc.conditions else inputs
            if name == "zone":
                seen["zone"] = (spec, seen["zone"][1] + [clause_id])
                continue
            entry = bucket.setdefault(name, (spec, []))
            entry[1].append(clause_id)
    for name, entry in {**inputs, **conditions}.items():
        seen[name] = entry
    for name in ("address", "contact", "phone"):
        seen[name] = (None, [])
    return [(name, spec, clauses) for name, (spec, clauses) in seen.items()]


def _help_text(name: str, spec: InputSpec | None, clauses: list[str]) -> tuple[str, str, str]:
    """(中文, English, how to fill) of one column."""
    if spec is None or name == "zone":
        zh, en = DETAIL_LABELS.get(name, (name, name))
        if name == "zone":
            return zh, en, "one of: " + ", ".join(ZONES)
        fill = {"year": "a year, e.g. 2025", "start_date": "YYYY-MM-DD", "completion_date": "YYYY-MM-DD",
                "uscc": "18 characters (text)", "clause": "one of the listed clause ids"}.get(name, "text")
        return zh, en, fill
    fill = {"money": "yuan 元", "number": spec.unit or "number", "integer": "whole number",
            "ratio": "a fraction, e.g. 0.035", "bool": "是/否 (true/false)",
            "choice": "one of: " + ", ".join(spec.values or {}), "text": "text"}[spec.type]
    if spec.default is not None:
        fill += f"; empty = {spec.default}"
    elif spec.type == "bool" and name not in ("",):
        fill += "; empty = assumed (condition) or false (route)"
    if spec.help is not None:
        fill += f"; {spec.help.en}"
    return spec.label.zh, spec.label.en, fill


def write_template(path: Path | str, *, overwrite: bool = False) -> Path:
    """An empty portfolio workbook: claims, enterprises and projects sheets with dropdowns, and help."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise GreenAwardError(f"{path}: the template is an .xlsx workbook / 模板须为xlsx")
    return write_atomically(path, _write_template, overwrite=overwrite)


def _write_template(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    rows = 1000
    columns = template_columns()
    workbook = Workbook()
    claims = workbook.active
    claims.title = "claims"
    enterprises = workbook.create_sheet("enterprises")
    projects = workbook.create_sheet("projects")
    help_sheet = workbook.create_sheet("help")
    lists = workbook.create_sheet("lists")
    lists.sheet_state = "hidden"

    # the dropdown values live on the hidden lists sheet (an inline list is limited to 255 characters)
    list_ranges: dict[str, str] = {}

    def add_list(key: str, values: list[str]) -> str:
        col = get_column_letter(len(list_ranges) + 1)
        lists.cell(row=1, column=len(list_ranges) + 1, value=key)
        for i, value in enumerate(values, 2):
            lists.cell(row=i, column=len(list_ranges) + 1, value=value).data_type = "s"
        ref = f"{quote_sheetname('lists')}!${col}$2:${col}${len(values) + 1}"
        list_ranges[key] = ref
        return ref

    add_list("clause", monetary_clauses())
    add_list("zone", list(ZONES))
    add_list("yes_no", ["是", "否"])

    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    required_fill = PatternFill("solid", fgColor="FCE4D6")

    def header(ws, names: list[str]) -> None:
        for c, name in enumerate(names, 1):
            cell = ws.cell(row=1, column=c, value=name)
            cell.font = bold
            cell.fill = required_fill if name in REQUIRED else head_fill
            ws.column_dimensions[get_column_letter(c)].width = max(12, min(28, len(name) + 2))
            if name in TEXT_COLUMNS:
                for r in range(2, rows + 2):
                    ws.cell(row=r, column=c).number_format = "@"
        ws.freeze_panes = "A2"

    def validate(ws, c: int, name: str, spec: InputSpec | None, prompt: str) -> None:
        col = get_column_letter(c)
        area = f"{col}2:{col}{rows + 1}"
        dv = None
        if name == "clause":
            dv = DataValidation(type="list", formula1=list_ranges["clause"], allow_blank=True)
        elif name == "zone":
            dv = DataValidation(type="list", formula1=list_ranges["zone"], allow_blank=True)
        elif name == "year":
            dv = DataValidation(type="whole", operator="between", formula1="2020", formula2="2100", allow_blank=True)
        elif name in ("start_date", "completion_date"):
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
        elif spec is not None and spec.type == "choice":
            key = f"choice:{name}"
            ref = list_ranges.get(key) or add_list(key, list(spec.values))
            dv = DataValidation(type="list", formula1=ref, allow_blank=True)
        elif spec is not None and spec.type == "bool":
            dv = DataValidation(type="list", formula1=list_ranges["yes_no"], allow_blank=True)
            dv.errorStyle = "warning"  # true/false and yes/no are accepted too
        elif spec is not None and spec.type in ("money", "number", "integer", "ratio"):
            low = spec.lower if spec.lower is not None else Decimal(0)
            kind = "whole" if spec.type == "integer" else "decimal"
            if spec.upper is not None:
                dv = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(spec.upper), allow_blank=True)
            else:
                dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low), allow_blank=True)
        if dv is None:
            dv = DataValidation(type="custom", formula1="TRUE", allow_blank=True)
        dv.promptTitle = name[:32]
        dv.prompt = prompt[:255]
        dv.showInputMessage = True
        dv.error = f"{name}: see the help sheet / 见help工作表"[:255]
        dv.errorTitle = "green-award"
        ws.add_data_validation(dv)
        dv.add(area)

    specs = {name: (spec, used) for name, spec, used in columns}
    for ws, names in ((claims, [n for n, _, _ in columns]), (enterprises, ENTERPRISE_COLUMNS), (projects, PROJECT_COLUMNS)):
        header(ws, names)
        for c, name in enumerate(names, 1):
            spec, used = specs.get(name, (None, []))
            zh, en, fill = _help_text(name, spec, used)
            validate(ws, c, name, spec, f"{zh} / {en}. {fill}")
            if ws is claims:
                ws.cell(row=1, column=c).comment = Comment(f"{zh}\n{en}\n{fill}"[:500], "green-award")

    help_sheet.append(["column 列", "中文", "English", "how to fill 填写", "used by 适用条款"])
    for cell in help_sheet[1]:
        cell.font = bold
    help_sheet.append(["—", "每行一项申报：企业、项目、条款、年度；只填该条款用到的列，其余留空。",
                       "One row per claim: enterprise, project, clause, year; fill only the columns the clause uses, "
                       "leave the rest empty. Then run: green-award portfolio THIS.xlsx -o result.xlsx", "", ""])
    help_sheet.append(["—", "enterprises、projects工作表按enterprise、project匹配，补充claims中留空的列。",
                       "The enterprises and projects sheets fill blank claim cells, matched by enterprise and project.",
                       "", ""])
    for name, spec, used in columns:
        zh, en, fill = _help_text(name, spec, used)
        need = "required 必填" if name in REQUIRED else ""
        row = [name, zh, en, "; ".join(x for x in (need, fill) if x), ", ".join(used) if len(used) < 12 else f"{len(used)} clauses"]
        help_sheet.append(row)
        for cell in help_sheet[help_sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for col, width in zip("ABCDE", (28, 36, 48, 48, 40)):
        help_sheet.column_dimensions[col].width = width
    for row in help_sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(path)
