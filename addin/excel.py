"""``green-award excel``: the finance team's model workbook (an .xlsm for classic xlwings).

Built on the quickstart workbook that xlwings ships (its VBA project, which refers to the xlwings
add-in, is kept byte for byte). The main sheet is a project portfolio: per project its type,
investment, timing, the clause (a dropdown of Chinese labels, the English title beside it) and its
inputs as name/value pairs; the award through ``GREEN_AWARD``; the best clause of each project from
``PORTFOLIO_AWARDS`` (sheet 比选); the net investment; the payment schedule from ``AWARD_PAYMENTS``
(legacy array ranges: LibreOffice 7.4 cannot spill) summed by year and policy, with a chart; a
cash flow with and without the subsidy through Excel's own NPV and IRR and a payback; totals that
refuse to add up while any award is not a number.

Every formula cell carries the value computed here when the file was written (the worksheet
functions called as classic xlwings calls them, the plain formulas computed alongside), patched into
the sheet XML as its cached value (``addin.declaration.cache_formula_values``), and the workbook
asks for no recalculation on load: it opens meaningfully without Python, and recalculates live with
xlwings. The output is deterministic: fixed document dates and zip timestamps.
"""

from __future__ import annotations

import inspect
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlwings
from openpyxl import load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

if TYPE_CHECKING:
    from openpyxl.cell import Cell
    from openpyxl.workbook.workbook import Workbook

import udfs
from policies import catalog, clause_info
from policies.parameters import reform_names
from policies.registry import fields
from udfs._sheet import WorksheetFunction

from .declaration import cache_formula_values
from .files import write_atomically
from .sheet_style import (
    BOLD,
    HEADER_ALIGN,
    HEADER_FILL,
    HEADER_FONT,
    MONEY_FORMAT,
    TITLE_FONT,
    lines_height,
    print_setup,
    text_width,
    wrapped_lines,
)

QUICKSTART = Path(xlwings.__file__).resolve().parent / "quickstart.xlsm"
TEMPLATE = Path(__file__).resolve().parent.parent / "workbook_templates" / "green_award_model.xlsm"
FIXED_TIME = datetime(2025, 5, 17)  # the E-Town policy's date: any fixed date keeps the output reproducible
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: No recalculation on load: Excel recalculates a workbook whose calcId is lower than its engine's,
#: which would turn every worksheet-function cell into #NAME? where Python is not set up. The cached
#: values are the core's, so nothing needs recalculating until an input changes.
CALC_ID = 999999

MODEL = "组合 Portfolio"
BEST = "比选 Best clause"
EXPLAIN = "过程 Explain"
CLAUSES = "条款 Clauses"
INPUTS = "输入 Inputs"
FUNCTIONS = "函数 Functions"
LISTS = "列表 Lists"
CONF = "xlwings.conf"

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
SECTION_FONT = Font(bold=True, size=12, color="1F4E78")
NOTE_FONT = Font(italic=True, color="595959")
QUIET_FONT = Font(italic=True, color="808080")
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
PERCENT = "0.00%"
YEAR = "0"
#: Excel's own functions the workbooks we write may use: the ones WPS Office (which does not run
#: xlwings) computes too, so that the declarations and the model's plain formulas work there.
#: Every formula we write is checked against this list (tests/test_excel.py).
SPREADSHEET_FUNCTIONS = frozenset(
    {
        "ABS",
        "AND",
        "CHAR",
        "COUNT",
        "COUNTA",
        "COUNTIF",
        "COUNTIFS",
        "DATE",
        "FALSE",
        "FIND",
        "HLOOKUP",
        "IF",
        "IFERROR",
        "INDEX",
        "IRR",
        "ISBLANK",
        "ISERROR",
        "ISNA",
        "ISNUMBER",
        "ISTEXT",
        "LEFT",
        "LEN",
        "MATCH",
        "MAX",
        "MID",
        "MIN",
        "NA",
        "NOT",
        "NPV",
        "OR",
        "ROUND",
        "ROUNDDOWN",
        "ROUNDUP",
        "ROWS",
        "SUM",
        "SUMIF",
        "SUMIFS",
        "SUMPRODUCT",
        "TEXT",
        "TRUE",
        "VALUE",
        "VLOOKUP",
        "YEAR",
    }
)


# --- the worksheet functions called as classic xlwings calls them ------------------------------


class FormulaError(ValueError):
    pass


Lookup = Callable[[str | None, str], Any]  # (sheet or None for the formula's own, "A1") -> the cell's value


def _cell_value(value: Any) -> Any:
    """What classic xlwings hands a function for a cell: numbers as floats, a date as a datetime,
    empty as None."""
    if isinstance(value, (bool, datetime)) or value is None or isinstance(value, str):
        return None if value == "" else value
    if isinstance(value, (int, float)):
        return float(value)
    raise FormulaError(f"unexpected cell value {value!r}")


def _range_value(lookup: Lookup, sheet: str | None, ref: str) -> Any:
    """A reference as xlwings reads it: a cell as a scalar, one row or column flat, else rows."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    rows = [
        [_cell_value(lookup(sheet, f"{get_column_letter(c)}{r}")) for c in range(min_col, max_col + 1)]
        for r in range(min_row, max_row + 1)
    ]
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    if len(rows) == 1:
        return rows[0]
    if all(len(r) == 1 for r in rows):
        return [r[0] for r in rows]
    return rows


_TOKEN = re.compile(
    r"\s*(?:(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<ref>(?:'(?:[^']|'')+'!|[A-Za-z_][A-Za-z0-9_.]*!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)(?![A-Z_(])"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<name>[A-Z_][A-Z0-9_]*)(?=\()|(?P<op>[(),]))"
)


def worksheet_functions() -> list[WorksheetFunction]:
    """Every worksheet function of ``udfs``, in the package's order (PORTFOLIO_AWARDS included)."""
    return [getattr(udfs, n) for n in udfs.__all__ if getattr(getattr(udfs, n), "is_worksheet_function", False)]


class ExcelError(str):
    """An Excel error value (``#REF!``) as a formula's result."""


Memo = dict[tuple[str, object], tuple[bool, Any]]  # (function, arguments) -> (returned, its value or the error)


def _parse(formula: str) -> Any:
    """The formula as a tree: ("call", NAME, [args]), ("ref", sheet, ref), ("str"|"num"|"omitted", value)."""
    text = formula[1:] if formula.startswith("=") else formula
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FormulaError(f"cannot read {text[position:]!r} in {formula!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    index = 0

    def peek() -> tuple[str, str]:
        return tokens[index] if index < len(tokens) else ("end", "")

    def argument() -> Any:
        nonlocal index
        kind, value = peek()
        if kind == "op" and value in ",)":
            return ("omitted", None)
        index += 1
        if kind == "str":
            return ("str", value[1:-1].replace('""', '"'))
        if kind == "num":
            return ("num", float(value))
        if kind == "ref":
            sheet, _, ref = value.rpartition("!")
            sheet_name = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else (sheet or None)
            return ("ref", sheet_name, ref.replace("$", ""))
        if kind == "name":
            if peek() != ("op", "("):
                raise FormulaError(f"{value} without (")
            index += 1
            args = []
            if peek() != ("op", ")"):
                while True:
                    args.append(argument())
                    if peek() == ("op", ","):
                        index += 1
                        continue
                    break
            if peek() != ("op", ")"):
                raise FormulaError(f"missing ) in {formula!r}")
            index += 1
            return ("call", value, args)
        raise FormulaError(f"unexpected {value!r} in {formula!r}")

    tree = argument()
    if index != len(tokens):
        raise FormulaError(f"trailing text in {formula!r}")
    return tree


def _key(value: Any) -> Any:
    return tuple(_key(v) for v in value) if isinstance(value, list) else value


def evaluate_formula(formula: str, lookup: Lookup, memo: Memo | None = None) -> Any:
    """Evaluate ``=FUNC(args)`` where FUNC is a worksheet function of ``udfs`` (or Excel's ``INDEX``
    or ``IFERROR`` around one) and args are literals, references (``A1``, ``$B$2:C3``,
    ``'Sheet'!A1``) or nested calls: the Python calls classic xlwings makes for the formula, with
    ``lookup`` giving each referenced cell's value. ``memo`` keeps each call's result by its
    arguments (a table's cells call the same function with the same arguments)."""
    functions = {f.__name__: f for f in worksheet_functions()}
    memo = {} if memo is None else memo

    def run(node: Any) -> Any:
        kind = node[0]
        if kind in ("str", "num"):
            return node[1]
        if kind == "omitted":
            return None  # an omitted argument: xlwings passes the Python default, here None
        if kind == "ref":
            return _range_value(lookup, node[1], node[2])
        name, args = node[1], node[2]
        if name == "IFERROR":
            try:
                value = run(args[0])
            except udfs.WorksheetError:
                return run(args[1])
            return run(args[1]) if isinstance(value, ExcelError) else value
        if name == "INDEX":
            table, row, column = run(args[0]), int(run(args[1])), int(run(args[2]))
            rows = table if isinstance(table, list) else [[table]]
            rows = [r if isinstance(r, list) else [r] for r in rows]
            if not (1 <= row <= len(rows) and 1 <= column <= len(rows[row - 1])):
                return ExcelError("#REF!")
            return rows[row - 1][column - 1]
        function = functions.get(name)
        if function is None:
            raise FormulaError(f"{name} is not a worksheet function of udfs")
        values = [run(a) for a in args]
        key = (name, _key(values))
        if key not in memo:
            try:
                memo[key] = (True, function(*values))
            except udfs.WorksheetError as exc:
                memo[key] = (False, exc)
        ok, result = memo[key]
        if not ok:
            raise result
        return result

    return run(_parse(formula))


_STRINGS = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'")


def function_names(formula: str) -> set[str]:
    """The functions a formula calls (text in quotes and quoted sheet names left out)."""
    return {
        name.upper().removeprefix("_XLFN.")
        for name in re.findall(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(", _STRINGS.sub("", formula))
    }


# --- the sample portfolio ----------------------------------------------------------------------

INVESTMENT = object()  #: an input whose value is the project's investment cell


@dataclass(frozen=True)
class Project:
    name: str
    kind: str
    investment: float
    start: int
    completion: int
    benefit: float  # a year, from the year after completion
    clause: str
    inputs: tuple[tuple[str, Any], ...]
    alternatives: tuple[str, ...] = ()  # clauses of the same policy to compare (sheet 比选)


#: Inputs as the case tables (tests/cases) have them, so that a test holds the cached awards equal
#: to those tables' figures.
PROJECTS = [
    Project(
        "屋顶光伏 Rooftop PV",
        "光伏 PV",
        400_000,
        2025,
        2025,
        40_000,
        "etown:27",
        (("capacity_kw", 100), ("ownership", "自有")),
    ),
    # completed, so claimed, in 2027: the what-if block's reform (1,000 元/kW from 2027) applies to it
    Project(
        "二期屋顶光伏 Rooftop PV, phase 2",
        "光伏 PV",
        400_000,
        2026,
        2027,
        40_000,
        "etown:27",
        (("capacity_kw", 100), ("ownership", "自有")),
    ),
    Project(
        "燃气锅炉A级 Gas boiler to grade A",
        "锅炉 Boiler",
        1_000_000,
        2025,
        2026,
        120_000,
        "etown:10",
        (("boiler_grade", "A"), ("investment_yuan", INVESTMENT)),
        ("etown:9",),
    ),
    Project(
        "电机系统节能 Motor-system energy saving",
        "节能改造 Energy saving",
        10_000_000,
        2025,
        2026,
        1_500_000,
        "beijing:2.1",
        (("project_type", "节能改造项目"), ("energy_saved_tce", 1000), ("investment_yuan", INVESTMENT)),
        ("beijing:2.5",),
    ),
    Project(
        "产线改造 Production-line retrofit",
        "产线改造 Retrofit",
        5_000_000,
        2026,
        2026,
        600_000,
        "tongzhou:3",
        (("investment_yuan", INVESTMENT),),
    ),
    Project(
        "绿电采购 Green-power purchase", "绿电 Green power", 0, 2025, 2025, 0, "etown:29", (("green_kwh", 10_000_000),)
    ),
    Project(
        "绿色贷款贴息 Green-loan interest",
        "绿色金融 Green finance",
        0,
        2025,
        2025,
        0,
        "beijing:8",
        (("loan_principal_yuan", 100_000_000), ("loan_rate", 0.035), ("fixed_asset_investment_yuan", 5_000_001)),
    ),
    Project(
        "国五货车换新能源 Trucks to new energy",
        "车辆 Vehicles",
        1_000_000,
        2025,
        2025,
        150_000,
        "etown:18",
        (("vehicle_route", "guo5_replaced"), ("nev_price_yuan", 500_000), ("vehicles", 2)),
    ),
    Project(
        "废气深度治理 Waste-gas treatment",
        "污染治理 Pollution control",
        1_000_000,
        2026,
        2027,
        50_000,
        "etown:9",
        (("investment_yuan", INVESTMENT),),
    ),
]
PROJECT_KINDS = [
    "光伏 PV",
    "锅炉 Boiler",
    "节能改造 Energy saving",
    "产线改造 Retrofit",
    "绿电 Green power",
    "绿色金融 Green finance",
    "车辆 Vehicles",
    "污染治理 Pollution control",
    "建筑 Buildings",
    "其他 Other",
]
PAIRS = 3
ENTERPRISE = "示例绿色制造有限公司 Sample Green Manufacturing Co."
DISCOUNT_RATE = 0.06
YEARS = 10  # the cash flow's horizon
CHART_YEARS = 5
POLICY_NAMES = {"beijing": "北京市 Beijing", "tongzhou": "通州区 Tongzhou", "etown": "经开区 E-Town"}
POLICY_SHORT = {"beijing": "北京市", "tongzhou": "通州", "etown": "经开区"}


def clause_label(info: Mapping[str, Any]) -> str:
    """The dropdown's Chinese label of a clause: policy, number, title (unique as the id is)."""
    return f"{POLICY_SHORT[info['policy']]}{info['id'].split(':', 1)[1]} {info['title_zh']}"


def monetary_clauses() -> list[Mapping[str, Any]]:
    return [info for info in catalog() if info["monetary"]]


# --- building cells with their cached values ---------------------------------------------------


class Book:
    """The workbook being built and the value of every formula cell in it (its cached value)."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.cached: dict[str, dict[str, Any]] = {}
        self.memo: Memo = {}

    def value(self, sheet: str, ref: str) -> Any:
        """A cell's value as the workbook will show it: a constant, or a formula's cached value."""
        if ref in self.cached.get(sheet, {}):
            return self.cached[sheet][ref]
        value = self.wb[sheet][ref].value
        if isinstance(value, str) and value.startswith("=") and self.wb[sheet][ref].data_type == "f":
            raise FormulaError(f"{sheet}!{ref} is a formula without a computed value")
        return value

    def put(
        self,
        ws: Worksheet,
        ref: str,
        value: Any,
        *,
        fmt: str | None = None,
        font: Font | None = None,
        fill: PatternFill | None = None,
        align: Alignment | None = None,
        box: bool = False,
    ) -> None:
        """A constant (text is always data, never a formula)."""
        cell = ws[ref]
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
        self._style(cell, fmt, font, fill, align, box)

    def formula(
        self,
        ws: Worksheet,
        ref: str,
        formula: str,
        value: Any,
        *,
        fmt: str | None = None,
        font: Font | None = None,
        fill: PatternFill | None = None,
        align: Alignment | None = None,
        box: bool = False,
    ) -> Any:
        """A plain Excel formula with the value it computes (worked out by the caller)."""
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        ws[ref] = formula
        self.cached.setdefault(ws.title, {})[ref] = value
        self._style(ws[ref], fmt, font, fill, align, box)
        return value

    def custom(self, ws: Worksheet, ref: str, formula: str, **style: Any) -> Any:
        """A worksheet-function formula; its value is the function's, called as classic xlwings calls it."""
        value = evaluate_formula(formula, lambda sheet, r: self.value(sheet or ws.title, r), self.memo)
        return self.formula(ws, ref, formula, value, **style)

    def table(
        self,
        ws: Worksheet,
        top_left: str,
        call: str,
        rows: int,
        columns: int,
        *,
        first: int = 2,
        required: int = 1,
        fmts: dict[int, str] | None = None,
        box: bool = False,
        align: Alignment | None = None,
        at: list[str] | None = None,
    ) -> list[list[Any]]:
        """A table function's result cell by cell, each a normal formula ``=INDEX(call, i, j)`` with
        its cached value: LibreOffice 7.4 recalculates every array formula when it opens a file (it
        ignores an array's cached values, a normal formula's it keeps), so a legacy array of a
        worksheet function would show #NAME? there without Python. Result rows ``first``.. fill the
        block; past its first ``required`` rows ``IFERROR(…,"")`` leaves a cell empty where the result
        is shorter (the first rows show any error). ``at``: the sheet column of each result column
        (default: side by side from ``top_left``). Returns the values shown."""
        col, row = range_boundaries(top_left)[:2]
        shown = []
        for i in range(rows):
            line = []
            for j in range(columns):
                index = f"INDEX({call},{first + i},{j + 1})"
                formula = f"={index}" if i < required else f'=IFERROR({index},"")'
                value = evaluate_formula(formula, lambda sheet, r: self.value(sheet or ws.title, r), self.memo)
                if isinstance(value, ExcelError):
                    raise FormulaError(f"{ws.title}!{top_left}: {formula} gives {value}")
                column = at[j] if at else get_column_letter(col + j)
                line.append(
                    self.formula(
                        ws, f"{column}{row + i}", formula, value, fmt=(fmts or {}).get(j), align=align, box=box
                    )
                )
            shown.append(line)
        return shown

    @staticmethod
    def _style(
        cell: Cell,
        fmt: str | None,
        font: Font | None,
        fill: PatternFill | None,
        align: Alignment | None,
        box: bool,
    ) -> None:
        if fmt:
            cell.number_format = fmt
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if align is not None:
            cell.alignment = align
        if box:
            cell.border = BOX
            if align is None:
                cell.alignment = TOP


def _header(book: Book, ws: Worksheet, row: int, labels: list[str], first: int = 1) -> None:
    """A bilingual header row (set the column widths first: the row is made as tall as its labels)."""
    lines = 1
    for k, label in enumerate(labels):
        column = get_column_letter(first + k)
        book.put(ws, f"{column}{row}", label, font=HEADER_FONT, fill=HEADER_FILL, align=HEADER_ALIGN, box=True)
        lines = max(lines, wrapped_lines(label, ws.column_dimensions[column].width or 9))
    ws.row_dimensions[row].height = lines_height(lines)


def _fit_row(book: Book, ws: Worksheet, row: int, columns: range | None = None) -> None:
    """Make a row as tall as its tallest wrapped text, a formula's by its value (LibreOffice and
    Excel keep a row's stored height, so wrapped text would otherwise overprint the next row)."""
    lines = 1
    for cell in ws[row]:
        if columns is not None and cell.column not in columns:
            continue
        if not (cell.alignment and cell.alignment.wrap_text) or cell.coordinate in ws.merged_cells:
            continue
        shown = book.value(ws.title, cell.coordinate)
        if not isinstance(shown, str):
            continue
        width = ws.column_dimensions[cell.column_letter].width or 9
        lines = max(lines, wrapped_lines(shown, width))
    lines += lines // 4  # CJK text drawn in a fallback font runs a little wider than two units a character
    ws.row_dimensions[row].height = lines_height(lines) if lines > 1 else None


def _validation(ws: Worksheet, cells: str, kind: str | None, title: str, prompt: str, error: str, **rule: Any) -> None:
    dv = DataValidation(
        type=kind,
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=kind is not None,
        promptTitle=title,
        prompt=prompt,
        errorTitle="输入有误 Invalid input",
        error=error,
        **rule,
    )
    for part in cells.split():
        dv.add(part)
    ws.add_data_validation(dv)


def _section(book: Book, ws: Worksheet, row: int, text: str) -> None:
    book.put(ws, f"A{row}", text, font=SECTION_FONT)
    ws.row_dimensions[row].height = 21


# --- the sheets ---------------------------------------------------------------------------------


@dataclass
class Layout:
    """Where the main sheet's blocks are (rows), for the formulas that refer across blocks."""

    first: int = 7  # projects
    payments: int = 0
    by_year: int = 0
    cash: int = 0
    whatif: int = 0  # the reform table's first row

    @property
    def last(self) -> int:
        return self.first + len(PROJECTS) - 1

    @property
    def inputs(self) -> int:  # inputs and awards
        return self.last + 4

    def input_row(self, k: int) -> int:
        return self.inputs + k

    @property
    def inputs_last(self) -> int:
        return self.inputs + len(PROJECTS) - 1


def build_lists(book: Book, ws: Worksheet) -> dict[str, str]:
    """The dropdowns' lists: clause labels with English and id, project types, input names."""
    clauses = monetary_clauses()
    book.put(ws, "A1", "下拉列表 Lists for the dropdowns (generated from the policy catalog)", font=TITLE_FONT)
    _header(book, ws, 2, ["条款 Clause (中文)", "Clause (English)", "编号 Id", "政策 Policy"])
    for k, info in enumerate(clauses, start=3):
        book.put(ws, f"A{k}", clause_label(info))
        book.put(ws, f"B{k}", info["title_en"])
        book.put(ws, f"C{k}", info["id"])
        book.put(ws, f"D{k}", info["policy"])
    last = 2 + len(clauses)
    _header(book, ws, 2, ["项目类型 Project type"], first=6)
    for k, kind in enumerate(PROJECT_KINDS, start=3):
        book.put(ws, f"F{k}", kind)
    _header(book, ws, 2, ["输入名称 Input name", "中文 Label"], first=8)
    names: dict[str, str] = {"zone": "所在区域 Zone", "on": "日期或年度 Date or year"}
    for info in clauses:
        for spec in clause_info(info["id"])["inputs"]:
            if spec["kind"] == "input":
                names.setdefault(spec["name"], spec["label_zh"])
    ordered = sorted(names)
    for k, name in enumerate(ordered, start=3):
        book.put(ws, f"H{k}", name)
        book.put(ws, f"I{k}", names[name])
    _header(book, ws, 2, ["假设参数 What-if parameter"], first=11)
    reforms = reform_names()
    for k, name in enumerate(reforms, start=3):
        book.put(ws, f"K{k}", name)
    for column, width in {
        "A": 46,
        "B": 60,
        "C": 14,
        "D": 10,
        "E": 3,
        "F": 26,
        "G": 3,
        "H": 32,
        "I": 40,
        "J": 3,
        "K": 40,
    }.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A3"
    print_setup(ws, title_rows=2, title="green-award")
    sheet = quote_sheetname(LISTS)
    return {
        "labels": f"{sheet}!$A$3:$A${last}",
        "english": f"{sheet}!$B$3:$B${last}",
        "ids": f"{sheet}!$C$3:$C${last}",
        "kinds": f"{sheet}!$F$3:$F${2 + len(PROJECT_KINDS)}",
        "names": f"{sheet}!$H$3:$H${2 + len(ordered)}",
        "reforms": f"{sheet}!$K$3:$K${2 + len(reforms)}",
    }


MODEL_WIDTHS = {"A": 28, "B": 22, "C": 15, "D": 22, "E": 15, "F": 27, "G": 26, "H": 26, "I": 15, "J": 12, "K": 16}
STAGE_WIDTH = sum(MODEL_WIDTHS[c] for c in "GHIJK")


def build_model(
    book: Book, ws: Worksheet, lists: dict[str, str], lay: Layout, best_result: dict[str, tuple[str, float]]
) -> None:
    """The main sheet: projects, inputs and awards, payments, subsidy by year with a chart, cash flow."""
    ws.title = MODEL
    for column, width in MODEL_WIDTHS.items():
        ws.column_dimensions[column].width = width
    book.put(ws, "A1", "绿色低碳奖励财务模型 Green-award finance model", font=TITLE_FONT)
    book.put(
        ws,
        "A2",
        "黄色单元格为输入；奖励由 green-award 的工作表函数计算（需 xlwings），文件中已存有写入时算得的值。"
        " Yellow cells are inputs. Awards come from green-award's worksheet functions (xlwings);"
        " the file holds the values computed when it was written.",
        font=NOTE_FONT,
        align=WRAP_TOP,
    )
    ws.merge_cells("A2:K2")
    ws.row_dimensions[2].height = lines_height(2)
    book.put(ws, "A3", "企业 Enterprise", font=BOLD)
    book.put(ws, "B3", ENTERPRISE, fill=INPUT_FILL)
    ws.merge_cells("B3:F3")
    book.put(ws, "G3", "折现率 Discount rate", font=BOLD, align=Alignment(horizontal="right"))
    book.put(ws, "H3", DISCOUNT_RATE, fmt=PERCENT, fill=INPUT_FILL)
    _validation(
        ws,
        "H3",
        "decimal",
        "折现率 Discount rate",
        "现金流折现率，如 6% / The cash flow's discount rate, e.g. 6%",
        "须为0到1之间的小数 / a fraction between 0 and 1",
        operator="between",
        formula1="0",
        formula2="1",
    )
    _validation(
        ws,
        "B3",
        "textLength",
        "企业 Enterprise",
        "企业名称（用于项目组合比选）/ The enterprise's name (for the portfolio)",
        "最多100字 / at most 100 characters",
        operator="lessThanOrEqual",
        formula1="100",
    )

    # 1. projects
    _section(book, ws, lay.first - 2, "1 项目 Projects")
    _header(
        book,
        ws,
        lay.first - 1,
        [
            "项目\nProject",
            "类型\nType",
            "投资（元）\nInvestment (yuan)",
            "开工年\nStart year",
            "完工年\nCompletion year",
            "年收益（元/年）\nAnnual benefit (yuan)",
            "条款（选择）\nClause (choose)",
            "Clause (English)",
            "条款编号\nClause id",
        ],
    )
    labels = {info["id"]: clause_label(info) for info in monetary_clauses()}
    english = {info["id"]: info["title_en"] for info in monetary_clauses()}
    for k, p in enumerate(PROJECTS):
        r = lay.first + k
        book.put(ws, f"A{r}", p.name, fill=INPUT_FILL, box=True, align=WRAP_TOP)
        book.put(ws, f"B{r}", p.kind, fill=INPUT_FILL, box=True, align=WRAP_TOP)
        book.put(ws, f"C{r}", p.investment, fmt=MONEY_FORMAT, fill=INPUT_FILL, box=True)
        book.put(ws, f"D{r}", p.start, fmt=YEAR, fill=INPUT_FILL, box=True)
        book.put(ws, f"E{r}", p.completion, fmt=YEAR, fill=INPUT_FILL, box=True)
        book.put(ws, f"F{r}", p.benefit, fmt=MONEY_FORMAT, fill=INPUT_FILL, box=True)
        book.put(ws, f"G{r}", labels[p.clause], fill=INPUT_FILL, box=True, align=WRAP_TOP)
        book.formula(
            ws,
            f"H{r}",
            f"=INDEX({lists['english']},MATCH(G{r},{lists['labels']},0))",
            english[p.clause],
            box=True,
            align=WRAP_TOP,
        )
        book.formula(
            ws,
            f"I{r}",
            f"=INDEX({lists['ids']},MATCH(G{r},{lists['labels']},0))",
            p.clause,
            box=True,
            align=Alignment(vertical="top"),
        )
        _fit_row(book, ws, r)
    first, last = lay.first, lay.last
    _validation(
        ws,
        f"A{first}:A{last}",
        "textLength",
        "项目 Project",
        "项目名称，组合内唯一 / The project's name, unique in the portfolio",
        "1到60个字 / 1 to 60 characters",
        operator="between",
        formula1="1",
        formula2="60",
    )
    _validation(
        ws,
        f"B{first}:B{last}",
        "list",
        "类型 Type",
        "从列表选择项目类型 / Choose the project's type",
        "请从列表选择 / choose from the list",
        formula1=lists["kinds"],
    )
    _validation(
        ws,
        f"C{first}:C{last}",
        "decimal",
        "投资 Investment",
        "项目总投资（元），≥0 / Total investment in yuan, 0 or more",
        "须为≥0的数字 / a number, 0 or more",
        operator="greaterThanOrEqual",
        formula1="0",
    )
    _validation(
        ws,
        f"D{first}:D{last}",
        "whole",
        "开工年 Start year",
        "开工年度，如2025；首期兑现在此年 / Start year, e.g. 2025; a first instalment falls in it",
        "须为2020–2040的年份 / a year from 2020 to 2040",
        operator="between",
        formula1="2020",
        formula2="2040",
    )
    _validation(
        ws,
        f"E{first}:E{last}",
        "custom",
        "完工年 Completion year",
        "完工年度，不早于开工年；末期或一次性兑现在此年 / Completion year, not before the start; a last or one-off payment falls in it",
        "须为不早于开工年的年份（至2040）/ a year not before the start, up to 2040",
        formula1=f"AND(ISNUMBER(E{first}),E{first}>=D{first},E{first}<=2040)",
    )
    _validation(
        ws,
        f"F{first}:F{last}",
        "decimal",
        "年收益 Annual benefit",
        "完工后每年的节省或收益（元），用于现金流 / Yearly saving or revenue after completion, for the cash flow",
        "须为≥0的数字 / a number, 0 or more",
        operator="greaterThanOrEqual",
        formula1="0",
    )
    _validation(
        ws,
        f"G{first}:G{last}",
        "list",
        "条款 Clause",
        "从下拉列表选择条款（中文）；右侧显示英文和编号 / Choose the clause; English and id beside",
        "请从下拉列表选择 / choose from the list",
        formula1=lists["labels"],
    )

    # 2. inputs and awards
    start = lay.inputs
    _section(book, ws, start - 2, "2 条款输入与奖励 Clause inputs and awards")
    head = ["项目\nProject"]
    for n in range(1, PAIRS + 1):
        head += [f"输入{n}名称\nInput {n} name", f"输入{n}取值\nInput {n} value"]
    head += [
        "奖励（元）GREEN_AWARD\nAward (yuan)",
        "净投资（元）\nNet investment (yuan)",
        "建议条款\nBest clause",
        "组合核定（元）\nGranted in portfolio",
    ]
    _header(book, ws, start - 1, head)
    best_last = BEST_FIRST + len(best_rows()) - 1
    best = quote_sheetname(BEST)
    granted_column, key_column = BEST_GRANTED, BEST_KEY
    for k, p in enumerate(PROJECTS):
        r, pr = start + k, lay.first + k
        book.formula(ws, f"A{r}", f"=A{pr}", p.name, box=True, align=WRAP_TOP)
        for n in range(PAIRS):
            name_ref, value_ref = f"{get_column_letter(2 + 2 * n)}{r}", f"{get_column_letter(3 + 2 * n)}{r}"
            if n < len(p.inputs):
                name, value = p.inputs[n]
                book.put(ws, name_ref, name, fill=INPUT_FILL, box=True)
                if value is INVESTMENT:
                    book.formula(ws, value_ref, f"=C{pr}", p.investment, fmt=MONEY_FORMAT, box=True)
                else:
                    book.put(
                        ws,
                        value_ref,
                        value,
                        fill=INPUT_FILL,
                        box=True,
                        fmt="#,##0.####" if isinstance(value, (int, float)) else None,
                    )
            else:
                book.put(ws, name_ref, None, fill=INPUT_FILL, box=True)
                book.put(ws, value_ref, None, fill=INPUT_FILL, box=True)
        pairs = ",".join(f"{get_column_letter(c)}{r}" for c in range(2, 2 + 2 * PAIRS))
        award = book.custom(ws, f"H{r}", f"=GREEN_AWARD($I{pr},{pairs})", fmt=MONEY_FORMAT, box=True, font=BOLD)
        book.formula(ws, f"I{r}", f"=C{pr}-H{r}", p.investment - award, fmt=MONEY_FORMAT, box=True)
        suggestion, granted = best_result[p.name]
        book.formula(
            ws,
            f"J{r}",
            f'=IFERROR(INDEX({best}!${BEST_CLAUSE}${BEST_FIRST}:${BEST_CLAUSE}${best_last},MATCH(A{r}&"|best",'
            f'{best}!${key_column}${BEST_FIRST}:${key_column}${best_last},0)),"—")',
            suggestion,
            box=True,
        )
        book.formula(
            ws,
            f"K{r}",
            f"=SUMIFS({best}!${granted_column}${BEST_FIRST}:${granted_column}${best_last},"
            f"{best}!${BEST_PROJECT}${BEST_FIRST}:${BEST_PROJECT}${best_last},A{r})",
            granted,
            fmt=MONEY_FORMAT,
            box=True,
        )
        _fit_row(book, ws, r, range(1, 2))
    names_range = " ".join(
        f"{get_column_letter(2 + 2 * n)}{start}:{get_column_letter(2 + 2 * n)}{lay.inputs_last}" for n in range(PAIRS)
    )
    _validation(
        ws,
        names_range,
        "list",
        "输入名称 Input name",
        "条款的输入名称，见“输入 Inputs”表（AWARD_INPUTS）/ The clause's input name: see the Inputs sheet (AWARD_INPUTS)",
        "请从列表选择输入名称 / choose an input name from the list",
        formula1=lists["names"],
    )
    values_range = " ".join(
        f"{get_column_letter(3 + 2 * n)}{start}:{get_column_letter(3 + 2 * n)}{lay.inputs_last}" for n in range(PAIRS)
    )
    _validation(
        ws,
        values_range,
        None,
        "输入取值 Input value",
        "数字、是/否、或可选值（中文或英文）；=C列引用投资 / A number, 是/否, or a choice (中文 or English)",
        "",
    )

    # totals that refuse to add up while any award is not a number
    total = lay.inputs_last + 1
    awards = f"H{start}:H{lay.inputs_last}"
    amounts = [book.cached[MODEL][f"H{start + k}"] for k in range(len(PROJECTS))]
    book.put(ws, f"A{total}", "合计 Total（任一奖励非数字则为 #N/A）", font=BOLD, box=True)
    book.formula(
        ws,
        f"H{total}",
        f"=IF(COUNT({awards})=ROWS({awards}),SUM({awards}),NA())",
        sum(amounts),
        fmt=MONEY_FORMAT,
        font=BOLD,
        box=True,
    )
    nets = f"I{start}:I{lay.inputs_last}"
    book.formula(
        ws,
        f"I{total}",
        f"=IF(COUNT({nets})=ROWS({nets}),SUM({nets}),NA())",
        sum(p.investment for p in PROJECTS) - sum(amounts),
        fmt=MONEY_FORMAT,
        font=BOLD,
        box=True,
    )
    grants = f"K{start}:K{lay.inputs_last}"
    book.formula(
        ws,
        f"K{total}",
        f"=IF(ISNUMBER({best}!${granted_column}${best_last + 1}),SUM({grants}),NA())",
        round(sum(g for _, g in best_result.values()), 2),
        fmt=MONEY_FORMAT,
        font=BOLD,
        box=True,
    )
    bad = f"(SUMPRODUCT(--ISERROR({awards}))+SUMPRODUCT(--ISTEXT({awards})))"
    book.formula(
        ws,
        f"A{total + 1}",
        f'=IF({bad}=0,"OK 奖励全部为数字 every award is a number",'
        f'"⚠ "&{bad}&" 个奖励为错误或文字 awards are errors or text")',
        "OK 奖励全部为数字 every award is a number",
        font=BOLD,
    )
    book.put(
        ws,
        f"D{total + 1}",
        "经典 xlwings 把报错写成文字，SUM 会跳过它；故合计用 COUNT=ROWS 把关。"
        " Classic xlwings shows an error as text, which SUM skips: hence COUNT = ROWS.",
        font=NOTE_FONT,
        align=WRAP_TOP,
    )
    ws.merge_cells(f"D{total + 1}:K{total + 1}")
    ws.row_dimensions[total + 1].height = lines_height(2)
    ok = f"COUNT($H${start}:$H${lay.inputs_last})=ROWS($H${start}:$H${lay.inputs_last})"

    # 3. payment schedule: AWARD_PAYMENTS per project, the year of each stage beside it
    stages = max_stages()
    lay.payments = total + 4
    top = lay.payments
    _section(book, ws, top - 2, "3 兑现安排 Payment schedule (AWARD_PAYMENTS)")
    _header(
        book,
        ws,
        top - 1,
        [
            "项目\nProject",
            "政策\nPolicy",
            "兑现年度\nPayment year",
            "比例\nShare",
            "金额（元）\nAmount (yuan)",
            "状态\nStatus",
            "阶段（以上各列为 AWARD_PAYMENTS）\nStage (these columns are AWARD_PAYMENTS)",
        ],
    )
    ws.merge_cells(f"G{top - 1}:K{top - 1}")
    pay_rows: list[tuple[str, int | str, float]] = []
    for k, p in enumerate(PROJECTS):
        r0, pr, ir = top + k * stages, lay.first + k, lay.inputs + k
        pairs = ",".join(f"${get_column_letter(c)}${ir}" for c in range(2, 2 + 2 * PAIRS))
        shown = book.table(
            ws,
            f"G{r0}",
            f"AWARD_PAYMENTS($I${pr},{pairs})",
            stages,
            4,
            at=["G", "D", "E", "F"],
            fmts={1: "0%", 2: MONEY_FORMAT},
            box=True,
            align=WRAP_TOP,
        )
        policy = p.clause.split(":")[0]
        for i in range(stages):
            r = r0 + i
            if i == 0:
                book.formula(ws, f"A{r}", f"=$A${pr}", p.name, box=True, align=WRAP_TOP)
            else:
                book.put(ws, f"A{r}", None, box=True)
            book.formula(ws, f"B{r}", f'=LEFT($I${pr},FIND(":",$I${pr})-1)', policy, box=True, align=TOP)
            amount = shown[i][2]
            is_number = isinstance(amount, (int, float)) and not isinstance(amount, bool)
            later = shown[i + 1][2] if i + 1 < stages else None
            later_number = isinstance(later, (int, float)) and not isinstance(later, bool)
            if i + 1 < stages:
                year_formula = f'=IF(ISNUMBER(E{r}),IF(ISNUMBER(E{r + 1}),$D${pr},$E${pr}),"")'
                year = (p.start if later_number else p.completion) if is_number else ""
            else:
                year_formula = f'=IF(ISNUMBER(E{r}),$E${pr},"")'
                year = p.completion if is_number else ""
            book.formula(ws, f"C{r}", year_formula, year, fmt=YEAR, box=True, align=TOP)
            pay_rows.append((policy, year, amount if is_number else 0.0))
            ws.merge_cells(f"G{r}:K{r}")  # the stage's words, wide
            stage = shown[i][0] if isinstance(shown[i][0], str) else ""
            lines = max(wrapped_lines(stage, STAGE_WIDTH), wrapped_lines(p.name, MODEL_WIDTHS["A"]) if i == 0 else 1)
            ws.row_dimensions[r].height = lines_height(lines) if lines > 1 else None
        ws.merge_cells(f"A{r0}:A{r0 + stages - 1}")
    pay_last = top + len(PROJECTS) * stages - 1
    pay = {c: f"${c}${top}:${c}${pay_last}" for c in "BCE"}  # policy, year, amount

    # 4. subsidy by year and policy, and its chart
    lay.by_year = pay_last + 4
    yt = lay.by_year
    first_year = min(p.start for p in PROJECTS)
    _section(book, ws, yt - 2, "4 分年度补贴 Subsidy by year and policy（#N/A：有奖励非数字 an award is not a number）")
    _header(
        book,
        ws,
        yt - 1,
        ["兑现年度\nPayment year"]
        + [f"{POLICY_NAMES[p].split()[0]}\n{POLICY_NAMES[p].split()[1]}" for p in POLICY_NAMES]
        + ["合计\nTotal"],
    )
    for k in range(CHART_YEARS):
        r = yt + k
        year = first_year + k
        if k == 0:
            book.put(ws, f"A{r}", year, fmt=YEAR, fill=INPUT_FILL, box=True)
            _validation(
                ws,
                f"A{r}",
                "whole",
                "首个年度 First year",
                "本表与现金流的首个年度，如2025 / The first year of this table and of the cash flow, e.g. 2025",
                "须为2020–2040的年份 / a year from 2020 to 2040",
                operator="between",
                formula1="2020",
                formula2="2040",
            )
        else:
            book.formula(ws, f"A{r}", f"=A{r - 1}+1", year, fmt=YEAR, box=True)
        for j, policy in enumerate(POLICY_NAMES):
            column = get_column_letter(2 + j)
            value = sum(a for pol, y, a in pay_rows if pol == policy and y == year)
            book.formula(
                ws,
                f"{column}{r}",
                f'=IF({ok},SUMIFS({pay["E"]},{pay["C"]},$A{r},{pay["B"]},"{policy}"),NA())',
                round(value, 2),
                fmt=MONEY_FORMAT,
                box=True,
            )
        book.formula(
            ws,
            f"E{r}",
            f"=SUM(B{r}:D{r})",
            round(sum(a for _, y, a in pay_rows if y == year), 2),
            fmt=MONEY_FORMAT,
            box=True,
            font=BOLD,
        )
    yl = yt + CHART_YEARS - 1
    book.put(ws, f"A{yl + 1}", "合计 Total", font=BOLD, box=True)
    for column in "BCDE":
        value = sum(book.cached[MODEL][f"{column}{r}"] for r in range(yt, yl + 1))
        book.formula(
            ws,
            f"{column}{yl + 1}",
            f"=SUM({column}{yt}:{column}{yl})",
            round(value, 2),
            fmt=MONEY_FORMAT,
            box=True,
            font=BOLD,
        )
    in_table = round(sum(book.cached[MODEL][f"E{r}"] for r in range(yt, yl + 1)), 2)
    book.formula(
        ws,
        f"A{yl + 2}",
        f'=IF(ABS(E{yl + 1}-H{total})<0.005,"OK 各年合计等于奖励合计 the years add up to the total award",'
        f'"⚠ 有兑现年度不在表内 some payments fall outside these years")',
        "OK 各年合计等于奖励合计 the years add up to the total award"
        if abs(in_table - sum(amounts)) < 0.005
        else "⚠ 有兑现年度不在表内 some payments fall outside these years",
        font=NOTE_FONT,
    )
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.y_axis.title = "元 yuan"
    chart.y_axis.numFmt = "#,##0"
    chart.x_axis.title = "兑现年度 Payment year"
    chart.add_data(Reference(ws, min_col=2, max_col=4, min_row=yt - 1, max_row=yl), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=yt, max_row=yl))
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.height, chart.width = 9, 17
    chart.legend.position = "b"
    ws.add_chart(chart, f"G{yt - 1}")

    # 5. cash flow with and without the subsidy
    lay.cash = max(yl + 5, yt + 20)
    ct = lay.cash
    _section(
        book,
        ws,
        ct - 2,
        f"5 现金流 Cash flow, {YEARS} 年 years（投资在开工年，收益自完工次年起 investment in the start year, benefits from the year after completion）",
    )
    _header(
        book,
        ws,
        ct - 1,
        [
            "年度\nYear",
            "投资（元）\nInvestment",
            "收益（元）\nBenefits",
            "补贴（元）\nSubsidy",
            "净现金流 不含补贴\nNet, without subsidy",
            "净现金流 含补贴\nNet, with subsidy",
            "累计 不含补贴\nCumulative, without",
            "累计 含补贴\nCumulative, with",
            "回收（辅助）\nPayback (helper)",
            "回收 含补贴（辅助）\nPayback with (helper)",
        ],
    )
    starts, ends, investments, benefits = (
        f"$D${first}:$D${last}",
        f"$E${first}:$E${last}",
        f"$C${first}:$C${last}",
        f"$F${first}:$F${last}",
    )
    flows: dict[str, list[float]] = {"E": [], "F": []}
    cumulative = {"G": 0.0, "H": 0.0}
    paybacks: dict[str, list[float]] = {"I": [], "J": []}
    for k in range(YEARS):
        r = ct + k
        year = first_year + k
        if k == 0:
            book.formula(ws, f"A{r}", f"=A{yt}", year, fmt=YEAR, box=True)
        else:
            book.formula(ws, f"A{r}", f"=A{r - 1}+1", year, fmt=YEAR, box=True)
        invest = -sum(p.investment for p in PROJECTS if p.start == year)
        benefit = sum(p.benefit for p in PROJECTS if p.completion < year)
        subsidy = round(sum(a for _, y, a in pay_rows if y == year), 2)
        book.formula(ws, f"B{r}", f"=-SUMIF({starts},A{r},{investments})", invest, fmt=MONEY_FORMAT, box=True)
        book.formula(ws, f"C{r}", f'=SUMIF({ends},"<"&A{r},{benefits})', benefit, fmt=MONEY_FORMAT, box=True)
        book.formula(
            ws, f"D{r}", f"=IF({ok},SUMIFS({pay['E']},{pay['C']},A{r}),NA())", subsidy, fmt=MONEY_FORMAT, box=True
        )
        without, with_ = invest + benefit, round(invest + benefit + subsidy, 2)
        book.formula(ws, f"E{r}", f"=B{r}+C{r}", without, fmt=MONEY_FORMAT, box=True)
        book.formula(ws, f"F{r}", f"=E{r}+D{r}", with_, fmt=MONEY_FORMAT, box=True)
        flows["E"].append(without)
        flows["F"].append(with_)
        for cum, flow, helper in (("G", "E", "I"), ("H", "F", "J")):
            previous = cumulative[cum]
            cumulative[cum] = round(previous + flows[flow][-1], 2)
            book.formula(
                ws,
                f"{cum}{r}",
                f"={flow}{r}" if k == 0 else f"={cum}{r - 1}+{flow}{r}",
                cumulative[cum],
                fmt=MONEY_FORMAT,
                box=True,
            )
            if k == 0:
                book.put(ws, f"{helper}{r}", None, box=True)
                continue
            crossed = previous < 0 <= cumulative[cum]
            crossing = (year - first_year - 1) + (-previous) / flows[flow][-1] if crossed else None
            if crossing is not None:
                paybacks[helper].append(crossing)
            book.formula(
                ws,
                f"{helper}{r}",
                f'=IF(AND({cum}{r - 1}<0,{cum}{r}>=0),A{r}-$A${ct}-1+(-{cum}{r - 1})/{flow}{r},"")',
                "" if crossing is None else crossing,
                fmt="0.00",
                box=True,
            )
    cl = ct + YEARS - 1
    rate = "$H$3"
    for label, row in (
        ("净现值 NPV（首年不折现 the first year undiscounted）", cl + 1),
        ("内部收益率 IRR", cl + 2),
        ("静态回收期（年）Payback (years from the start of the first year)", cl + 3),
    ):
        book.put(ws, f"A{row}", label, font=BOLD, box=True, align=WRAP_TOP)
        ws.merge_cells(f"A{row}:D{row}")
    for column, helper in (("E", "I"), ("F", "J")):
        values = flows[column]
        npv = values[0] + sum(v / (1 + DISCOUNT_RATE) ** t for t, v in enumerate(values[1:], start=1))
        book.formula(
            ws,
            f"{column}{cl + 1}",
            f"={column}{ct}+NPV({rate},{column}{ct + 1}:{column}{cl})",
            round(npv, 6),
            fmt=MONEY_FORMAT,
            box=True,
            font=BOLD,
        )
        book.formula(
            ws, f"{column}{cl + 2}", f"=IRR({column}{ct}:{column}{cl})", irr(values), fmt=PERCENT, box=True, font=BOLD
        )
        cum = "G" if column == "E" else "H"
        found = paybacks[helper]
        if found:
            payback: Any = min(found)
        elif values[0] >= 0:
            payback = 0
        else:
            payback = f"未回收 not within {YEARS} years"
        book.formula(
            ws,
            f"{column}{cl + 3}",
            f'=IF(COUNT({helper}{ct}:{helper}{cl})>0,MIN({helper}{ct}:{helper}{cl}),IF({cum}{ct}>=0,0,"未回收 not within {YEARS} years"))',
            payback,
            fmt="0.00",
            box=True,
            font=BOLD,
        )
    for row in (cl + 1, cl + 2, cl + 3):
        ws.row_dimensions[row].height = lines_height(1)

    # 6. what-if: the awards under a reform
    whatif_last = build_whatif(book, ws, lists, lay, cl + 6)

    # names, print set-up
    names = {
        "GA_Awards": f"{quote_sheetname(MODEL)}!$H${start}:$H${lay.inputs_last}",
        "GA_Total": f"{quote_sheetname(MODEL)}!$H${total}",
        "GA_TotalCheck": f"{quote_sheetname(MODEL)}!$A${total + 1}",
        "GA_ByYear": f"{quote_sheetname(MODEL)}!$A${yt - 1}:$E${yl}",
        "GA_CashFlow": f"{quote_sheetname(MODEL)}!$A${ct - 1}:$H${cl}",
        "GA_DiscountRate": f"{quote_sheetname(MODEL)}!$H$3",
        "GA_Reform": f"{quote_sheetname(MODEL)}!$A${lay.whatif}:$C${lay.whatif + REFORM_ROWS - 1}",
        "GA_WhatIfTotal": f"{quote_sheetname(MODEL)}!$E${whatif_last}",
    }
    for name, ref in names.items():
        ws.parent.defined_names[name] = DefinedName(name, attr_text=ref)
    ws.freeze_panes = "B4"
    print_setup(ws, title_rows=None, title="green-award", grid=False)
    ws.print_area = f"A1:K{whatif_last + 1}"
    for row in (lay.payments - 3, lay.by_year - 3, cl + 3):
        ws.row_breaks.append(Break(id=row))


#: The sample what-if: E-Town raises distributed PV to 1,000 元/kW for claims from 2027 (issue 10's
#: example); the other rows of the reform table are left empty for the user.
REFORM = [("etown:27.per_kw", 1000, datetime(2027, 1, 1))]
REFORM_ROWS = 4
DATE = "yyyy-mm-dd"


def build_whatif(book: Book, ws: Worksheet, lists: dict[str, str], lay: Layout, top: int) -> int:
    """A reform table (parameter | value | from) and, per project, the award as the policy stands
    (GREEN_AWARD) and under the reform (AWARD_WHATIF), both on the claim day, with the difference
    and guarded totals. The claim year is the completion year (a year means its 31 December, as
    everywhere), so a reform from 2027 changes a project completed in 2027 and not one of 2025.
    Returns the totals' row."""
    lay.whatif = top
    rl = top + REFORM_ROWS - 1
    _section(book, ws, top - 2, "6 假设情景 What-if: the awards under a reform (AWARD_WHATIF)")
    _header(
        book,
        ws,
        top - 1,
        ["参数 Parameter\n<条款>.<参数>", "取值 Value", "起始日期 From\n（空=每天 empty: every day）"],
    )
    for i in range(REFORM_ROWS):
        r = top + i
        name, value, since = REFORM[i] if i < len(REFORM) else (None, None, None)
        book.put(ws, f"A{r}", name, fill=INPUT_FILL, box=True)
        book.put(ws, f"B{r}", value, fmt="#,##0.####", fill=INPUT_FILL, box=True)
        book.put(ws, f"C{r}", since, fmt=DATE, fill=INPUT_FILL, box=True)
    _validation(
        ws,
        f"A{top}:A{rl}",
        "list",
        "假设参数 What-if parameter",
        "从列表选择 <条款>.<参数>，如 etown:27.per_kw（参数见 green-award clauses）/ Choose <clause>.<parameter>, e.g. etown:27.per_kw",
        "请从列表选择参数 / choose a parameter from the list",
        formula1=lists["reforms"],
    )
    _validation(
        ws,
        f"B{top}:B{rl}",
        "decimal",
        "取值 Value",
        "参数的新取值，≥0，单位同政策（如 元/千瓦）/ The parameter's new value, 0 or more, in the policy's unit (e.g. yuan per kW)",
        "须为≥0的数字 / a number, 0 or more",
        operator="greaterThanOrEqual",
        formula1="0",
    )
    _validation(
        ws,
        f"C{top}:C{rl}",
        "date",
        "起始日期 From",
        "新取值自此日起适用，此前仍为政策原值；留空则每天适用 / The value applies from this day, the policy's own before it; empty: every day",
        "须为2020-01-01至2040-12-31的日期 / a date from 2020-01-01 to 2040-12-31",
        operator="between",
        formula1="DATE(2020,1,1)",
        formula2="DATE(2040,12,31)",
    )
    book.put(
        ws,
        f"D{top}",
        "示例：经开区分布式光伏奖励由 800 元/千瓦提高到 1,000 元/千瓦，自2027年1月1日起。每行一个参数；空行不计。"
        "下表按申报年度（=完工年，即该年12月31日）计算现行政策与假设情景下的奖励。"
        " The example: E-Town raises distributed PV from 800 to 1,000 yuan/kW from 1 January 2027. One"
        " parameter per row; empty rows count for nothing. Below, each project's award as the policy stands"
        " and under the what-if, on its claim day (the completion year's 31 December).",
        font=NOTE_FONT,
        align=WRAP_TOP,
    )
    ws.merge_cells(f"D{top}:K{rl}")

    first = rl + 3
    _header(
        book,
        ws,
        first - 1,
        [
            "项目\nProject",
            "条款编号\nClause id",
            "申报年度\nClaim year",
            "现行政策（元）\nPolicy as it stands\nGREEN_AWARD",
            "假设情景（元）\nWhat-if (yuan)\nAWARD_WHATIF",
            "差额（元）\nDifference (yuan)\n= 假设 What-if − 现行 Policy",
        ],
    )
    reform = f"$A${top}:$C${rl}"
    for k, p in enumerate(PROJECTS):
        r, pr, ir = first + k, lay.first + k, lay.inputs + k
        book.formula(ws, f"A{r}", f"=$A${pr}", p.name, box=True, align=WRAP_TOP)
        book.formula(ws, f"B{r}", f"=$I${pr}", p.clause, box=True)
        book.formula(ws, f"C{r}", f"=$E${pr}", p.completion, fmt=YEAR, box=True)
        pairs = ",".join(f"${get_column_letter(c)}${ir}" for c in range(2, 2 + 2 * PAIRS))
        baseline = book.custom(ws, f"D{r}", f'=GREEN_AWARD($I${pr},{pairs},"on",C{r})', fmt=MONEY_FORMAT, box=True)
        whatif = book.custom(
            ws, f"E{r}", f'=AWARD_WHATIF({reform},$I${pr},{pairs},"on",C{r})', fmt=MONEY_FORMAT, box=True, font=BOLD
        )
        book.formula(ws, f"F{r}", f"=E{r}-D{r}", round(whatif - baseline, 2), fmt=MONEY_FORMAT, box=True)
        _fit_row(book, ws, r, range(1, 2))
    last = first + len(PROJECTS) - 1
    total = last + 1
    book.put(ws, f"A{total}", "合计 Total（任一金额非数字则为 #N/A）", font=BOLD, box=True)
    ws.merge_cells(f"A{total}:C{total}")
    for column in "DEF":
        cells = f"{column}{first}:{column}{last}"
        value = round(sum(book.cached[MODEL][f"{column}{r}"] for r in range(first, last + 1)), 2)
        book.formula(
            ws,
            f"{column}{total}",
            f"=IF(COUNT({cells})=ROWS({cells}),SUM({cells}),NA())",
            value,
            fmt=MONEY_FORMAT,
            font=BOLD,
            box=True,
        )
    return total


def max_stages() -> int:
    from policies.stacking import stage_count

    return stage_count()


def irr(flows: list[float]) -> float | str:
    """The rate at which the flows' present value is 0 (bisection; Excel's IRR finds the same root
    for flows that change sign once), or #NUM! as Excel gives when there is none."""

    def npv(rate: float) -> float:
        return sum(v / (1 + rate) ** t for t, v in enumerate(flows))

    low, high = -0.99, 10.0
    if npv(low) * npv(high) > 0:
        return "#NUM!"
    for _ in range(200):
        middle = (low + high) / 2
        if npv(low) * npv(middle) <= 0:
            high = middle
        else:
            low = middle
    return round((low + high) / 2, 12)


# --- 比选: each project's best clause through PORTFOLIO_AWARDS --------------------------------------

BEST_FIRST = 6  # the first claim row (row 5: the table's header of input names)


def best_rows() -> list[tuple[int, str | None]]:
    """(project index, alternative clause or None for the project's own clause) per claim row."""
    out: list[tuple[int, str | None]] = []
    for k, p in enumerate(PROJECTS):
        out.append((k, None))
        out += [(k, alternative) for alternative in p.alternatives]
    return out


def best_columns() -> list[str]:
    names: list[str] = ["zone"]
    for p in PROJECTS:
        for name, _ in p.inputs:
            if name not in names:
                names.append(name)
    return names


#: 比选's columns: the readable result on the left (printed), the claims table it reads on the right.
BEST_PROJECT, BEST_CLAUSE, BEST_GRANTED, BEST_KEY = "A", "B", "E", "H"
BEST_TABLE = 10  # column J: the claims table PORTFOLIO_AWARDS reads


def build_best(book: Book, ws: Worksheet, lay: Layout) -> dict[str, tuple[str, float]]:
    """Each project's clause and the alternatives to compare, through PORTFOLIO_AWARDS. Returns each
    project's best clause (its first row granted a positive amount) and its granted total."""
    model = quote_sheetname(MODEL)
    widths = {"A": 28, "B": 12, "C": 9, "D": 15, "E": 15, "F": 12, "G": 72, "H": 30, "I": 3}
    inputs = best_columns()
    header = ["enterprise", "project", "clause", "year", *inputs]
    claim_fields = fields()
    labels = [claim_fields[n].column.zh for n in header[:4]] + [input_label(name) for name in inputs]
    for k, name in enumerate(header):
        widths[get_column_letter(BEST_TABLE + k)] = 28 if k in (0, 1) else max(12, min(18, text_width(name) + 2))
    for column, size in widths.items():
        ws.column_dimensions[column].width = size
    book.put(ws, "A1", "比选：每个项目的最优条款 Best clause per project (PORTFOLIO_AWARDS)", font=TITLE_FONT)
    book.put(
        ws,
        "A2",
        "每个项目一行所选条款（来自“组合 Portfolio”表）并列出可比条款（黄色，可改）；PORTFOLIO_AWARDS 按政策规则"
        "（同一项目同一政策从优、区级政策择一、年度上限）给出核定金额。它读取右侧 J 列起的申报表，其输入取自组合表的名称/值。"
        " One row per project's chosen clause and rows for alternatives (yellow, editable); PORTFOLIO_AWARDS applies"
        " the policies' rules (best of per project and policy, one district policy, annual caps) to the claims table"
        " from column J, whose inputs come from the Portfolio sheet's name/value pairs.",
        font=NOTE_FONT,
        align=WRAP_TOP,
    )
    ws.merge_cells("A2:H2")
    ws.row_dimensions[2].height = lines_height(wrapped_lines(ws["A2"].value, sum(widths[c] for c in "ABCDEFGH")))
    # the claims table: its header row (row 5) holds the names PORTFOLIO_AWARDS reads, 中文 above them
    for k, (name, label) in enumerate(zip(header, labels)):
        column = get_column_letter(BEST_TABLE + k)
        book.put(ws, f"{column}4", label, font=HEADER_FONT, fill=HEADER_FILL, align=HEADER_ALIGN, box=True)
        book.put(ws, f"{column}5", name, font=HEADER_FONT, fill=HEADER_FILL, align=HEADER_ALIGN, box=True)
    rows = best_rows()
    last = BEST_FIRST + len(rows) - 1
    enterprise_c, project_c, clause_c, year_c = (get_column_letter(BEST_TABLE + k) for k in range(4))
    for i, (k, alternative) in enumerate(rows):
        r, p = BEST_FIRST + i, PROJECTS[k]
        pr, ir = lay.first + k, lay.inputs + k
        book.formula(ws, f"{enterprise_c}{r}", f"={model}!$B$3", ENTERPRISE, box=True, align=WRAP_TOP)
        book.formula(ws, f"{project_c}{r}", f"={model}!$A${pr}", p.name, box=True, align=WRAP_TOP)
        if alternative is None:
            book.formula(ws, f"{clause_c}{r}", f"={model}!$I${pr}", p.clause, box=True)
        else:
            book.put(ws, f"{clause_c}{r}", alternative, fill=INPUT_FILL, box=True)
        book.formula(ws, f"{year_c}{r}", f"={model}!$D${pr}", p.start, fmt=YEAR, box=True)
        given = dict(p.inputs)
        for j, name in enumerate(inputs):
            column = get_column_letter(BEST_TABLE + 4 + j)
            pick = '""'
            for n in reversed(range(PAIRS)):
                name_ref = f"{model}!${get_column_letter(2 + 2 * n)}${ir}"
                value_ref = f"{model}!${get_column_letter(3 + 2 * n)}${ir}"
                pick = f"IF({name_ref}={column}$5,{value_ref},{pick})"
            value = given.get(name, "")
            if value is INVESTMENT:
                value = p.investment
            book.formula(
                ws,
                f"{column}{r}",
                f"={pick}",
                value,
                box=True,
                fmt="#,##0.####" if isinstance(value, (int, float)) else None,
            )
    table = f"{enterprise_c}5:{get_column_letter(BEST_TABLE + len(header) - 1)}{last}"

    # the result, readable: project, clause, then PORTFOLIO_AWARDS' policy, amount, granted, status, note
    heads = [
        ("项目", "Project"),
        ("条款", "Clause"),
        ("政策", "Policy"),
        ("条款金额（元）", "Clause amount"),
        ("核定金额（元）", "Granted"),
        ("状态", "Status"),
        ("说明 PORTFOLIO_AWARDS", "Note"),
        ("查找键（辅助）", "Key (helper)"),
    ]
    _header(book, ws, 5, [f"{zh}\n{en}" for zh, en in heads])
    for i, (k, alternative) in enumerate(rows):
        r = BEST_FIRST + i
        book.formula(ws, f"A{r}", f"={project_c}{r}", PROJECTS[k].name, box=True, align=WRAP_TOP)
        book.formula(ws, f"B{r}", f"={clause_c}{r}", alternative or PROJECTS[k].clause, box=True)
    shown = book.table(
        ws,
        f"C{BEST_FIRST}",
        f"PORTFOLIO_AWARDS({table})",
        len(rows),
        5,
        required=len(rows),
        fmts={1: MONEY_FORMAT, 2: MONEY_FORMAT},
        box=True,
        align=WRAP_TOP,
    )
    result: dict[str, tuple[str, float]] = {}
    for i, (k, alternative) in enumerate(rows):
        r = BEST_FIRST + i
        granted = shown[i][2]
        is_best = isinstance(granted, (int, float)) and not isinstance(granted, bool) and granted > 0
        name = PROJECTS[k].name
        book.formula(
            ws,
            f"{BEST_KEY}{r}",
            f'=A{r}&"|"&IF(AND(ISNUMBER(E{r}),E{r}>0),"best","")',
            f"{name}|{'best' if is_best else ''}",
            box=True,
        )
        clause = alternative or PROJECTS[k].clause
        before = result.get(name, ("—", 0.0))
        best = before[0] if before[0] != "—" or not is_best else clause
        result[name] = (best, round(before[1] + (granted if isinstance(granted, (int, float)) else 0.0), 2))
        _fit_row(book, ws, r, range(1, 9))
    book.put(ws, f"A{last + 1}", "核定合计 Granted total（任一行无效则为 #N/A）", font=BOLD, box=True)
    ws.merge_cells(f"A{last + 1}:D{last + 1}")
    grants = f"E{BEST_FIRST}:E{last}"
    book.formula(
        ws,
        f"E{last + 1}",
        f"=IF(COUNT({grants})=ROWS({grants}),SUM({grants}),NA())",
        round(sum(g for _, g in result.values()), 2),
        fmt=MONEY_FORMAT,
        font=BOLD,
        box=True,
    )
    ws.freeze_panes = f"B{BEST_FIRST}"
    print_setup(ws, title_rows=5, title="green-award", grid=False)
    ws.print_area = f"A1:G{last + 1}"
    return result


def input_label(name: str) -> str:
    """An input's Chinese label (the first clause's that has it)."""
    for info in monetary_clauses():
        for spec in clause_info(info["id"])["inputs"]:
            if spec["name"] == name:
                label: str = spec["label_zh"]
                return label
    claim_field = fields().get(name)
    return claim_field.label.zh if claim_field is not None else name


def build_explain(book: Book, ws: Worksheet, lay: Layout) -> None:
    """AWARD_EXPLAIN of every project: the computation step by step, citing the article."""
    model = quote_sheetname(MODEL)
    book.put(ws, "A1", "计算过程 How each award is computed (AWARD_EXPLAIN)", font=TITLE_FONT)
    book.put(
        ws,
        "A2",
        "每行为 =INDEX(AWARD_EXPLAIN(…),行,1)；多余行留空。 Each line is =INDEX(AWARD_EXPLAIN(…), line, 1); lines past the result stay empty.",
        font=NOTE_FONT,
    )
    ws.column_dimensions["A"].width = 100
    row = 4
    spare = 3
    for k, p in enumerate(PROJECTS):
        pr, ir = lay.first + k, lay.inputs + k
        book.formula(
            ws, f"A{row}", f'={model}!$A${pr}&"  ("&{model}!$I${pr}&")"', f"{p.name}  ({p.clause})", font=SECTION_FONT
        )
        pairs = ",".join(f"{model}!${get_column_letter(c)}${ir}" for c in range(2, 2 + 2 * PAIRS))
        call = f"AWARD_EXPLAIN({model}!$I${pr},{pairs})"
        needed = len(evaluate_formula(f"={call}", lambda sheet, r: book.value(sheet or ws.title, r), book.memo))
        book.table(ws, f"A{row + 1}", call, needed + spare, 1, first=1, align=WRAP_TOP)
        for r in range(row + 1, row + 1 + needed + spare):
            _fit_row(book, ws, r)
        row += needed + spare + 2
    print_setup(ws, title_rows=None, title="green-award", grid=False)


def build_clauses(book: Book, ws: Worksheet) -> None:
    rows = udfs.AWARD_CLAUSES()
    book.put(
        ws,
        "A1",
        "条款目录 The catalog: =AWARD_CLAUSES() as it was when this file was written (typed into a cell, it spills live)",
        font=BOLD,
    )
    for i, line in enumerate(rows):
        for j, value in enumerate(line):
            ref = f"{get_column_letter(1 + j)}{2 + i}"
            if i == 0:
                book.put(ws, ref, value, font=HEADER_FONT, fill=HEADER_FILL, align=HEADER_ALIGN, box=True)
            else:
                book.put(
                    ws,
                    ref,
                    "是 yes" if value is True else "否 no" if value is False else value,
                    fmt=MONEY_FORMAT if j == 5 else None,
                    align=WRAP_TOP,
                    box=True,
                )
    for column, width in {"A": 13, "B": 12, "C": 34, "D": 44, "E": 44, "F": 16, "G": 10}.items():
        ws.column_dimensions[column].width = width
    for r in range(3, 2 + len(rows)):
        _fit_row(book, ws, r)
    ws.freeze_panes = "A3"
    print_setup(ws, title_rows=2, title="green-award", grid=False)


def build_inputs(book: Book, ws: Worksheet) -> None:
    """A clause's inputs, live: type a clause id, AWARD_INPUTS lists the names the clause takes."""
    book.put(ws, "A1", "条款输入 Inputs of a clause (AWARD_INPUTS)", font=TITLE_FONT)
    book.put(ws, "A2", "条款编号 Clause id", font=BOLD)
    book.put(ws, "B2", "etown:27", fill=INPUT_FILL, box=True, font=BOLD)
    ws.merge_cells("B2:C2")
    _validation(
        ws,
        "B2",
        None,
        "条款编号 Clause id",
        "输入条款编号，如 etown:10；下方列出其输入名称 / A clause id, e.g. etown:10; its input names show below",
        "",
    )
    book.put(
        ws,
        "D2",
        "名称（name）即“组合 Portfolio”表输入名称列所填；“为空时”说明留空的含义。 The names are what the"
        " Portfolio sheet's input-name cells take; 'when empty' says what an empty value means.",
        font=NOTE_FONT,
    )
    widths = {"A": 24, "B": 11, "C": 9, "D": 30, "E": 34, "F": 8, "G": 60, "H": 10, "I": 12, "J": 14, "K": 34}
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    most = max(len(udfs.AWARD_INPUTS(info["id"])) for info in monetary_clauses())
    inputs = book.table(ws, "A4", "AWARD_INPUTS($B$2)", most, 11, first=1, align=WRAP_TOP, box=True)
    for j in range(11):
        cell = ws.cell(row=4, column=1 + j)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
    for r in range(5, 4 + len(inputs)):
        _fit_row(book, ws, r)
    ws.freeze_panes = "A5"
    print_setup(ws, title_rows=4, title="green-award", grid=False)


def reference_rows() -> list[list[str]]:
    """The function reference: name, syntax, description, arguments (what the function wizard shows)."""
    out = []
    for function in worksheet_functions():
        shown = []
        for name, parameter in inspect.signature(function).parameters.items():
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                shown.append(f"[{name}…]")
            elif parameter.default is not inspect.Parameter.empty:
                shown.append(f"[{name}]")
            else:
                shown.append(name)
        docs = "\n".join(f"{name}: {doc}" for name, doc in function.arg_docs.items())
        out.append([function.__name__, f"{function.__name__}({', '.join(shown)})", function.__doc__ or "", docs])
    return out


def reference_markdown() -> str:
    """docs/excel.md's function reference, generated from the functions (a test holds the two equal)."""
    parts = []
    for function, (_name, syntax, doc, _docs) in zip(worksheet_functions(), reference_rows()):
        lines = [f"### `{syntax}`", "", doc, ""]
        lines += [f"- `{arg}`: {text}" for arg, text in function.arg_docs.items()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def build_functions(book: Book, ws: Worksheet) -> None:
    """The function reference as plain text: what the function wizard shows, in one place."""
    widths = {"A": 24, "B": 44, "C": 70, "D": 90}
    _header(book, ws, 1, ["函数 Function", "语法 Syntax", "说明 Description", "参数 Arguments"])
    for k, row in enumerate(reference_rows(), start=2):
        for j, value in enumerate(row):
            book.put(ws, f"{get_column_letter(1 + j)}{k}", value, align=WRAP_TOP, box=True)
        lines = max(wrapped_lines(str(v), widths[get_column_letter(1 + j)]) for j, v in enumerate(row))
        ws.row_dimensions[k].height = lines_height(lines + lines // 4)
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    print_setup(ws, title_rows=1, title="green-award")


def configure_xlwings(book: Book, ws: Worksheet) -> None:
    """The quickstart's ``_xlwings.conf`` made active with one setting, ``UDF Modules: udfs``.

    Every key on this sheet overrides the xlwings add-in's settings and the user's config file, even
    when empty: so only UDF Modules is kept. The interpreter (and conda, PYTHONPATH) comes from the
    add-in (``green-award excel --addin``) or the user's ``xlwings.conf`` file, never from here: a
    fixed ``Interpreter_Win = python`` would override a venv or conda interpreter and can hit
    Windows' Store alias. xlwings reads the sheet from A1 down to the first empty cell.
    """
    ws.title = CONF
    for row in ws.iter_rows():
        for cell in row:
            cell.value = None
    book.put(ws, "A1", "UDF Modules")
    book.put(ws, "B1", "udfs")
    notes = [
        "green-award: xlwings reads the settings from A1 down to the first empty row: here only UDF Modules = udfs.",
        "The interpreter is not set here: the xlwings add-in's Interpreter box (or green_award.xlam's settings, or",
        "%USERPROFILE%\\.xlwings\\xlwings.conf) decides, so that a venv or conda Python is used. See docs/excel.md.",
        "解释器不在此设置：由 xlwings 加载项或用户配置文件决定。",
    ]
    for k, text in enumerate(notes, start=4):
        book.put(ws, f"A{k}", text, font=NOTE_FONT)
    ws.column_dimensions["A"].width = 16
    print_setup(ws, landscape=False, title_rows=None, one_page=True, title="green-award", grid=False)
    ws.print_area = f"A1:K{3 + len(notes)}"


def build_workbook(path: Path) -> None:
    """Write the workbook to ``path`` (any name; the caller moves it into place)."""
    wb = load_workbook(QUICKSTART, keep_vba=True)
    book = Book(wb)
    conf = wb["_xlwings.conf"]
    model = wb.worksheets[0]
    model.title = MODEL
    best = wb.create_sheet(BEST)
    explain = wb.create_sheet(EXPLAIN)
    clauses = wb.create_sheet(CLAUSES)
    inputs = wb.create_sheet(INPUTS)
    functions = wb.create_sheet(FUNCTIONS)
    lists_ws = wb.create_sheet(LISTS)
    wb.move_sheet(conf, offset=len(wb.worksheets) - 1 - wb.worksheets.index(conf))
    lay = Layout()
    lists = build_lists(book, lists_ws)
    # the main sheet's project rows come first: 比选 reads them and the main sheet reads 比选 back
    _prefill_projects(book, model, lists, lay)
    best_result = build_best(book, best, lay)
    build_model(book, model, lists, lay, best_result)
    build_explain(book, explain, lay)
    build_clauses(book, clauses)
    build_inputs(book, inputs)
    build_functions(book, functions)
    configure_xlwings(book, conf)
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is model
    wb.calculation = CalcProperties(calcId=CALC_ID, fullCalcOnLoad=False)
    wb.properties.creator = wb.properties.lastModifiedBy = "green-award"
    wb.properties.title = "green-award finance model"
    wb.properties.created = FIXED_TIME
    raw = path.with_name(path.name + ".raw")
    try:
        wb.save(raw)
        _deterministic_copy(raw, path, {k: wb.worksheets.index(wb[k]) for k in book.cached}, book.cached)
    finally:
        raw.unlink(missing_ok=True)


def _prefill_projects(book: Book, ws: Worksheet, lists: dict[str, str], lay: Layout) -> None:
    """The cells 比选 refers to (projects, inputs), written before it; build_model writes them again
    with their styles and the rest of the sheet."""
    labels = {info["id"]: clause_label(info) for info in monetary_clauses()}
    for k, p in enumerate(PROJECTS):
        pr, ir = lay.first + k, lay.inputs + k
        book.put(ws, f"A{pr}", p.name)
        book.put(ws, f"D{pr}", p.start)
        book.put(ws, f"C{pr}", p.investment)
        book.put(ws, f"G{pr}", labels[p.clause])
        book.formula(ws, f"I{pr}", f"=INDEX({lists['ids']},MATCH(G{pr},{lists['labels']},0))", p.clause)
        for n in range(PAIRS):
            name_ref, value_ref = f"{get_column_letter(2 + 2 * n)}{ir}", f"{get_column_letter(3 + 2 * n)}{ir}"
            if n < len(p.inputs):
                name, value = p.inputs[n]
                book.put(ws, name_ref, name)
                if value is INVESTMENT:
                    book.formula(ws, value_ref, f"=C{pr}", p.investment)
                else:
                    book.put(ws, value_ref, value)
    book.put(ws, "B3", ENTERPRISE)


def _deterministic_copy(source: Path, target: Path, sheets: dict[str, int], cached: dict[str, dict[str, Any]]) -> None:
    """The same zip with every formula's cached value in its sheet's XML, fixed entry times and
    fixed document dates, so equal input gives equal bytes."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    paths = {f"xl/worksheets/sheet{index + 1}.xml": title for title, index in sheets.items()}
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for entry in zin.infolist():
            data = zin.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            elif entry.filename in paths:
                title = paths[entry.filename]
                xml = data.decode("utf-8")
                formulas = {
                    ref: value
                    for ref, value in cached[title].items()
                    if re.search(rf'<c r="{ref}"[^>]*>(?:<f[ >])', xml)
                }
                data = cache_formula_values(entry.filename, xml, formulas).encode("utf-8")
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)


def write_model_workbook(out: Path, *, overwrite: bool = False) -> Path:
    """``green-award excel``: the workbook at ``out`` (an .xlsm), never over an existing file unless asked."""
    out = Path(out)
    if out.suffix.lower() != ".xlsm":
        raise ValueError(f"{out}: the workbook holds macros, so its name must end in .xlsm / 文件名须以 .xlsm 结尾")
    return write_atomically(out, build_workbook, overwrite=overwrite)


# --- reading a written workbook back (the tests, and a check that anyone can run) --------------


@dataclass
class FormulaCell:
    sheet: str
    ref: str
    formula: str
    cached: Any
    block: str | None = None  # an array formula's range


def formula_cells(path: Path) -> list[FormulaCell]:
    """Every formula cell of a workbook with its cached value (openpyxl reads both)."""
    formulas = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm")
    values = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", data_only=True)
    out = []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, ArrayFormula):
                    out.append(
                        FormulaCell(
                            ws.title, cell.coordinate, value.text, values[ws.title][cell.coordinate].value, value.ref
                        )
                    )
                elif isinstance(value, str) and cell.data_type == "f":
                    out.append(FormulaCell(ws.title, cell.coordinate, value, values[ws.title][cell.coordinate].value))
    return out


def workbook_content(path: Path) -> dict[str, Any]:
    """What the test compares: every sheet's cells (values, formulas, cached values), array ranges and names."""
    wb = load_workbook(path, keep_vba=True)
    values = load_workbook(path, keep_vba=True, data_only=True)
    sheets: dict[str, Any] = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, ArrayFormula):
                    value = ("array", value.ref, value.text)
                if value is not None:
                    cells[cell.coordinate] = (value, values[ws.title][cell.coordinate].value)
        sheets[ws.title] = cells
    names = {name: dn.attr_text for name, dn in wb.defined_names.items()}
    return {"sheets": list(wb.sheetnames), "cells": sheets, "names": names}
