"""``green-award excel``: a ready macro-enabled workbook for the worksheet functions.

Built on the quickstart workbook that xlwings ships (``xlwings quickstart`` copies the same file):
its VBA project, which refers to the xlwings add-in, is kept as it is; its ``_xlwings.conf`` sheet
becomes the active ``xlwings.conf`` with ``UDF Modules: udfs``; a sample finance model uses the
functions on a small portfolio, with the expected values beside them (computed here, by calling
the same functions with the values Excel would send) and totals guarded against cells that are
errors or text. The output is deterministic: fixed document dates and zip timestamps.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import xlwings
from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

import udfs

from .files import write_atomically

QUICKSTART = Path(xlwings.__file__).resolve().parent / "quickstart.xlsm"
TEMPLATE = Path(__file__).resolve().parent.parent / "workbook_templates" / "green_award_model.xlsm"
FIXED_TIME = datetime(2025, 5, 17)  # the E-Town policy's date: any fixed date keeps the output reproducible
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MODEL = "Model"
CONF = "xlwings.conf"
MONEY = "#,##0.00"
BOLD = Font(bold=True)
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
EXCEL_FUNCTIONS = {"IF", "COUNT", "ROWS", "SUM", "NA", "SUMPRODUCT", "ISERROR", "ISTEXT", "ISNUMBER", "ABS", "ISNA"}

# --- a small evaluator: a model formula called the way classic xlwings calls a function ----------

class FormulaError(ValueError):
    pass

def _cell_value(value: Any) -> Any:
    """What xlwings hands a function for a cell: numbers as floats, empty as None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None if value == "" else value
    if isinstance(value, (int, float)):
        return float(value)
    raise FormulaError(f"unexpected cell value {value!r}")

def _range_value(ws: Worksheet, ref: str) -> Any:
    """A reference as xlwings reads it: a cell as a scalar, one row or column flat, else rows."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    rows = [
        [_cell_value(ws.cell(row=r, column=c).value) for c in range(min_col, max_col + 1)]
        for r in range(min_row, max_row + 1)
    ]
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    if len(rows) == 1:
        return rows[0]
    if all(len(r) == 1 for r in rows):
        return [r[0] for r in rows]
    return rows

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"]|"")*")|(?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)(?![A-Z_(])'
                    r'|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<name>[A-Z_][A-Z0-9_]*)(?=\()|(?P<op>[(),]))')

def evaluate_formula(ws: Worksheet, formula: str) -> Any:
    """Evaluate ``=FUNC(args)`` where FUNC is a worksheet function of ``udfs`` and args are literals,
    references or nested calls: the same Python calls classic xlwings makes for the formula."""
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
            return None  # an omitted argument: xlwings passes the Python default, here None
        index += 1
        if kind == "str":
            return value[1:-1].replace('""', '"')
        if kind == "num":
            return float(value)
        if kind == "ref":
            return _range_value(ws, value.replace("$", ""))
        if kind == "name":
            function = getattr(udfs, value, None)
            if function is None or value not in udfs.__all__:
                raise FormulaError(f"{value} is not a worksheet function of udfs")
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
            return function(*args)
        raise FormulaError(f"unexpected {value!r} in {formula!r}")

    result = argument()
    if index != len(tokens):
        raise FormulaError(f"trailing text in {formula!r}")
    return result

# --- the sample model ---------------------------------------------------------------------------

@dataclass
class Row:
    project: str
    clause: str
    formula: str  # {r} is the row number
    inputs: dict[str, Any] = field(default_factory=dict)  # column letter -> value

PORTFOLIO = [
    Row("屋顶光伏 Rooftop PV, self-owned", "etown:27", "=PV_SUBSIDY(D{r})", {"D": 100}),
    Row("厂房光伏 PV by a third-party investor", "etown:27", "=PV_SUBSIDY(D{r},E{r})", {"D": 250, "E": "第三方投资"}),
    Row("燃气锅炉A级 Gas boiler to grade A", "etown:10",
        '=GREEN_AWARD(B{r},"boiler_grade",D{r},"investment_yuan",E{r})', {"D": "A", "E": 1_200_000}),
    Row("电机系统节能 Motor-system energy saving (kWh saved)", "beijing:2.1",
        '=ENERGY_SAVING_AWARD(TCE(D{r},"electricity_kwh"),E{r})', {"D": 8_000_000, "E": 10_000_000}),
    Row("产线改造 Production-line retrofit", "tongzhou:3", '=RETROFIT_AWARD(D{r},"tongzhou")', {"D": 5_000_000}),
    Row("绿电采购 Green-power purchase", "etown:29", "=GREEN_POWER_AWARD(D{r})", {"D": 3_000_000}),
    Row("绿色贷款贴息 Green-loan interest", "beijing:8", "=LOAN_INTEREST_SUBSIDY(D{r},E{r},F{r})",
        {"D": 100_000_000, "E": 0.035, "F": 12}),
    Row("国五货车换新能源 Trucks to NEV", "etown:18", "=VEHICLE_AWARD(D{r},E{r},,F{r})",
        {"D": "guo5_replaced", "E": 300_000, "F": 5}),
    Row("光伏（区域输入）PV from an input range K:L", "etown:27", "=GREEN_AWARD(B{r},$K$5:$L$6)", {}),
]
RANGE_INPUTS = [("capacity_kw", 60), ("ownership", "self")]  # K5:L6, the two-column range of names and values
FIRST = 5
HEADERS = ["项目 Project", "条款 Clause", "公式 Formula", "输入1 Input 1", "输入2 Input 2", "输入3 Input 3",
           "奖励 Award (元)", "预期 Expected (元)", "核对 Check"]

def _guarded_total(cells: str, count: int) -> str:
    return f"=IF(COUNT({cells})={count},SUM({cells}),NA())"

def _status(cells: str) -> str:
    bad = f"(SUMPRODUCT(--ISERROR({cells}))+SUMPRODUCT(--ISTEXT({cells})))"
    return f'=IF({bad}=0,"OK 全部为数字 all numbers","⚠ "&{bad}&" 个单元格为错误或文字 cells are errors or text")'

def _style_header(ws: Worksheet, row: int, columns: int) -> None:
    for column in range(1, columns + 1):
        cell = ws.cell(row=row, column=column)
        cell.font, cell.fill = BOLD, HEAD_FILL

def _array(ws: Worksheet, top_left: str, formula: str, rows: int, columns: int) -> None:
    """A legacy array formula over exactly the block its result fills (every Excel version shows it)."""
    col, row = range_boundaries(top_left)[:2]
    ref = f"{top_left}:{get_column_letter(col + columns - 1)}{row + rows - 1}"
    ws[top_left] = ArrayFormula(ref, formula)

def build_model(ws: Worksheet) -> None:
    ws.title = MODEL
    ws["A1"] = "绿色低碳奖励财务模型（示例）Green-award finance model (sample)"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("需 xlwings：安装加载项后在 xlwings 选项卡点 Import Functions，再按 Ctrl+Alt+F9 重算。"
                " Needs xlwings: install the add-in, click Import Functions on the xlwings tab, then Ctrl+Alt+F9. "
                "Yellow cells are inputs; 预期 Expected was computed by green-award when this file was written.")
    ws.append([])
    ws.append(HEADERS)
    _style_header(ws, 4, len(HEADERS))
    last = FIRST + len(PORTFOLIO) - 1
    for offset, item in enumerate(PORTFOLIO):
        r = FIRST + offset
        formula = item.formula.format(r=r)
        ws.cell(row=r, column=1, value=item.project)
        ws.cell(row=r, column=2, value=item.clause)
        ws.cell(row=r, column=3, value=formula[1:]).data_type = "s"  # the formula shown as text, never run
        for column, value in item.inputs.items():
            ws[f"{column}{r}"] = value
            ws[f"{column}{r}"].fill = INPUT_FILL
        ws[f"G{r}"] = formula
        ws[f"I{r}"] = f'=IF(ISNUMBER(G{r}),IF(ABS(G{r}-H{r})<0.005,"OK 一致","≠ 不一致 differs"),"⚠ 非数字 not a number")'
    for offset, (name, value) in enumerate(RANGE_INPUTS):
        ws.cell(row=FIRST + offset, column=11, value=name)
        ws.cell(row=FIRST + offset, column=12, value=value).fill = INPUT_FILL
    ws["K4"], ws["L4"] = "名称 Name", "值 Value"
    ws["K4"].font = ws["L4"].font = BOLD
    awards = f"G{FIRST}:G{last}"
    total = last + 2
    ws[f"A{total}"] = "合计（有防护）Total, guarded"
    ws[f"A{total}"].font = BOLD
    ws[f"G{total}"] = _guarded_total(awards, len(PORTFOLIO))
    ws[f"H{total}"] = f"=SUM(H{FIRST}:H{last})"
    ws[f"I{total}"] = _status(awards)
    ws[f"A{total + 1}"] = ("防护：任一奖励单元格为错误或文字（经典 xlwings 把报错写成文字，SUM 会跳过）时合计为 #N/A。"
                           " Guard: the total is #N/A while any award cell is an error or text "
                           "(classic xlwings writes a raised error as text, which SUM would skip).")

    demo = total + 3
    ws[f"A{demo}"] = "错误输入示例 Bad input (not in the total)"
    ws[f"A{demo}"].font = BOLD
    ws[f"A{demo + 1}"] = "负装机容量 Negative capacity"
    ws[f"B{demo + 1}"] = "etown:27"
    ws[f"C{demo + 1}"] = "PV_SUBSIDY(D{0})".format(demo + 1)
    ws[f"D{demo + 1}"] = -5
    ws[f"D{demo + 1}"].fill = INPUT_FILL
    ws[f"G{demo + 1}"] = f"=PV_SUBSIDY(D{demo + 1})"
    ws[f"H{demo + 1}"] = "报错 error"
    ws[f"I{demo + 1}"] = f'=IF(ISNUMBER(G{demo + 1}),"⚠ 不应为数字 should not be a number","OK 报错而非数字 an error, not a number")'
    ws[f"A{demo + 2}"] = "含错误行的合计 Guarded total with the bad row"
    cells = f"{awards},G{demo + 1}"
    ws[f"G{demo + 2}"] = f"=IF(COUNT({cells})={len(PORTFOLIO) + 1},SUM({cells}),NA())"
    ws[f"H{demo + 2}"] = "#N/A 被拦截 blocked"
    ws[f"I{demo + 2}"] = f'=IF(ISNA(G{demo + 2}),"OK 合计被拦截 total blocked","⚠ 合计未被拦截 not blocked")'
    explain = demo + 4
    ws[f"A{explain}"] = "AWARD_EXPLAIN: 为什么报错 why the bad input fails"
    ws[f"A{explain}"].font = BOLD
    bad_formula = f'=AWARD_EXPLAIN("etown:27","capacity_kw",D{demo + 1})'
    ws[f"A{explain + 1}"] = "placeholder"  # replaced below once the size is known
    names = {
        "GA_Awards": f"'{MODEL}'!$G${FIRST}:$G${last}",
        "GA_Expected": f"'{MODEL}'!$H${FIRST}:$H${last}",
        "GA_Total": f"'{MODEL}'!$G${total}",
        "GA_TotalCheck": f"'{MODEL}'!$I${total}",
        "GA_RangeInputs": f"'{MODEL}'!$K${FIRST}:$L${FIRST + len(RANGE_INPUTS) - 1}",
    }

    # Expected values: the formulas evaluated the way classic xlwings calls the functions.
    expected_total = 0.0
    for offset, item in enumerate(PORTFOLIO):
        r = FIRST + offset
        value = evaluate_formula(ws, item.formula.format(r=r))
        ws[f"H{r}"] = value
        expected_total += value
        for column in "GH":
            ws[f"{column}{r}"].number_format = MONEY
    for column in "GH":
        ws[f"{column}{total}"].number_format = MONEY
        ws[f"{column}{total}"].font = BOLD
    bad_rows = evaluate_formula(ws, bad_formula)
    _array(ws, f"A{explain + 1}", bad_formula, len(bad_rows), 1)

    first_explain = explain + 2 + len(bad_rows)
    ws[f"A{first_explain}"] = "AWARD_EXPLAIN: 电机系统节能的计算过程 how the motor-system award is computed"
    ws[f"A{first_explain}"].font = BOLD
    saving_row = FIRST + 3
    good_formula = f'=AWARD_EXPLAIN("beijing:2.1","project_type","energy_saving","energy_saved_tce",TCE(D{saving_row},"electricity_kwh"),"investment_yuan",E{saving_row})'
    good_rows = evaluate_formula(ws, good_formula)
    _array(ws, f"A{first_explain + 1}", good_formula, len(good_rows), 1)

    for name, ref in names.items():
        ws.parent.defined_names[name] = DefinedName(name, attr_text=ref)
    widths = {"A": 44, "B": 12, "C": 40, "D": 16, "E": 16, "F": 10, "G": 18, "H": 18, "I": 26, "K": 14, "L": 10}
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A5"

def build_clauses(ws: Worksheet) -> None:
    rows = udfs.AWARD_CLAUSES()
    ws["A1"] = "AWARD_CLAUSES(): 条款目录 the catalog (array formula; in Excel 365 you may retype it to spill)"
    ws["A1"].font = BOLD
    _array(ws, "A2", "=AWARD_CLAUSES()", len(rows), len(rows[0]))
    top = len(rows) + 3
    inputs = udfs.AWARD_INPUTS("etown:27")
    ws[f"A{top}"] = 'AWARD_INPUTS("etown:27"): 条款输入 a clause\'s inputs'
    ws[f"A{top}"].font = BOLD
    _array(ws, f"A{top + 1}", '=AWARD_INPUTS("etown:27")', len(inputs), len(inputs[0]))
    for column, width in {"A": 14, "B": 12, "C": 30, "D": 40, "E": 40, "F": 16}.items():
        ws.column_dimensions[column].width = width

def build_functions(ws: Worksheet) -> None:
    """The function reference as plain text: what the function wizard shows, in one place."""
    import inspect

    ws.append(["函数 Function", "语法 Syntax", "说明 Description", "参数 Arguments"])
    _style_header(ws, 1, 4)
    for function in udfs.WORKSHEET_FUNCTIONS:
        parameters = inspect.signature(function).parameters
        shown = []
        for name, parameter in parameters.items():
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                shown.append(f"[{name}…]")
            elif parameter.default is not inspect.Parameter.empty:
                shown.append(f"[{name}]")
            else:
                shown.append(name)
        docs = "\n".join(f"{name}: {doc}" for name, doc in function.arg_docs.items())
        ws.append([function.__name__, f"{function.__name__}({', '.join(shown)})", function.__doc__, docs])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in {"A": 24, "B": 48, "C": 70, "D": 90}.items():
        ws.column_dimensions[column].width = width

def configure_xlwings(ws: Worksheet) -> None:
    """The quickstart's ``_xlwings.conf`` made active: renamed, with ``UDF Modules: udfs``."""
    ws.title = CONF
    for row in range(1, 13):
        if ws.cell(row=row, column=1).value == "UDF Modules":
            ws.cell(row=row, column=2, value="udfs")
            break
    else:  # pragma: no cover - a future quickstart without the row
        raise RuntimeError("the xlwings quickstart workbook has no 'UDF Modules' row")
    for row in range(13, 20):
        text = ws.cell(row=row, column=1).value
        if isinstance(text, str) and text.startswith("Rename this sheet"):
            ws.cell(row=row, column=1, value="green-award: this sheet is active (named xlwings.conf); UDF Modules is set to udfs.")

def build_workbook(path: Path) -> None:
    """Write the workbook to ``path`` (any name; the caller moves it into place)."""
    wb = load_workbook(QUICKSTART, keep_vba=True)
    configure_xlwings(wb["_xlwings.conf"])
    build_model(wb.worksheets[0])
    build_clauses(wb.create_sheet("Clauses"))
    build_functions(wb.create_sheet("Functions"))
    wb.active = 0
    wb.properties.creator = wb.properties.lastModifiedBy = "green-award"
    wb.properties.title = "green-award finance model"
    wb.properties.created = FIXED_TIME
    raw = path.with_name(path.name + ".raw")
    try:
        wb.save(raw)
        _deterministic_copy(raw, path)
    finally:
        raw.unlink(missing_ok=True)

def _deterministic_copy(source: Path, target: Path) -> None:
    """The same zip with fixed entry times and fixed document dates, so equal input gives equal bytes."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for entry in zin.infolist():
            data = zin.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
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

def workbook_content(path: Path) -> dict[str, Any]:
    """What the test compares: every sheet's cells (values and formulas), array ranges and names."""
    wb = load_workbook(path, keep_vba=True)
    sheets: dict[str, Any] = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, ArrayFormula):
                    value = ("array", value.ref, value.text)
                if value is not None:
                    cells[cell.coordinate] = value
        sheets[ws.title] = cells
    names = {name: dn.attr_text for name, dn in wb.defined_names.items()}
    return {"sheets": list(wb.sheetnames), "cells": sheets, "names": names}

Writer = Callable[[Path], None]
