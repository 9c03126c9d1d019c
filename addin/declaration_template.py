"""The declaration template (申报表) of one clause, generated from its definition in ``policies/data``.

``build(clause_id)`` makes the workbook with openpyxl and returns it with its ``Layout``: where each
value a declaration fills goes (``slots``) and which formula cells carry a cached value
(``formulas``), each cell named in the workbook, so that ``layout`` reads it back from a committed
template's defined names. ``template_bytes`` saves it deterministically (fixed zip times, fixed document
properties); the committed ``workbook_templates/declaration_<clause>.xlsx`` files are exactly that,
and a test holds them equal to what this module makes. Regenerate them all with
``python -m addin.declaration_template`` (``write_templates()``).

Cell conventions (the core reads every one of them the same way as the rendered formula):

* a yes/no cell (condition or yes/no input) holds 是 or 否; formulas read ``(cell="是")``, and a
  condition left blank is assumed met, as the core assumes it;
* a choice cell holds the Chinese label of the value (``自有``, ``A级``), picked from a dropdown of
  labels; the English label is shown beside it by a lookup. A formula compares the cell with the
  label (the clause's ``ownership == "self"`` renders as ``(in_ownership&"")="自有"``): the codes
  stay in the policy data and never appear in the workbook; the core maps a label back to its code.
  ``&""`` makes a number typed into a choice compare as text, as the core reads it;
* an input with a default reads as the default when blank (``IF(ISBLANK(cell),default,cell)``);
* a rule over a threshold fact (``fact: true``) holds when a fact it names is blank (assumed);
* numbers are doubles; a ratio compared with a threshold is cross-multiplied by the clause's own
  expression (``at_least(x, t)``): exact in the core, within relative 1e-9 in the formula.

Printing: every visible sheet is A4 portrait, one page wide (fit to width), with a binding margin on
the left, the policy and clause in the header and 第&P页 共&N页 and the generation date in the footer;
rows are as tall as their wrapped text needs (estimated here: spreadsheet programs do not grow rows
on load); fonts are 宋体 SimSun for the body and 黑体 SimHei for headings (the renderer substitutes
what it has).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.protection import SheetProtection

from policies import expr
from policies.engine import CompiledClause, compiled, validity_years
from policies.numbers import fmt
from policies.registry import common, fields
from policies.schema import InputSpec, Parameter

from . import rmb

TEMPLATE_VERSION = "3"  # 3: every cell a declaration fills has a defined name (the layout)
GENERATOR = "green-award"
TEMPLATES = Path(__file__).resolve().parent.parent / "workbook_templates"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>green-award</dc:creator>'
    "<dc:title>{title}</dc:title></cp:coreProperties>"
)

YES, NO = "是", "否"
LIST_LIMIT = 255  # Excel's limit on an inline list of a data validation
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
NUMBER_FORMAT = "General"  # shows 0.8 and 1200 as they are (#,##0.###### shows "1,200.")
DATE_FORMAT = "yyyy-mm-dd"
# The footer's date: a template prints the day it is printed (&D); a declaration is given the day it
# was generated (``addin.declaration`` replaces this text in the sheet XML).
GENERATED_MARK = "生成日期 Generated &D"
GENERATED_XML = GENERATED_MARK.replace("&", "&amp;")  # how the sheet XML holds it

SHEETS = (
    "封面 Cover",
    "申报单位与项目 Applicant",
    "申报内容 Inputs",
    "奖励测算 Award",
    "附件与承诺 Attachments",
    "lists",
    "meta",
)
PRINTED = 5  # the first five sheets are printed; lists and meta are hidden

# Column widths (in widths of the digit 0 of the body font) of the printed sheets. 80 fill 93% of the
# width of A4 between margins of 2.5 cm (binding) and 1.5 cm in SimSun at 100% (Excel, WPS); where a
# wider font stands in for SimSun the sheet is shrunk to the page's width (LibreOffice here: 90%).
WIDTHS: dict[int, tuple[float, ...]] = {
    0: (19, 20, 18, 23),
    1: (24, 33, 23),
    2: (28, 9, 19, 24),
    3: (28, 15, 17, 20),
    4: (6, 37, 37),
    5: (40, 40),
    6: (26, 40),
}
BODY_FONT, HEAD_FONT = "SimSun", "SimHei"
SIZE = 10.5  # 五号, the body of Chinese official forms
_BODY = Font(name=BODY_FONT, size=SIZE, charset=134)
_BOLD = Font(name=BODY_FONT, size=SIZE, bold=True, charset=134)
_SMALL = Font(name=BODY_FONT, size=9, charset=134)
_TITLE = Font(name=HEAD_FONT, size=16, charset=134)
_SUBTITLE = Font(name=HEAD_FONT, size=13, charset=134)
_SECTION = Font(name=HEAD_FONT, size=12, charset=134)
_HEADING = Font(name=HEAD_FONT, size=SIZE, charset=134)  # table headers
_HEAD = PatternFill("solid", fgColor="DDEBF7")
_INPUT = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_OPEN = Protection(locked=False)
_LEFT = Alignment(wrap_text=True, vertical="center")
_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
_RIGHT = Alignment(wrap_text=True, vertical="center", horizontal="right")
MIN_HEIGHT = 18.0  # points: a row never lower than this, so a form has room to read and to write
SPACER = 9.0  # points: an empty row between sections
PAGE_HEIGHT = 728.0  # points of rows on an A4 page between the top and bottom margins (at 100%)
SHRINK_TO_ONE_PAGE = 1.3  # up to this much longer than a page: shrunk onto one page rather than run on


#: The kind of a declaration's cell for each kind of claim field (common.yaml), and its number format.
SLOT_KINDS = {"text": "text", "choice": "choice", "year": "number", "date": "date", "money": "number"}
_FORMATS = {"year": COUNT_FORMAT, "date": DATE_FORMAT, "money": MONEY_FORMAT}
_EXPECT = {
    "enterprise": "国" * 30,
    "address": "国" * 40,
    "project_name": "国" * 50,
}  # the longest text a row makes room for


def field_cell(field: str) -> str:
    """The defined name of a claim field's cell (common.yaml), as formulas refer to it."""
    return fields()[field].cell or ""


def slot_kind(spec: InputSpec) -> str:
    """The kind of a declaration's cell for a clause's input, condition or payment input."""
    return {"bool": "yesno", "choice": "choice", "text": "text"}.get(spec.type, "number")


def template_name(clause_id: str) -> str:
    return f"declaration_{clause_id.replace(':', '-')}.xlsx"


def q(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


@dataclass
class Layout:
    """Where a declaration's values go: slot key -> (sheet index, cell, kind); formula key -> (sheet index, cell)."""

    clause_id: str
    slots: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    formulas: dict[str, tuple[int, str]] = field(default_factory=dict)
    choice_labels: dict[str, str] = field(default_factory=dict)  # formula key -> input whose English label it shows
    rule_keys: list[str] = field(default_factory=list)
    stage_keys: list[tuple[str, str]] = field(default_factory=list)  # (amount key, status key)


# --- text on paper: how wide, how many lines ----------------------------------------------------------


def char_width(ch: str) -> float:
    """Width of a character in widths of the digit 0: a CJK character (and CJK punctuation) is two."""
    if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
        return 2.0
    return 1.0  # SimSun's Latin letters and digits are half as wide as its CJK characters


def line_count(text: str, width: float) -> int:
    """Lines that ``text`` takes in a column ``width`` wide, wrapped as a spreadsheet wraps it: at
    spaces between Latin words, anywhere between CJK characters."""
    room = max(width - 1.0, 1.0)  # the cell's padding
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for token in re.findall(r"[\x21-\x7e]+ *| +|.", paragraph):  # a Latin word with its spaces, or one character
            size = sum(char_width(c) for c in token)
            bare = sum(char_width(c) for c in token.rstrip(" "))
            if used + bare <= room:
                used += size
                continue
            if used > 0:
                lines += 1
            while bare > room:  # a word longer than the line is broken
                lines += 1
                bare -= room
            used = bare + (size - sum(char_width(c) for c in token.rstrip(" ")))
    return lines


def row_height(lines: int, size: float) -> float:
    """Points for ``lines`` lines of a font of ``size`` points (CJK fonts need about 1.45 em a line)."""
    return round(lines * size * 1.45 + 4, 1)


# --- references: how a formula reads a name ---------------------------------------------------------


def input_ref(name: str, spec: InputSpec) -> str:
    """How the rendered formula reads input ``name`` (the cell is the defined name ``in_<name>``)."""
    cell = f"in_{name}"
    if spec.type == "bool":
        return f'({cell}<>"{NO}")' if spec.default is True else f'({cell}="{YES}")'
    if spec.type == "choice":
        if spec.default is not None:
            return f'IF(ISBLANK({cell}),"{spec.values[spec.default].zh}",{cell}&"")'
        return f'({cell}&"")'
    if spec.default is not None:
        return f"IF(ISBLANK({cell}),{format(Decimal(spec.default).normalize(), 'f')},{cell})"
    return cell


def referrer(cc: CompiledClause):
    def ref(name: str) -> str:
        if name in cc.parameters:
            return format(cc.parameters[name].normalize(), "f")
        return input_ref(name, cc.specs[name])

    return ref


def labelled(node: expr.Node, specs: dict[str, InputSpec]) -> expr.Node:
    """The same tree with each choice compared with its Chinese label instead of its code (what the cell holds)."""
    args = tuple(labelled(a, specs) for a in node.args)
    if isinstance(node, expr.Compare):
        a, b = args
        for name, literal in ((a, b), (b, a)):
            spec = specs.get(name.name) if isinstance(name, expr.Name) else None
            if (
                spec is not None
                and spec.type == "choice"
                and isinstance(literal, expr.String)
                and literal.value in spec.values
            ):
                label = expr.String(spec.values[literal.value].zh)
                args = (name, label) if name is a else (label, name)
    return expr.with_args(node, args)


def excel(cc: CompiledClause, node: expr.Node) -> str:
    """A clause's expression as a formula body over the declaration's cells."""
    return expr.to_excel(labelled(node, cc.specs), referrer(cc))


def rule_formula(cc: CompiledClause, node: expr.Node) -> str:
    """A requires rule as a formula: true when a threshold fact it names is blank (assumed, as the core)."""
    body = excel(cc, node)
    facts = [n for n in expr.names(node) if n in cc.clause.inputs and cc.clause.inputs[n].fact]
    if facts:
        blanks = ",".join(f"ISBLANK(in_{n})" for n in facts)
        return f"IF(OR({blanks}),TRUE,{body})"
    return body


def yes_no(test: str) -> str:
    return f'IF({test},"{YES}","{NO}")'


# --- the expression in words (no internal names on paper) -----------------------------------------------

_PERCENT_KINDS = ("rate", "ratio", "share")
KIND_WORDS = {
    "rate": "比例 rate",
    "unit_price": "单价 unit price",
    "cap": "上限 cap",
    "floor": "下限 floor",
    "fixed": "定额 fixed amount",
    "ratio": "比例 ratio",
    "share": "份额 share",
    "threshold": "门槛 threshold",
}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_SYMBOL = {"+": "＋", "-": "－", "*": "×", "/": "÷", "==": "＝", "!=": "≠", "<": "＜", "<=": "≤", ">": "＞", ">=": "≥"}


def show_parameter(p: Parameter) -> str:
    """A parameter's value as people write it: 50% for a share, 800 for a price, 5,000,000 for a cap."""
    percent = p.kind in _PERCENT_KINDS or (p.kind == "threshold" and p.unit is None and p.value <= 1)
    return f"{fmt(p.value * 100)}%" if percent and p.value <= 1 else fmt(p.value)


def describe(cc: CompiledClause, node: expr.Node) -> str:
    """An expression in words: inputs by their Chinese labels, parameters by their values, choices by labels."""
    specs, params = cc.specs, cc.clause.parameters

    def test(n: expr.Node) -> str:  # a yes/no input used as a test reads "…为“是”"
        if isinstance(n, expr.Name) and n.name in specs and specs[n.name].type == "bool":
            return f"【{specs[n.name].label.zh}】为“{YES}”"
        return show(n)

    def show(n: expr.Node) -> str:
        a = n.args
        if isinstance(n, expr.Number):
            return fmt(n.value)
        if isinstance(n, expr.String):
            return f"“{n.value}”"
        if isinstance(n, expr.Bool):
            return "成立" if n.value else "不成立"
        if isinstance(n, expr.Name):
            if n.name in params:
                return show_parameter(params[n.name])
            return f"【{specs[n.name].label.zh}】"
        if isinstance(n, expr.Neg):
            return f"－{show(a[0])}"
        if isinstance(n, expr.Not):
            return f"并非（{test(a[0])}）"
        if isinstance(n, expr.BinOp):
            left, right = show(n.left), show(n.right)
            if isinstance(n.left, expr.BinOp) and _PRECEDENCE[n.left.op] < _PRECEDENCE[n.op]:
                left = f"（{left}）"
            if isinstance(n.right, expr.BinOp) and (
                _PRECEDENCE[n.right.op] < _PRECEDENCE[n.op]
                or (_PRECEDENCE[n.right.op] == _PRECEDENCE[n.op] and n.op in "-/")
            ):
                right = f"（{right}）"
            return f"{left} {_SYMBOL[n.op]} {right}"
        if isinstance(n, expr.Compare):
            for name, literal in ((a[0], a[1]), (a[1], a[0])):
                spec = specs.get(name.name) if isinstance(name, expr.Name) else None
                if spec is not None and spec.type == "choice" and isinstance(literal, expr.String):
                    word = "为" if n.op == "==" else "不为"
                    return f"【{spec.label.zh}】{word}“{spec.values[literal.value].zh}”"
            return f"{show(a[0])} {_SYMBOL[n.op]} {show(a[1])}"
        if isinstance(n, expr.BoolOp):
            joined = ("且" if n.op == "and" else "或").join(
                f"（{test(x)}）" if isinstance(x, expr.BoolOp) else test(x) for x in a
            )
            return joined
        if isinstance(n, expr.Call):
            if n.function == "round":
                return show(a[0])
            if n.function == "at_least":  # a ≥ b (it was shown as 取大值, the larger of a and b)
                return f"{show(a[0])} {_SYMBOL['>=']} {show(a[1])}"
            word = "取小值" if n.function == "min" else "取大值"
            return f"{word}（{'，'.join(show(x) for x in a)}）"
        return f"（若{test(a[0])}：{show(a[1])}；否则：{show(a[2])}）"  # IfElse

    text = test(node)
    return text[1:-1] if text.startswith("（若") and text.endswith("）") else text


# --- the workbook -----------------------------------------------------------------------------------


def _ref(col: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


class _Builder:
    def __init__(self, clause_id: str):
        self.cc = cc = compiled(clause_id)
        self.clause, self.policy = cc.clause, cc.policy
        self.wb = Workbook()
        self.wb._fonts = IndexedList([_BODY])  # the default font, also of the Normal style: widths count its digit 0
        self.wb._named_styles["Normal"].font = _BODY
        self.wb.remove(self.wb.active)
        self.sheets = [self.wb.create_sheet(title) for title in SHEETS]
        self.layout = Layout(clause_id)
        self.validations: dict[tuple[int, str], DataValidation] = {}
        self.list_column = 0
        self.heights: dict[tuple[int, int], float] = {}  # (sheet, row) -> points its text needs
        self.fixed: dict[tuple[int, int], float] = {}  # (sheet, row) -> points asked for (signature space)
        self.sections: dict[int, list[int]] = {}  # sheet -> rows where a new page may start

    # cells
    def put(
        self,
        s: int,
        ref: str,
        value,
        *,
        font: Font = _BODY,
        fmt_: str | None = None,
        box: bool = True,
        fill: PatternFill | None = None,
        span: int = 1,
        align: Alignment = _LEFT,
        expect: str | None = None,
    ):
        """A cell (merged over ``span`` columns); its row grows to fit ``value`` or the ``expect``ed text."""
        ws = self.sheets[s]
        cell = ws[ref]
        cell.value = None if value == "" else value
        cell.font = font
        cell.alignment = align
        if fmt_:
            cell.number_format = fmt_
        if fill is not None:
            cell.fill = fill
        if span > 1:
            ws.merge_cells(
                start_row=cell.row, start_column=cell.column, end_row=cell.row, end_column=cell.column + span - 1
            )
        if box:
            for c in range(cell.column, cell.column + span):
                ws.cell(cell.row, c).border = _BOX
        shown = (
            expect if expect is not None else (value if isinstance(value, str) and not value.startswith("=") else None)
        )
        if shown is None and isinstance(value, (int, float)):
            shown = fmt(Decimal(str(value)))
        if shown:
            widths = WIDTHS[s]
            width = sum(widths[cell.column - 1 : cell.column - 1 + span]) * SIZE / font.size
            if font.b or font.name == HEAD_FONT:
                width /= 1.08
            need = row_height(line_count(shown, width), font.size)
            key = (s, cell.row)
            self.heights[key] = max(self.heights.get(key, 0.0), need)
        return cell

    def text(self, s: int, ref: str, value: str, **kw):
        """A label: a string that is never a formula, even when it starts with '='."""
        cell = self.put(s, ref, value, **kw)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        return cell

    def slot(
        self,
        s: int,
        ref: str,
        key: str,
        kind: str,
        number_format: str | None = None,
        name: str | None = None,
        span: int = 1,
        expect: str = "0",
    ):
        cell = self.put(
            s,
            ref,
            None,
            fill=_INPUT,
            fmt_=number_format or ("@" if kind in ("text",) else None),
            span=span,
            expect=expect,
        )
        cell.protection = _OPEN
        self.layout.slots[key] = (s, ref, kind)
        if name:
            self.name(name, s, ref)
        return cell

    def locked_slot(self, s: int, ref: str, key: str, kind: str, **kw):
        """A value the generator fills that the applicant does not edit (the granted amount note)."""
        self.put(s, ref, None, **kw)
        self.layout.slots[key] = (s, ref, kind)
        self.name(key, s, ref)

    def formula(
        self,
        s: int,
        ref: str,
        key: str,
        body: str,
        number_format: str | None = None,
        name: str | None = None,
        expect: str = "0",
        **kw,
    ):
        self.put(s, ref, "=" + body, fmt_=number_format, expect=expect, **kw)
        self.layout.formulas[key] = (s, ref)
        self.name(name or key, s, ref)  # every formula cell a declaration fills is named: the layout (see layout())

    def name(self, name: str, s: int, ref: str) -> None:
        col, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
        self.wb.defined_names[name] = DefinedName(name, attr_text=f"{q(SHEETS[s])}!${col}${row}")

    def validate(self, s: int, ref: str, dv: DataValidation) -> None:
        key = (s, dv.type, dv.operator, dv.formula1, dv.formula2, dv.error, dv.prompt)
        existing = self.validations.get(key)
        if existing is None:
            self.sheets[s].add_data_validation(dv)
            self.validations[key] = existing = dv
        existing.add(ref)

    def list_range(self, title: str, values: list[tuple[str, str]]) -> tuple[str, str]:
        """Write (Chinese, English) label pairs to the hidden lists sheet; the range of the Chinese labels and of the pairs."""
        ws = self.sheets[5]
        c0 = 2 * self.list_column + 1
        self.list_column += 1
        a, b = ws.cell(1, c0).column_letter, ws.cell(1, c0 + 1).column_letter
        ws.cell(1, c0, title)
        for i, (zh, en) in enumerate(values, start=2):
            ws.cell(i, c0, zh).data_type = "s"
            ws.cell(i, c0 + 1, en).data_type = "s"
        last = len(values) + 1
        return f"{q(SHEETS[5])}!${a}$2:${a}${last}", f"{q(SHEETS[5])}!${a}$2:${b}${last}"

    # pieces
    def input_validation(self, s: int, ref: str, name: str, spec: InputSpec, label_ref: str | None = None) -> None:
        """The cell's data validation; a choice also gets its English label shown at ``label_ref``."""
        label = spec.label.zh[:30]
        if spec.type == "text":
            return  # free text: nothing to validate in the cell
        if spec.type == "bool":
            dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
            dv.error = "请选择 是 或 否 / choose 是 (yes) or 否 (no)"
        elif spec.type == "choice":
            labels = [lab.zh for lab in spec.values.values()]
            values_range, pairs = self.list_range(spec.label.zh, [(lab.zh, lab.en) for lab in spec.values.values()])
            inline = ",".join(labels)
            if len(inline) <= LIST_LIMIT and not any("," in v or '"' in v for v in labels):
                dv = DataValidation(type="list", formula1=f'"{inline}"', allow_blank=True)
            else:
                dv = DataValidation(type="list", formula1=values_range, allow_blank=True)
            dv.error = "请从列表中选择 / choose a value from the list"
            longest = max((lab.en for lab in spec.values.values()), key=len)
            self.formula(
                s, label_ref, f"label_{name}", f'IFERROR(VLOOKUP({ref}&"",{pairs},2,FALSE),"")', expect=longest
            )
            self.layout.choice_labels[f"label_{name}"] = name
        else:
            kind = "whole" if spec.type == "integer" else "decimal"
            lower, upper = spec.lower, spec.upper
            lo = format(lower.normalize(), "f") if lower is not None else None
            hi = format(upper.normalize(), "f") if upper is not None else None
            if spec.min_exclusive or spec.max_exclusive:
                parts = [f"ISNUMBER({ref})"]
                if lo is not None:
                    parts.append(f"{ref}{'>' if spec.min_exclusive else '>='}{lo}")
                if hi is not None:
                    parts.append(f"{ref}{'<' if spec.max_exclusive else '<='}{hi}")
                dv = DataValidation(type="custom", formula1=f"AND({','.join(parts)})", allow_blank=True)
            elif lo is not None and hi is not None:
                dv = DataValidation(type=kind, operator="between", formula1=lo, formula2=hi, allow_blank=True)
            elif lo is not None:
                dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=lo, allow_blank=True)
            else:
                dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=hi, allow_blank=True)
            dv.error = bounds_text(spec)
        dv.showErrorMessage = True
        dv.errorTitle = "输入无效 Invalid"
        dv.promptTitle = label
        self.validate(s, ref, dv)

    def build(self) -> tuple[Workbook, Layout]:
        self.cover()
        self.applicant()
        self.inputs()
        self.award()
        self.attachments()
        self.meta()
        for s, ws in enumerate(self.sheets):
            # no password: against accidental edits; row heights and column widths stay adjustable
            ws.protection = SheetProtection(sheet=True, formatRows=False, formatColumns=False)
            for i, w in enumerate(WIDTHS[s]):
                ws.column_dimensions[chr(65 + i)].width = w
            if s < PRINTED:
                self.page_setup(s)
        self.sheets[5].sheet_state = "hidden"
        self.sheets[6].sheet_state = "hidden"
        props = self.wb.properties
        props.creator, props.title = "green-award", f"申报表 Declaration {self.clause.id}"
        self.wb.calculation.fullCalcOnLoad = True
        return self.wb, self.layout

    def page_setup(self, s: int) -> None:
        """A4 portrait, one page wide, a binding margin, header and footer, rows as tall as their text."""
        ws = self.sheets[s]
        total = 0.0
        for row in range(1, ws.max_row + 1):
            if (s, row) in self.heights or (s, row) in self.fixed:
                points = max(self.heights.get((s, row), 0.0), self.fixed.get((s, row), 0.0), MIN_HEIGHT)
            else:
                points = SPACER
            ws.row_dimensions[row].height = points
            total += points
        last = chr(64 + len(WIDTHS[s]))
        ws.print_area = f"A1:{last}{ws.max_row}"
        if s > 0:
            ws.print_title_rows = "1:1"  # the sheet's title again on a second page
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToWidth = 1
        # a sheet a little longer than a page is shrunk onto one; a longer one runs on, a section to a page
        ws.page_setup.fitToHeight = 1 if total <= PAGE_HEIGHT * SHRINK_TO_ONE_PAGE else 0
        if not ws.page_setup.fitToHeight:
            for row in self.sections.get(s, []):
                ws.row_breaks.append(Break(id=row - 1))  # the break goes after the row before the section
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        # inches: 2.5 cm on the left to bind, 1.5 cm on the right
        ws.page_margins.left, ws.page_margins.right = 0.98, 0.59
        ws.page_margins.top, ws.page_margins.bottom = 0.79, 0.79
        ws.page_margins.header, ws.page_margins.footer = 0.35, 0.35
        policy, clause = self.policy, self.clause
        for part, text in (
            (ws.oddHeader.left, policy.title.zh.replace("&", "&&")),
            (ws.oddHeader.right, f"申报表 {clause.id} {clause.article}".replace("&", "&&")),
            (ws.oddFooter.left, f"{clause.title.zh}".replace("&", "&&")),
            (ws.oddFooter.center, "第&P页 共&N页"),
            (ws.oddFooter.right, GENERATED_MARK),
        ):
            part.text, part.font, part.size = text, f"{BODY_FONT},Regular", 9

    def cover(self) -> None:
        cc, clause, policy, s = self.cc, self.clause, self.policy, 0
        self.text(s, "A1", f"{policy.title.zh}\n项目申报表", font=_TITLE, box=False, span=4, align=_CENTER)
        self.text(s, "A2", f"Declaration under: {policy.title.en}", box=False, span=4, align=_CENTER)
        rows = [
            ("文号 Number", policy.number or "—"),
            ("发布机关 Issuer", str(policy.issuer) if policy.issuer else "—"),
            ("条款编号 Clause id", clause.id),
            ("条文 Article", clause.article),
            ("条款名称 Clause title", f"{clause.title.zh}\n{clause.title.en}"),
            ("原文 Source text", clause.source),
        ]
        r = 4
        for label, value in rows:
            self.text(s, f"A{r}", label, font=_BOLD)
            self.text(s, f"B{r}", value, span=3, font=_SMALL if label.startswith("原文") else _BODY)
            if label.startswith("条款编号"):
                self.name("CLAUSE_ID", s, f"B{r}")
            r += 1
        for label, key, body, num, expect in (
            ("申报单位 Applicant", "cover_enterprise", f'{field_cell("enterprise")}&""', None, "国" * 30),
            ("项目名称 Project", "cover_project", f'{field_cell("project_name")}&""', None, "国" * 50),
            (
                "申报年度 Claim year",
                "cover_year",
                'IF(ISBLANK({0}),"",{0})'.format(field_cell("year")),
                COUNT_FORMAT,
                "0",
            ),
            ("申报金额（元） Amount (yuan)", "cover_award", "AWARD", MONEY_FORMAT, "0"),
            ("人民币（大写） In Chinese capitals", "cover_award_words", rmb.formula("AWARD"), None, "国" * 24),
        ):
            font = _BOLD if key.startswith("cover_award") else _BODY
            self.text(s, f"A{r}", label, font=_BOLD)
            self.formula(s, f"B{r}", key, body, num, span=3, expect=expect, font=font)
            r += 1
        self.text(s, f"A{r}", "金额性质 Kind of amount", font=_BOLD)
        self.text(
            s,
            f"B{r}",
            "最高限额（不超过：主管部门可核减） A ceiling (the office may grant less)"
            if clause.ceiling
            else "定额 The amount itself",
            span=3,
        )
        r += 1
        self.text(s, f"A{r}", "组合测算核定 Granted in the portfolio", font=_BOLD)
        self.locked_slot(s, f"B{r}", "granted_note", "text", span=3, expect="国" * 200, font=_SMALL)
        r += 2
        # signature and seal: room for a signature and a company seal (about 4 cm across)
        self.text(s, f"A{r}", "法定代表人（签字）\nLegal representative (signature)", font=_BOLD)
        self.put(s, f"B{r}", None)
        self.text(s, f"C{r}", "单位（盖章）\nSeal of the enterprise", font=_BOLD)
        self.put(s, f"D{r}", None)
        self.fixed[(s, r)] = 118.0
        r += 1
        self.text(s, f"A{r}", "日期 Date", font=_BOLD)
        self.text(s, f"B{r}", "        年      月      日", span=3)
        self.fixed[(s, r)] = 26.0
        r += 2
        for line in (
            "说明：本表按政策条款定义生成；“奖励测算”表中的金额为公式，修改申报内容后自动重算。"
            "附件清单仅供参考，以主管部门发布的办事指南为准。",
            "Note: generated from the clause's definition; the award is a live formula that recalculates when an input "
            "changes. The attachment list is indicative: the office's guide (办事指南) prevails.",
        ):
            self.text(s, f"A{r}", line, box=False, span=4, font=_SMALL)
            r += 1

    def applicant(self) -> None:
        cc, s = self.cc, 1
        self.text(s, "A1", "申报单位信息 Enterprise", font=_SUBTITLE, box=False, span=3)
        r = 3
        for key in common().form["applicant"]:  # common.yaml: the fields, their labels and cell names
            field = fields()[key]
            self.text(s, f"A{r}", f"{field.label.zh} {field.label.en}", font=_BOLD)
            if key == "zone":
                spec = cc.specs["zone"]
                longest = max((lab.zh for lab in spec.values.values()), key=len)
                self.slot(s, f"B{r}", key, "choice", name=field.cell, expect=longest)
                self.input_validation(s, f"B{r}", "zone", spec, label_ref=f"C{r}")
            else:
                self.slot(
                    s, f"B{r}", key, SLOT_KINDS[field.kind], name=field.cell, span=2, expect=_EXPECT.get(key, "0")
                )
            if key == "uscc":
                dv = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True)
                dv.error, dv.showErrorMessage = "统一社会信用代码须为18位 / 18 characters", True
                self.validate(s, f"B{r}", dv)
            r += 1
        r += 1
        self.text(s, f"A{r}", "项目信息 Project", font=_SUBTITLE, box=False, span=3)
        r += 1
        for key in common().form["project"]:
            field = fields()[key]
            kind, number_format = SLOT_KINDS[field.kind], _FORMATS.get(field.kind)
            label, name = f"{field.label.zh} {field.label.en}", field.cell
            if field.kind == "money":  # a payment input of the clause's schedule has its own label and name
                spec = cc.schedule.inputs.get(key)
                zh, en = (spec.label.zh, spec.label.en) if spec else (field.label.zh, field.label.en)
                label, name = f"{zh}（元） {en} (yuan)", f"in_{key}" if spec else field.cell
            self.text(s, f"A{r}", label, font=_BOLD)
            self.slot(s, f"B{r}", key, kind, number_format, name=name, span=2, expect=_EXPECT.get(key, "0"))
            if kind == "date":
                dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
                dv.error, dv.showErrorMessage = "须为日期 / must be a date", True
                self.validate(s, f"B{r}", dv)
            elif key == "year":
                dv = DataValidation(
                    type="whole", operator="between", formula1="2000", formula2="2100", allow_blank=True
                )
                dv.error, dv.showErrorMessage = "须为年份 / must be a year", True
                self.validate(s, f"B{r}", dv)
            elif key in cc.specs:
                self.input_validation(s, f"B{r}", key, cc.specs[key])
            r += 1
        if self.policy.id == "etown" and "investment_yuan" in self.clause.inputs:
            investment = self.clause.inputs["investment_yuan"].label.zh
            self.text(s, f"A{r}", "不含税实际支付金额（元） Tax-exclusive amount paid (yuan)", font=_BOLD)
            self.formula(s, f"B{r}", "paid_excl_tax", "in_investment_yuan", MONEY_FORMAT)
            self.text(
                s, f"C{r}", f"即“申报内容”中的{investment}（七(二)4） the investment on the Inputs sheet", font=_SMALL
            )

    def inputs(self) -> None:
        cc, clause, s = self.cc, self.clause, 2
        self.text(s, "A1", f"申报内容 {clause.title.zh}", font=_SUBTITLE, box=False, span=4)
        self.text(
            s,
            "A2",
            f"Inputs: {clause.title.en}. 黄色单元格由申报单位填写，其余为条款定义生成的内容。"
            "Yellow cells are the applicant's; the others come from the clause's definition.",
            box=False,
            span=4,
            font=_SMALL,
        )
        r = 4
        for col, head in zip("ABCD", ("项目 Item", "单位 Unit", "填报值 Value", "说明 Meaning / allowed")):
            self.text(s, f"{col}{r}", head, font=_HEADING, fill=_HEAD, align=_CENTER)
        r += 1
        for name, spec in clause.inputs.items():
            self.input_row(s, r, name, spec)
            r += 1
        r += 1
        self.sections.setdefault(s, []).append(r)
        self.text(s, f"A{r}", "申报条件 Conditions", font=_SECTION, box=False, span=4)
        r += 1
        self.text(
            s,
            f"A{r}",
            "请逐项回答“是”或“否”：答“否”则不符合申报条件；空白按假定满足处理，审核时须答“是”。"
            "Answer each 是 (yes) or 否 (no): no makes the claim ineligible; blank is assumed, "
            "a reviewer requires yes.",
            box=False,
            span=4,
            font=_SMALL,
        )
        r += 1
        for col, head in zip("ABCD", ("条件", "依据 Cites", "回答 Answer", "Condition")):
            self.text(s, f"{col}{r}", head, font=_HEADING, fill=_HEAD, align=_CENTER)
        r += 1
        for check in cc.definitions:  # the core's checks: each condition answered in its row
            if check.kind not in ("condition", "excluded"):
                continue
            name = check.name
            self.text(s, f"A{r}", check.subject.zh)
            self.text(s, f"B{r}", check.cites, align=_CENTER)
            self.slot(s, f"C{r}", name, "yesno", name=f"in_{name}")
            self.cells_center(s, f"C{r}")
            self.input_validation(s, f"C{r}", name, _BOOL)
            note = check.subject.en
            if check.waiver is not None:
                note += f"\n以下情形免于此条件 Waived when: {describe(cc, check.waiver)}"
            self.text(s, f"D{r}", note, font=_SMALL)
            r += 1

    def cells_center(self, s: int, ref: str) -> None:
        self.sheets[s][ref].alignment = _CENTER

    def input_row(self, s: int, r: int, name: str, spec: InputSpec) -> None:
        self.text(s, f"A{r}", f"{spec.label.zh}\n{spec.label.en}")
        self.text(
            s,
            f"B{r}",
            spec.unit or {"ratio": "比例 fraction", "bool": "是/否", "choice": "选择 choice"}.get(spec.type, ""),
            align=_CENTER,
        )
        number_format = {
            "money": MONEY_FORMAT,
            "integer": COUNT_FORMAT,
            "number": NUMBER_FORMAT,
            "ratio": NUMBER_FORMAT,
        }.get(spec.type)
        kind = slot_kind(spec)
        expect = (
            max((lab.zh for lab in spec.values.values()), key=len)
            if spec.type == "choice"
            else "活动名称" * 5
            if spec.type == "text"
            else "0"
        )
        self.slot(s, f"C{r}", name, kind, number_format, name=f"in_{name}", expect=expect)
        if spec.type == "bool":
            self.cells_center(s, f"C{r}")
        self.input_validation(s, f"C{r}", name, spec, label_ref=f"D{r}")
        if spec.type != "choice":
            help_text = "文本 text" if spec.type == "text" else bounds_text(spec)
            if spec.default is not None:
                help_text += f"; 空白按默认值 blank means {default_text(spec)}"
            if spec.fact:
                help_text += "; 门槛事实：空白按假定满足 threshold fact: blank is assumed"
            if spec.help:
                help_text += f"; {spec.help}"
            self.text(s, f"D{r}", help_text, font=_SMALL)

    def award(self) -> None:
        cc, clause, s = self.cc, self.clause, 3
        self.text(s, "A1", f"奖励测算 Award: {clause.id} 〔{clause.article}〕", font=_SUBTITLE, box=False, span=4)
        r = 3
        for col, head in zip("ABCD", ("参数 Parameter（条文 cites）", "类型 Kind", "单位 Unit", "数值 Value")):
            self.text(s, f"{col}{r}", head, font=_HEADING, fill=_HEAD, align=_CENTER)
        r += 1
        for p in clause.parameters.values():
            self.text(s, f"A{r}", (f"{p.label}: " if p.label else "") + p.cites, font=_SMALL)
            self.text(s, f"B{r}", KIND_WORDS[p.kind], align=_CENTER)
            self.text(s, f"C{r}", p.unit or "", align=_CENTER)
            percent = show_parameter(p).endswith("%")
            number_format = (
                ("0%" if p.value * 100 == int(p.value * 100) else "0.0##%")
                if percent
                else (
                    MONEY_FORMAT
                    if p.kind in ("cap", "floor", "fixed", "unit_price") and p.unit in (None, "元")
                    else ("#,##0" if p.value == p.value.to_integral_value() else NUMBER_FORMAT)
                )
            )
            self.put(s, f"D{r}", float(p.value), fmt_=number_format, align=_RIGHT)
            r += 1
        r += 1
        self.text(s, f"A{r}", "资格检查 Eligibility", font=_HEADING, fill=_HEAD, align=_CENTER)
        self.text(s, f"B{r}", "依据 Rule", font=_HEADING, fill=_HEAD, span=2, align=_CENTER)
        self.text(s, f"D{r}", "结果 Met", font=_HEADING, fill=_HEAD, align=_CENTER)
        r += 1
        checks: list[str] = []  # the core's checks (``cc.definitions``) as formulas: zone, validity, conditions, rules
        zone = cc.definition("zone")
        labels = cc.specs["zone"].values
        zones = ",".join(f'in_zone="{labels[z].zh}"' for z in cc.allowed_zones)
        self.text(s, f"A{r}", f"{zone.subject.zh} {zone.subject.en}")
        self.text(
            s,
            f"B{r}",
            f"{'；'.join(labels[z].zh for z in cc.allowed_zones)}（空白按假定 blank assumed）",
            span=2,
            font=_SMALL,
        )
        self.formula(s, f"D{r}", "check_zone", yes_no(f"OR(ISBLANK(in_zone),{zones})"), align=_CENTER)
        checks.append(f"D{r}")
        r += 1
        first, last = validity_years(cc.policy)
        year = field_cell("year")
        bounds = [f"{year}>={first}"] if first else []
        bounds += [f"{year}<={last}"] if last else []
        self.text(s, f"A{r}", "政策有效期 Validity")
        self.text(s, f"B{r}", f"{first or '—'} – {last or '—'}（按申报年度 by claim year）", span=2, font=_SMALL)
        test = f"OR(ISBLANK({year}),AND({','.join(bounds)}))" if bounds else "TRUE"
        self.formula(s, f"D{r}", "check_year", yes_no(test), align=_CENTER)
        checks.append(f"D{r}")
        r += 1
        parts = []
        for condition in (d for d in cc.definitions if d.kind in ("condition", "excluded")):
            part = f'in_{condition.name}<>"{NO}"'
            if condition.waiver is not None:
                part = f"OR({excel(cc, condition.waiver)},{part})"
            parts.append(part)
        self.text(s, f"A{r}", "申报条件 Conditions")
        self.text(s, f"B{r}", "无“否”回答 no condition answered 否 (no)", span=2, font=_SMALL)
        self.formula(
            s, f"D{r}", "check_conditions", yes_no(f"AND({','.join(parts)})") if parts else f'"{YES}"', align=_CENTER
        )
        checks.append(f"D{r}")
        r += 1
        for i, rule in enumerate(d for d in cc.definitions if d.rule is not None):
            self.text(s, f"A{r}", f"{rule.subject.zh}\n{rule.subject.en}", font=_SMALL)
            self.text(s, f"B{r}", f"{describe(cc, rule.test)}〔{rule.cites}〕", span=2, font=_SMALL)
            self.formula(s, f"D{r}", f"rule_{i}", yes_no(rule_formula(cc, rule.test)), align=_CENTER)
            self.layout.rule_keys.append(f"rule_{i}")
            checks.append(f"D{r}")
            r += 1
        self.text(s, f"A{r}", "符合申报条件 Eligible", font=_BOLD)
        self.text(s, f"B{r}", "以上均为“是” all of the above", span=2, font=_SMALL)
        self.formula(
            s,
            f"D{r}",
            "eligible",
            yes_no(f"AND({','.join(c + '=' + chr(34) + YES + chr(34) for c in checks)})"),
            name="ELIGIBLE",
            align=_CENTER,
            font=_BOLD,
        )
        eligible = f"D{r}"
        r += 2
        self.text(s, f"A{r}", "计算公式 Formula", font=_BOLD)
        self.text(s, f"B{r}", describe(cc, cc.amount_node), span=3, font=_SMALL)
        r += 1
        self.text(s, f"A{r}", "测算金额（元） Computed (yuan)", font=_BOLD)
        self.text(s, f"B{r}", "按条款公式，四舍五入到分 by the clause's formula, to the cent", span=2, font=_SMALL)
        self.formula(
            s, f"D{r}", "computed", f"ROUND({excel(cc, cc.amount_node)},2)", MONEY_FORMAT, name="COMPUTED", align=_RIGHT
        )
        computed = f"D{r}"
        r += 1
        self.text(s, f"A{r}", "奖励金额（元） Award (yuan)", font=_BOLD)
        self.text(
            s,
            f"B{r}",
            "不符合条件为0 0 when not eligible; "
            + ("最高限额 a ceiling" if clause.ceiling else "定额 the amount itself"),
            span=2,
            font=_SMALL,
        )
        self.formula(
            s,
            f"D{r}",
            "award",
            f'IF({eligible}="{YES}",{computed},0)',
            MONEY_FORMAT,
            name="AWARD",
            align=_RIGHT,
            font=_BOLD,
        )
        r += 2
        schedule = cc.schedule
        self.text(
            s,
            f"A{r}",
            f"拨付安排 Payment: {schedule.label.zh} / {schedule.label.en} 〔{schedule.cites}〕",
            font=_SECTION,
            box=False,
            span=4,
        )
        r += 1
        for col, head in zip("ABCD", ("阶段 Stage", "比例 Share", "金额（元） Amount", "状态 Status")):
            self.text(s, f"{col}{r}", head, font=_HEADING, fill=_HEAD, align=_CENTER)
        r += 1
        amounts: list[str] = []
        for i, stage in enumerate(schedule.stages):
            self.text(s, f"A{r}", str(stage.label))
            self.put(s, f"B{r}", float(stage.share), fmt_="0%", align=_CENTER)
            last = i == len(schedule.stages) - 1
            body = (
                f"AWARD-{'-'.join(amounts)}"
                if last and amounts
                else ("AWARD" if last else f"ROUND(AWARD*{format(stage.share.normalize(), 'f')},2)")
            )
            self.formula(s, f"C{r}", f"stage_{i}_amount", body, MONEY_FORMAT, align=_RIGHT)
            amounts.append(f"C{r}")
            if stage.due_when:
                node = expr.parse(stage.due_when)
                blanks = ",".join(f"ISBLANK(in_{n})" for n in expr.names(node))
                status = f'IF(OR({blanks}),"{PENDING}",IF({excel(cc, node)},"{DUE}","{PENDING}"))'
            else:
                status = f'"{DUE}"'
            self.formula(s, f"D{r}", f"stage_{i}_status", status, align=_CENTER, expect=PENDING)
            self.layout.stage_keys.append((f"stage_{i}_amount", f"stage_{i}_status"))
            r += 1

    def attachments(self) -> None:
        s = 4
        self.text(s, "A1", "附件清单（参考） Attachments (indicative)", font=_SUBTITLE, box=False, span=3)
        self.text(
            s,
            "A2",
            "以主管部门发布的办事指南为准。The office's guide (办事指南) prevails over this list.",
            box=False,
            span=3,
            font=_SMALL,
        )
        r = 3
        for col, head in zip("ABC", ("序号 No.", "材料", "Document")):
            self.text(s, f"{col}{r}", head, font=_HEADING, fill=_HEAD, align=_CENTER)
        r += 1
        for i, (zh, en) in enumerate(attachment_list(self.cc), start=1):
            self.put(s, f"A{r}", i, align=_CENTER)
            self.text(s, f"B{r}", zh)
            self.text(s, f"C{r}", en)
            r += 1
        r += 1
        self.sections.setdefault(s, []).append(r)
        self.text(s, f"A{r}", "承诺书 Commitment", font=_SUBTITLE, box=False, span=3, align=_CENTER)
        r += 1
        self.text(s, f"A{r}", "申报单位 Applicant", font=_BOLD, span=2, box=False)
        self.formula(s, f"C{r}", "commit_enterprise", f'{field_cell("enterprise")}&""', box=False, expect="国" * 30)
        r += 1
        for zh, en in COMMITMENT:
            self.text(s, f"B{r}", zh, box=False)
            self.text(s, f"C{r}", en, box=False, font=_SMALL)
            r += 1
        r += 1
        for zh, en, points in (
            ("法定代表人（签字）：", "Legal representative (signature):", 40.0),
            ("单位（盖章）：", "Seal of the enterprise:", 118.0),
            ("日期：        年      月      日", "Date:", 26.0),
        ):
            self.text(s, f"B{r}", zh, box=False, font=_BOLD)
            self.text(s, f"C{r}", en, box=False)
            self.fixed[(s, r)] = points
            r += 1

    def meta(self) -> None:
        """What a reviewer needs to regenerate the template: versions and the clause (no paths, no commands)."""
        cc, s = self.cc, 6
        rows = [
            ("template_version", TEMPLATE_VERSION),
            ("generator", GENERATOR),
            ("clause_id", cc.clause.id),
            ("policy_title", cc.policy.title.zh),
            ("policy_encoding_version", cc.policy.encoding_version),
            ("policy_number", cc.policy.number or ""),
        ]
        self.text(s, "A1", "key", font=_BOLD)
        self.text(s, "B1", "value", font=_BOLD)
        for r, (k, v) in enumerate(rows, start=2):
            self.text(s, f"A{r}", k)
            self.text(s, f"B{r}", v)


_BOOL = InputSpec(type="bool", label={"zh": "是/否", "en": "yes/no"})
DUE, PENDING = "可兑现 due", "待条件 pending"

COMMITMENT = (
    (
        "本单位郑重承诺：所提交的申报材料真实、准确、完整、有效，不存在虚报、冒领、重复申报等情况。",
        "We solemnly declare that the materials submitted are true, accurate, complete and valid, with nothing falsely reported, wrongly claimed or claimed twice.",
    ),
    (
        "同一项目未重复享受同类政策支持（政策另有规定的除外），并遵守政策关于“从优不重复”的规定。",
        "The same project has not received support of the same kind twice (unless the policy allows it), and the policy's best-one-only rules are observed.",
    ),
    (
        "本单位符合申报条件中所列各项要求；如情况发生变化，将及时告知主管部门。",
        "We meet every condition listed in this declaration and will inform the office of any change.",
    ),
    (
        "如有不实，本单位愿承担相应法律责任，并退回已获得的资金。",
        "Should any of this be untrue, we accept the legal consequences and will return the funds received.",
    ),
)


def default_text(spec: InputSpec) -> str:
    if spec.type == "bool":
        return YES if spec.default else NO
    if spec.type == "choice":
        return spec.values[spec.default].zh
    return fmt(spec.default)


def bounds_text(spec: InputSpec) -> str:
    parts = []
    if spec.lower is not None:
        parts.append(f"{'>' if spec.min_exclusive else '≥'} {fmt(spec.lower)}")
    if spec.upper is not None:
        parts.append(f"{'<' if spec.max_exclusive else '≤'} {fmt(spec.upper)}")
    if spec.type == "bool":
        return "是 yes / 否 no"
    word = {"integer": "整数 whole number", "ratio": "比例 fraction (0.3 = 30%)"}.get(spec.type, "数字 number")
    return f"{word}" + (f", {' and '.join(parts)}" if parts else "")


def attachment_list(cc: CompiledClause) -> list[tuple[str, str]]:
    """An indicative list by the kind of clause: its inputs, conditions and payment schedule say which."""
    names = set(cc.clause.inputs)
    text = " ".join([cc.clause.source, *(str(c.label) for c in cc.clause.conditions.values())])
    out = [
        ("营业执照（副本）复印件", "Copy of the business licence"),
        ("本申报表（签字盖章）及承诺书", "This declaration, signed and sealed, with the commitment"),
    ]
    if names & {"investment_yuan", "rd_investment_yuan", "operating_cost_yuan", "funding_yuan"}:
        out.append(
            ("项目投资明细、合同及发票、付款凭证", "Investment breakdown, contracts, invoices and payment vouchers")
        )
    if cc.schedule.inputs:
        out.append(
            (
                "开工证明；完工验收材料及含税支付凭证（第二批兑现）",
                "Proof of start; completion acceptance and tax-inclusive payment records (second instalment)",
            )
        )
    if (
        names & {"municipal_award_yuan", "higher_award_yuan", "municipal_subsidy_yuan", "higher_subsidy_yuan"}
        or "市级" in text
    ):
        out.append(
            (
                "市级（或国家级）奖励、补助资金下达通知或拨付凭证",
                "The municipal (or national) award notice or proof of the funds",
            )
        )
    if names & {"energy_saved_tce"}:
        out.append(("节能量审核报告", "Energy-saving verification report"))
    if names & {"loan_principal_yuan", "loan_rate"}:
        out.append(("贷款合同、放款凭证及付息凭证", "Loan contract, drawdown and interest-payment records"))
    if names & {"nev_price_yuan", "vehicles", "machine_price_yuan", "machines", "fleet_size", "nev_count"}:
        out.append(
            (
                "车辆或机械购置发票、登记证明及淘汰（报废）证明",
                "Purchase invoices, registration and scrapping certificates of the vehicles or machines",
            )
        )
    if names & {"capacity_kw", "green_kwh", "self_generation_kwh", "grid_purchase_kwh", "consumption_kwh"}:
        out.append(
            ("并网验收或电量结算、绿电交易凭证", "Grid-connection acceptance, metering or green-power trading records")
        )
    choices = [n for n, sp in cc.clause.inputs.items() if sp.type == "choice"]
    if not names - {"vehicles", "titles", "machines"} or any(
        k in " ".join(choices) for k in ("honour", "title", "rating", "level", "grade", "award", "upgraded")
    ):
        out.append(("获评称号、认定或认证证书（文件）", "The title, rating or certificate (document) awarded"))
    out.append(("信用中国查询记录等其他材料", "Credit-record printout and other materials the guide asks for"))
    return out


@cache
def build_cached(clause_id: str) -> tuple[Workbook, Layout]:
    return _Builder(clause_id).build()


def build(clause_id: str) -> tuple[Workbook, Layout]:
    """The template workbook of a monetary clause and its layout (a fresh workbook each call)."""
    cc = compiled(clause_id)
    if cc.amount is None:
        raise ValueError(f"{clause_id} is a non-monetary article: no declaration of an amount")
    return _Builder(cc.clause.id).build()


#: Defined names of a template that are no place a declaration fills.
NOT_LAYOUT = ("CLAUSE_ID",)
LOCKED_SLOTS = {"granted_note": "text"}  # slots the generator fills that have no input behind them


def defined_names(xlsx: bytes) -> dict[str, tuple[int, str]]:
    """A template's workbook-level defined names: name -> (sheet index, cell), print areas left out."""
    from defusedxml.ElementTree import fromstring

    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        root = fromstring(archive.read("xl/workbook.xml"))
    out = {}
    for element in root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}definedName"):
        name, text = element.get("name", ""), element.text or ""
        if name.startswith("_xlnm.") or element.get("localSheetId") is not None:
            continue
        sheet, ref = text.rsplit("!", 1)
        out[name] = (SHEETS.index(sheet.strip("'").replace("''", "'")), ref.replace("$", ""))
    return out


def layout_from_names(clause_id: str, names: dict[str, tuple[int, str]]) -> Layout:
    """The layout a template's defined names say: a claim field's cell name (common.yaml), ``in_<input>``,
    a locked slot, or else a formula cell named by its key (``ELIGIBLE``, ``AWARD`` upper-case)."""
    cc = compiled(clause_id)
    by_cell = {f.cell: key for key, f in fields().items() if f.cell}
    lay = Layout(cc.id)
    for name, (s, ref) in names.items():
        if name in NOT_LAYOUT:
            continue
        if name in by_cell:
            key = by_cell[name]
            lay.slots[key] = (s, ref, SLOT_KINDS[fields()[key].kind])
        elif name.startswith("in_"):
            lay.slots[name[3:]] = (s, ref, slot_kind(cc.specs[name[3:]]))
        elif name in LOCKED_SLOTS:
            lay.slots[name] = (s, ref, LOCKED_SLOTS[name])
        else:
            lay.formulas[name.lower()] = (s, ref)
    lay.choice_labels = {k: k.removeprefix("label_") for k in lay.formulas if k.startswith("label_")}
    rules = sorted((int(m[1]), k) for k in lay.formulas if (m := re.fullmatch(r"rule_(\d+)", k)))
    lay.rule_keys = [k for _, k in rules]
    stages = sorted(int(m[1]) for k in lay.formulas if (m := re.fullmatch(r"stage_(\d+)_amount", k)))
    lay.stage_keys = [(f"stage_{i}_amount", f"stage_{i}_status") for i in stages]
    return lay


@cache
def layout(clause_id: str) -> Layout:
    """Where a declaration of the clause puts its values: what the committed template's defined names say
    (a fraction of a millisecond; building the workbook to learn it costs 40 ms), else the generator's."""
    cid = compiled(clause_id).clause.id
    path = TEMPLATES / template_name(cid)
    if not path.exists():  # a policy added from GREEN_AWARD_POLICY_DIRS: no template is committed for it
        return build_cached(cid)[1]
    return layout_from_names(cid, defined_names(path.read_bytes()))


def deterministic(xlsx: bytes, title: str) -> bytes:
    """The same workbook with fixed entry times and document properties (no current time in the file)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = CORE_XML.format(title=title).encode()
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data, compresslevel=9)
    return out.getvalue()


def template_bytes(clause_id: str) -> bytes:
    wb, _ = build(clause_id)
    raw = io.BytesIO()
    wb.save(raw)
    return deterministic(raw.getvalue(), f"申报表 Declaration {clause_id}")


def monetary_clause_ids() -> list[str]:
    from policies.engine import all_clauses

    return [c.id for _, c in all_clauses() if c.monetary]


def write_templates(folder: Path = TEMPLATES, clause_ids: list[str] | None = None) -> list[Path]:
    """(Re)write the committed templates; stale ones of clauses no longer monetary are removed."""
    ids = clause_ids or monetary_clause_ids()
    written = []
    for clause_id in ids:
        path = folder / template_name(clause_id)
        path.write_bytes(template_bytes(clause_id))
        written.append(path)
    if clause_ids is None:
        keep = {p.name for p in written}
        for old in folder.glob("declaration_*.xlsx"):
            if old.name not in keep:
                old.unlink()
    return written


if __name__ == "__main__":  # python -m addin.declaration_template: regenerate the committed templates
    for p in write_templates():
        print(p)
