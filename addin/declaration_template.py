"""The declaration template (申报表) of one clause, generated from its definition in ``policies/data``.

``build(clause_id)`` makes the workbook with openpyxl and returns it with its ``Layout``: where each
value a declaration fills goes (``slots``) and which formula cells carry a cached value
(``formulas``). ``template_bytes`` saves it deterministically (fixed zip times, fixed document
properties); the committed ``workbook_templates/declaration_<clause>.xlsx`` files are exactly that,
and a test holds them equal to what this module makes.

Cell conventions (the core reads every one of them the same way as the rendered formula):

* a yes/no cell (condition or yes/no input) holds 是 or 否; formulas read ``(cell="是")``, and a
  condition left blank is assumed met, as the core assumes it;
* a choice cell holds the canonical value (``self``, ``A``, ``1``), picked from a list; the
  bilingual label is shown beside it by a lookup; formulas read ``(cell&"")`` so that a number
  typed into a choice (1 for audit level 1) compares as its text, as the core reads it;
* an input with a default reads as the default when blank (``IF(ISBLANK(cell),default,cell)``);
* a rule over a threshold fact (``fact: true``) holds when a fact it names is blank (assumed);
* numbers are doubles; a ratio compared with a threshold is cross-multiplied by the clause's own
  expression (``at_least(x, t)``): exact in the core, within relative 1e-9 in the formula.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from policies import expr
from policies.engine import CompiledClause, compiled
from policies.numbers import fmt
from policies.schema import ZONES, InputSpec

TEMPLATE_VERSION = "1"
GENERATOR = "green-award addin.declaration_template"
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
NUMBER_FORMAT = "#,##0.######"
DATE_FORMAT = "yyyy-mm-dd"

SHEETS = ("封面 Cover", "申报单位与项目 Applicant", "申报内容 Inputs", "奖励测算 Award", "附件与承诺 Attachments", "lists", "meta")

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD = PatternFill("solid", fgColor="DDEBF7")
_INPUT = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="BFBFBF")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_OPEN = Protection(locked=False)


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
    choice_labels: dict[str, str] = field(default_factory=dict)  # formula key -> input whose label it shows
    rule_keys: list[str] = field(default_factory=list)
    stage_keys: list[tuple[str, str]] = field(default_factory=list)  # (amount key, status key)


# --- references: how a formula reads a name ---------------------------------------------------------


def input_ref(name: str, spec: InputSpec) -> str:
    """How the rendered formula reads input ``name`` (the cell is the defined name ``in_<name>``)."""
    cell = f"in_{name}"
    if spec.type == "bool":
        return f'({cell}<>"{NO}")' if spec.default is True else f'({cell}="{YES}")'
    if spec.type == "choice":
        if spec.default is not None:
            return f'IF(ISBLANK({cell}),"{spec.default}",{cell}&"")'
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


def rule_formula(cc: CompiledClause, node: expr.Node) -> str:
    """A requires rule as a formula: true when a threshold fact it names is blank (assumed, as the core)."""
    body = expr.to_excel(node, referrer(cc))
    facts = [n for n in expr.names(node) if n in cc.clause.inputs and cc.clause.inputs[n].fact]
    if facts:
        blanks = ",".join(f"ISBLANK(in_{n})" for n in facts)
        return f"IF(OR({blanks}),TRUE,{body})"
    return body


def yes_no(test: str) -> str:
    return f'IF({test},"{YES}","{NO}")'


def validity_years(cc: CompiledClause) -> tuple[int | None, int | None]:
    window = cc.policy.validity
    start = window.start.year if window.start else window.start_year
    return start, (window.end.year if window.end else None)


# --- the workbook -----------------------------------------------------------------------------------


class _Builder:
    def __init__(self, clause_id: str):
        self.cc = cc = compiled(clause_id)
        self.clause, self.policy = cc.clause, cc.policy
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.sheets = [self.wb.create_sheet(title) for title in SHEETS]
        self.layout = Layout(clause_id)
        self.validations: dict[tuple[int, str], DataValidation] = {}
        self.list_column = 0

    # cells
    def put(self, s: int, ref: str, value, *, bold=False, wrap=False, fmt_=None, box=True, fill=None, font=None):
        cell = self.sheets[s][ref]
        cell.value = value
        if bold:
            cell.font = _BOLD
        if font is not None:
            cell.font = font
        if wrap:
            cell.alignment = _WRAP
        if fmt_:
            cell.number_format = fmt_
        if box:
            cell.border = _BOX
        if fill is not None:
            cell.fill = fill
        return cell

    def text(self, s: int, ref: str, value: str, **kw):
        """A label: a string that is never a formula, even when it starts with '='."""
        cell = self.put(s, ref, value, **kw)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        return cell

    def slot(self, s: int, ref: str, key: str, kind: str, number_format: str | None = None, name: str | None = None):
        cell = self.put(s, ref, None, fill=_INPUT, fmt_=number_format or ("@" if kind in ("text",) else None))
        cell.protection = _OPEN
        self.layout.slots[key] = (s, ref, kind)
        if name:
            self.name(name, s, ref)
        return cell

    def locked_slot(self, s: int, ref: str, key: str, kind: str, **kw):
        """A value the generator fills that the applicant does not edit (the granted amount note)."""
        self.put(s, ref, None, **kw)
        self.layout.slots[key] = (s, ref, kind)

    def formula(self, s: int, ref: str, key: str, body: str, number_format: str | None = None, name: str | None = None):
        self.put(s, ref, "=" + body, fmt_=number_format, bold=key == "award")
        self.layout.formulas[key] = (s, ref)
        if name:
            self.name(name, s, ref)

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

    def list_range(self, title: str, values: list[tuple[str, str]]) -> str:
        """Write (value, label) pairs to the hidden lists sheet; the range of the values and of the pairs."""
        ws = self.sheets[5]
        c0 = 2 * self.list_column + 1
        self.list_column += 1
        a, b = ws.cell(1, c0).column_letter, ws.cell(1, c0 + 1).column_letter
        ws.cell(1, c0, title)
        for i, (value, label) in enumerate(values, start=2):
            ws.cell(i, c0, value).data_type = "s"
            ws.cell(i, c0 + 1, label)
        last = len(values) + 1
        return f"{q(SHEETS[5])}!${a}$2:${a}${last}", f"{q(SHEETS[5])}!${a}$2:${b}${last}"

    # pieces
    def input_validation(self, s: int, ref: str, name: str, spec: InputSpec) -> None:
        label = spec.label.zh[:30]
        if spec.type == "text":
            return  # free text: nothing to validate in the cell
        if spec.type == "bool":
            dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
            dv.error = "请选择 是 或 否 / choose 是 (yes) or 否 (no)"
        elif spec.type == "choice":
            values = list(spec.values)
            values_range, pairs = self.list_range(name, [(v, str(l)) for v, l in spec.values.items()])
            inline = ",".join(values)
            if len(inline) <= LIST_LIMIT and not any("," in v or '"' in v for v in values):
                dv = DataValidation(type="list", formula1=f'"{inline}"', allow_blank=True)
            else:
                dv = DataValidation(type="list", formula1=values_range, allow_blank=True)
            dv.error = "请从列表中选择 / choose a value from the list"
            self.formula(s, "E" + ref[1:], f"label_{name}", f'IFERROR(VLOOKUP({ref}&"",{pairs},2,FALSE),"")')
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
        cc, clause, policy = self.cc, self.clause, self.policy
        for ws in self.sheets:
            ws.protection.sheet = True  # no password: against accidental edits
        self.cover()
        self.applicant()
        self.inputs()
        self.award()
        self.attachments()
        self.meta()
        for s, widths in enumerate(((22, 34, 70), (22, 34, 36, 44), (26, 34, 10, 18, 40, 26), (30, 40, 18, 18, 44),
                                    (8, 70, 50), (24, 40), (28, 60))):
            for i, w in enumerate(widths):
                self.sheets[s].column_dimensions[chr(65 + i)].width = w
        self.sheets[5].sheet_state = "hidden"
        self.sheets[6].sheet_state = "hidden"
        props = self.wb.properties
        props.creator, props.title = "green-award", f"申报表 Declaration {clause.id}"
        self.wb.calculation.fullCalcOnLoad = True
        return self.wb, self.layout

    def cover(self) -> None:
        cc, clause, policy, s = self.cc, self.clause, self.policy, 0
        self.text(s, "A1", f"{policy.title.zh} 项目申报表", font=_TITLE, box=False)
        self.text(s, "A2", f"Declaration under: {policy.title.en}", box=False)
        rows = [
            ("政策", "Policy", f"{policy.title.zh}\n{policy.title.en}"),
            ("文号", "Number", policy.number or "—"),
            ("发布机关", "Issuer", str(policy.issuer) if policy.issuer else "—"),
            ("条款编号", "Clause id", clause.id),
            ("条文", "Article", clause.article),
            ("条款名称", "Clause title", f"{clause.title.zh}\n{clause.title.en}"),
            ("原文", "Source text", clause.source),
        ]
        r = 4
        for zh, en, value in rows:
            self.text(s, f"A{r}", zh, bold=True)
            self.text(s, f"B{r}", en)
            self.text(s, f"C{r}", value, wrap=True)
            if en == "Clause id":
                self.name("CLAUSE_ID", s, f"C{r}")
            r += 1
        for zh, en, key, body, num in (
            ("申报单位", "Applicant", "cover_enterprise", "ENTERPRISE_NAME&\"\"", None),
            ("项目名称", "Project", "cover_project", "PROJECT_NAME&\"\"", None),
            ("申报年度", "Claim year", "cover_year", "IF(ISBLANK(CLAIM_YEAR),\"\",CLAIM_YEAR)", "0"),
            ("申报金额（元）", "Declared amount (yuan)", "cover_award", "AWARD", MONEY_FORMAT),
        ):
            self.text(s, f"A{r}", zh, bold=True)
            self.text(s, f"B{r}", en)
            self.formula(s, f"C{r}", key, body, num)
            r += 1
        self.text(s, f"A{r}", "金额性质", bold=True)
        self.text(s, f"B{r}", "Kind of amount")
        self.text(s, f"C{r}", "最高限额（不超过：主管部门可核减） A ceiling (the office may grant less)" if clause.ceiling
                  else "定额 The amount itself", wrap=True)
        r += 1
        self.text(s, f"A{r}", "组合测算核定", bold=True)
        self.text(s, f"B{r}", "Granted in the portfolio")
        self.locked_slot(s, f"C{r}", "granted_note", "text", wrap=True)
        r += 2
        for line in (
            "说明：本表由 green-award 按政策条款定义生成；“奖励测算”表中的金额为公式，修改申报内容后自动重算。",
            "Note: generated by green-award from the clause's definition; the award is a live formula that recalculates when an input changes.",
            "附件清单仅供参考，以主管部门发布的办事指南为准。The attachment list is indicative: the office's guide (办事指南) prevails.",
        ):
            self.text(s, f"A{r}", line, box=False)
            r += 1

    def applicant(self) -> None:
        cc, s = self.cc, 1
        self.text(s, "A1", "申报单位信息 Enterprise", font=_TITLE, box=False)
        r = 3
        for zh, en, key, name, kind in (
            ("企业名称", "Enterprise name", "enterprise", "ENTERPRISE_NAME", "text"),
            ("统一社会信用代码", "Unified social credit code", "uscc", "USCC", "text"),
            ("注册地址", "Address", "address", "ADDRESS", "text"),
            ("所在区域", "Zone", "zone", "in_zone", "choice"),
            ("联系人", "Contact", "contact", "CONTACT", "text"),
            ("联系电话", "Phone", "phone", "PHONE", "text"),
        ):
            self.text(s, f"A{r}", zh, bold=True)
            self.text(s, f"B{r}", en)
            self.slot(s, f"C{r}", key, kind, name=name)
            if key == "zone":
                self.input_validation(s, f"C{r}", "zone", cc.specs["zone"])
                # the lookup lands in column E by input_validation's convention; move it beside the value
                self.move_label("label_zone", s, f"E{r}", f"D{r}")
            if key == "uscc":
                dv = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True)
                dv.error, dv.showErrorMessage = "统一社会信用代码须为18位 / 18 characters", True
                self.validate(s, f"C{r}", dv)
            r += 1
        r += 1
        self.text(s, f"A{r}", "项目信息 Project", font=_TITLE, box=False)
        r += 2
        rows = [
            ("项目编号", "Project id", "project", "PROJECT_ID", "text", None),
            ("项目名称", "Project name", "project_name", "PROJECT_NAME", "text", None),
            ("申报年度", "Claim year", "year", "CLAIM_YEAR", "number", "0"),
            ("开工日期", "Start date", "start_date", "START_DATE", "date", DATE_FORMAT),
            ("完工日期", "Completion date", "completion_date", "COMPLETION_DATE", "date", DATE_FORMAT),
        ]
        for name in ("total_incl_tax_yuan", "paid_incl_tax_yuan"):
            spec = cc.schedule.inputs.get(name)
            label = spec.label if spec else None
            zh = label.zh if label else {"total_incl_tax_yuan": "含税项目总投资", "paid_incl_tax_yuan": "含税实际支付金额"}[name]
            en = label.en if label else {"total_incl_tax_yuan": "Tax-inclusive total investment",
                                         "paid_incl_tax_yuan": "Tax-inclusive amount paid"}[name]
            rows.append((zh + "（元）", en + " (yuan)", name, f"in_{name}" if spec else name.upper(), "number", MONEY_FORMAT))
        for zh, en, key, name, kind, number_format in rows:
            self.text(s, f"A{r}", zh, bold=True)
            self.text(s, f"B{r}", en)
            self.slot(s, f"C{r}", key, kind, number_format, name=name)
            if kind == "date":
                dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
                dv.error, dv.showErrorMessage = "须为日期 / must be a date", True
                self.validate(s, f"C{r}", dv)
            elif key == "year":
                dv = DataValidation(type="whole", operator="between", formula1="2000", formula2="2100", allow_blank=True)
                dv.error, dv.showErrorMessage = "须为年份 / must be a year", True
                self.validate(s, f"C{r}", dv)
            elif key in cc.specs:
                self.input_validation(s, f"C{r}", key, cc.specs[key])
            r += 1
        if self.policy.id == "etown" and "investment_yuan" in self.clause.inputs:
            self.text(s, f"A{r}", "不含税实际支付金额（元）", bold=True)
            self.text(s, f"B{r}", "Tax-exclusive amount paid (yuan): the clause's investment_yuan (七(二)4)", wrap=True)
            self.formula(s, f"C{r}", "paid_excl_tax", "in_investment_yuan", MONEY_FORMAT)

    def move_label(self, key: str, s: int, old: str, new: str) -> None:
        ws = self.sheets[s]
        ws[new].value, ws[old].value = ws[old].value, None
        ws[new].border = _BOX
        self.layout.formulas[key] = (s, new)

    def inputs(self) -> None:
        cc, clause, s = self.cc, self.clause, 2
        self.text(s, "A1", f"申报内容 {clause.id} {clause.title.zh} / {clause.title.en}", font=_TITLE, box=False)
        self.text(s, "A2", "黄色单元格由申报单位填写；锁定单元格为条款定义生成的内容。Yellow cells are the applicant's; locked cells come from the clause's definition.", box=False)
        r = 4
        for col, head in zip("ABCDEF", ("项目", "Item", "单位 Unit", "填报值 Value", "说明 Meaning / allowed", "字段 Field")):
            self.text(s, f"{col}{r}", head, bold=True, fill=_HEAD)
        r += 1
        for name, spec in clause.inputs.items():
            self.input_row(s, r, name, spec)
            r += 1
        r += 1
        self.text(s, f"A{r}", "申报条件（请逐项回答 是/否） Conditions (answer each 是 yes / 否 no)", font=_TITLE, box=False)
        r += 1
        for col, head in zip("ABCDEF", ("条件", "Condition", "依据 Cites", "回答 Answer", "说明 Note", "字段 Field")):
            self.text(s, f"{col}{r}", head, bold=True, fill=_HEAD)
        r += 1
        for name, condition in cc.conditions.items():
            self.text(s, f"A{r}", condition.label.zh, wrap=True)
            self.text(s, f"B{r}", condition.label.en, wrap=True)
            self.text(s, f"C{r}", condition.cites, wrap=True)
            self.slot(s, f"D{r}", name, "yesno", name=f"in_{name}")
            self.input_validation(s, f"D{r}", name, _BOOL)
            note = "“否”则不符合申报条件；空白按假定满足处理，审核时须答“是”。 No makes the claim ineligible; blank is assumed, a reviewer requires yes."
            if name in clause.waive:
                note = f"豁免 Waived when {clause.waive[name]}. " + note
            self.text(s, f"E{r}", note, wrap=True)
            self.text(s, f"F{r}", name)
            r += 1

    def input_row(self, s: int, r: int, name: str, spec: InputSpec) -> None:
        self.text(s, f"A{r}", spec.label.zh, wrap=True)
        self.text(s, f"B{r}", spec.label.en, wrap=True)
        self.text(s, f"C{r}", spec.unit or {"ratio": "比例 fraction", "bool": "是/否"}.get(spec.type, ""))
        number_format = {"money": MONEY_FORMAT, "integer": "0", "number": NUMBER_FORMAT, "ratio": "0.######"}.get(spec.type)
        kind = {"bool": "yesno", "choice": "choice", "text": "text"}.get(spec.type, "number")
        self.slot(s, f"D{r}", name, kind, number_format, name=f"in_{name}")
        self.input_validation(s, f"D{r}", name, spec)
        if spec.type != "choice":
            help_text = "文本 text" if spec.type == "text" else bounds_text(spec)
            if spec.default is not None:
                help_text += f"; 空白按默认值 blank means {fmt(spec.default)}"
            if spec.fact:
                help_text += "; 门槛事实：空白按假定满足 threshold fact: blank is assumed"
            if spec.help:
                help_text += f"; {spec.help}"
            self.text(s, f"E{r}", help_text, wrap=True)
        self.text(s, f"F{r}", name)

    def award(self) -> None:
        cc, clause, s = self.cc, self.clause, 3
        ref = referrer(cc)
        self.text(s, "A1", f"奖励测算 Award: {clause.id} 〔{clause.article}〕", font=_TITLE, box=False)
        r = 3
        self.text(s, f"A{r}", "参数 Parameters", bold=True, fill=_HEAD)
        for col, head in zip("BCDE", ("名称 Name", "数值 Value", "类型 Kind", "依据 Cites")):
            self.text(s, f"{col}{r}", head, bold=True, fill=_HEAD)
        r += 1
        for name, p in clause.parameters.items():
            self.text(s, f"A{r}", str(p.label) if p.label else "")
            self.text(s, f"B{r}", name)
            self.put(s, f"C{r}", float(p.value), fmt_=NUMBER_FORMAT)
            self.text(s, f"D{r}", p.kind + (f" ({p.unit})" if p.unit else ""))
            self.text(s, f"E{r}", p.cites, wrap=True)
            r += 1
        r += 1
        self.text(s, f"A{r}", "资格检查 Eligibility", bold=True, fill=_HEAD)
        self.text(s, f"B{r}", "规则 Rule", bold=True, fill=_HEAD)
        self.text(s, f"C{r}", "结果 Met", bold=True, fill=_HEAD)
        r += 1
        checks: list[str] = []
        zones = ",".join(f'in_zone="{z}"' for z in cc.allowed_zones)
        self.text(s, f"A{r}", "所在区域 Zone")
        self.text(s, f"B{r}", f"{', '.join(cc.allowed_zones)}（空白按假定 blank assumed）", wrap=True)
        self.formula(s, f"C{r}", "check_zone", yes_no(f"OR(ISBLANK(in_zone),{zones})"))
        checks.append(f"C{r}")
        r += 1
        first, last = validity_years(cc)
        bounds = [f"CLAIM_YEAR>={first}"] if first else []
        bounds += [f"CLAIM_YEAR<={last}"] if last else []
        self.text(s, f"A{r}", "政策有效期 Validity")
        self.text(s, f"B{r}", f"{first or '—'} – {last or '—'}（按申报年度 by claim year）")
        test = f"OR(ISBLANK(CLAIM_YEAR),AND({','.join(bounds)}))" if bounds else "TRUE"
        self.formula(s, f"C{r}", "check_year", yes_no(test))
        checks.append(f"C{r}")
        r += 1
        parts = []
        for name in cc.conditions:
            part = f'in_{name}<>"{NO}"'
            if name in clause.waive:
                part = f"OR({expr.to_excel(clause._waive[name], ref)},{part})"
            parts.append(part)
        self.text(s, f"A{r}", "申报条件 Conditions")
        self.text(s, f"B{r}", "无“否”回答 none answered 否 (no)")
        self.formula(s, f"C{r}", "check_conditions", yes_no(f"AND({','.join(parts)})") if parts else f'"{YES}"')
        checks.append(f"C{r}")
        r += 1
        for i, (rule, node) in enumerate(zip(clause.requires, clause._requires)):
            self.text(s, f"A{r}", rule.reason.zh, wrap=True)
            self.text(s, f"B{r}", f"{rule.reason.en} 〔{rule.cites}〕: {rule.when}", wrap=True)
            self.formula(s, f"C{r}", f"rule_{i}", yes_no(rule_formula(cc, node)))
            self.layout.rule_keys.append(f"rule_{i}")
            checks.append(f"C{r}")
            r += 1
        self.text(s, f"A{r}", "符合申报条件 Eligible", bold=True)
        self.text(s, f"B{r}", "以上均为“是” all of the above")
        self.formula(s, f"C{r}", "eligible", yes_no(f"AND({','.join(c + '=' + chr(34) + YES + chr(34) for c in checks)})"),
                     name="ELIGIBLE")
        eligible = f"C{r}"
        r += 2
        self.text(s, f"A{r}", "计算公式 Formula", bold=True)
        self.text(s, f"B{r}", clause.amount, wrap=True)
        r += 1
        self.text(s, f"A{r}", "测算金额（元） Computed (yuan)", bold=True)
        self.text(s, f"B{r}", "按条款公式，四舍五入到分 by the clause's formula, to the cent")
        self.formula(s, f"C{r}", "computed", f"ROUND({expr.to_excel(clause._amount, ref)},2)", MONEY_FORMAT, name="COMPUTED")
        computed = f"C{r}"
        r += 1
        self.text(s, f"A{r}", "奖励金额（元） Award (yuan)", bold=True)
        self.text(s, f"B{r}", "不符合条件为0 0 when not eligible; " + ("最高限额 a ceiling" if clause.ceiling else "定额 the amount itself"))
        self.formula(s, f"C{r}", "award", f'IF({eligible}="{YES}",{computed},0)', MONEY_FORMAT, name="AWARD")
        r += 2
        schedule = cc.schedule
        self.text(s, f"A{r}", f"拨付安排 Payment: {schedule.label.zh} / {schedule.label.en} 〔{schedule.cites}〕", bold=True, fill=_HEAD)
        r += 1
        for col, head in zip("ABCD", ("阶段 Stage", "比例 Share", "金额（元） Amount", "状态 Status")):
            self.text(s, f"{col}{r}", head, bold=True, fill=_HEAD)
        r += 1
        amounts: list[str] = []
        for i, stage in enumerate(schedule.stages):
            self.text(s, f"A{r}", str(stage.label), wrap=True)
            self.put(s, f"B{r}", float(stage.share), fmt_="0%")
            last = i == len(schedule.stages) - 1
            body = f"AWARD-{'-'.join(amounts)}" if last and amounts else ("AWARD" if last else f"ROUND(AWARD*{format(stage.share.normalize(), 'f')},2)")
            self.formula(s, f"C{r}", f"stage_{i}_amount", body, MONEY_FORMAT)
            amounts.append(f"C{r}")
            if stage.due_when:
                node = expr.parse(stage.due_when)
                blanks = ",".join(f"ISBLANK(in_{n})" for n in expr.names(node))
                status = f'IF(OR({blanks}),"{PENDING}",IF({expr.to_excel(node, referrer(cc))},"{DUE}","{PENDING}"))'
            else:
                status = f'"{DUE}"'
            self.formula(s, f"D{r}", f"stage_{i}_status", status)
            self.layout.stage_keys.append((f"stage_{i}_amount", f"stage_{i}_status"))
            r += 1

    def attachments(self) -> None:
        s = 4
        self.text(s, "A1", "附件清单（参考） Attachments (indicative)", font=_TITLE, box=False)
        self.text(s, "A2", "以主管部门发布的办事指南为准。The office's guide (办事指南) prevails over this list.", box=False)
        r = 4
        for i, (zh, en) in enumerate(attachment_list(self.cc), start=1):
            self.put(s, f"A{r}", i)
            self.text(s, f"B{r}", zh, wrap=True)
            self.text(s, f"C{r}", en, wrap=True)
            r += 1
        r += 1
        self.text(s, f"A{r}", "承诺书 Commitment", font=_TITLE, box=False)
        r += 1
        self.text(s, f"A{r}", "申报单位", bold=True)
        self.formula(s, f"B{r}", "commit_enterprise", 'ENTERPRISE_NAME&""')
        r += 1
        for zh, en in COMMITMENT:
            self.text(s, f"B{r}", zh, wrap=True, box=False)
            self.text(s, f"C{r}", en, wrap=True, box=False)
            r += 1
        r += 1
        for zh, en in (("法定代表人（签字）：", "Legal representative (signature):"), ("单位（盖章）：", "Seal of the enterprise:"),
                       ("日期：", "Date:")):
            self.text(s, f"B{r}", zh, box=False)
            self.text(s, f"C{r}", en, box=False)
            r += 1

    def meta(self) -> None:
        cc, s = self.cc, 6
        rows = [
            ("template_version", TEMPLATE_VERSION),
            ("generator", GENERATOR),
            ("clause_id", cc.clause.id),
            ("policy_id", cc.policy.id),
            ("policy_encoding_version", cc.policy.encoding_version),
            ("policy_number", cc.policy.number or ""),
            ("policy_source_file", cc.policy.source_file),
            ("amount", cc.clause.amount or ""),
            ("regenerate", "python -c \"from addin.declaration_template import build; build('%s')\"" % cc.clause.id),
        ]
        self.text(s, "A1", "key", bold=True)
        self.text(s, "B1", "value", bold=True)
        for r, (k, v) in enumerate(rows, start=2):
            self.text(s, f"A{r}", k)
            self.text(s, f"B{r}", v)


_BOOL = InputSpec(type="bool", label={"zh": "是/否", "en": "yes/no"})
DUE, PENDING = "可兑现 due", "待条件 pending"

COMMITMENT = (
    ("本单位郑重承诺：所提交的申报材料真实、准确、完整、有效，不存在虚报、冒领、重复申报等情况。",
     "We solemnly declare that the materials submitted are true, accurate, complete and valid, with nothing falsely reported, wrongly claimed or claimed twice."),
    ("同一项目未重复享受同类政策支持（政策另有规定的除外），并遵守政策关于就高不重复的规定。",
     "The same project has not received support of the same kind twice (unless the policy allows it), and the policy's best-one-only rules are observed."),
    ("本单位符合申报条件中所列各项要求；如情况发生变化，将及时告知主管部门。",
     "We meet every condition listed in this declaration and will inform the office of any change."),
    ("如有不实，本单位愿承担相应法律责任，并退回已获得的资金。",
     "Should any of this be untrue, we accept the legal consequences and will return the funds received."),
)


def bounds_text(spec: InputSpec) -> str:
    parts = []
    if spec.lower is not None:
        parts.append(f"{'>' if spec.min_exclusive else '≥'} {fmt(spec.lower)}")
    if spec.upper is not None:
        parts.append(f"{'<' if spec.max_exclusive else '≤'} {fmt(spec.upper)}")
    word = {"integer": "整数 whole number", "ratio": "比例 fraction (0.3 = 30%)"}.get(spec.type, "数字 number")
    return f"{word}" + (f", {' and '.join(parts)}" if parts else "")


def attachment_list(cc: CompiledClause) -> list[tuple[str, str]]:
    """An indicative list by the kind of clause: its inputs, conditions and payment schedule say which."""
    names = set(cc.clause.inputs)
    text = " ".join([cc.clause.source, *(str(c.label) for c in cc.clause.conditions.values())])
    out = [("营业执照（副本）复印件", "Copy of the business licence"),
           ("本申报表（签字盖章）及承诺书", "This declaration, signed and sealed, with the commitment")]
    if names & {"investment_yuan", "rd_investment_yuan", "operating_cost_yuan", "funding_yuan"}:
        out.append(("项目投资明细、合同及发票、付款凭证", "Investment breakdown, contracts, invoices and payment vouchers"))
    if cc.schedule.inputs:
        out.append(("开工证明；完工验收材料及含税支付凭证（第二批兑现）",
                    "Proof of start; completion acceptance and tax-inclusive payment records (second instalment)"))
    if names & {"municipal_award_yuan", "higher_award_yuan", "municipal_subsidy_yuan", "higher_subsidy_yuan"} or "市级" in text:
        out.append(("市级（或国家级）奖励、补助资金下达通知或拨付凭证", "The municipal (or national) award notice or proof of the funds"))
    if names & {"energy_saved_tce"}:
        out.append(("节能量审核报告", "Energy-saving verification report"))
    if names & {"loan_principal_yuan", "loan_rate"}:
        out.append(("贷款合同、放款凭证及付息凭证", "Loan contract, drawdown and interest-payment records"))
    if names & {"nev_price_yuan", "vehicles", "machine_price_yuan", "machines", "fleet_size", "nev_count"}:
        out.append(("车辆或机械购置发票、登记证明及淘汰（报废）证明",
                    "Purchase invoices, registration and scrapping certificates of the vehicles or machines"))
    if names & {"capacity_kw", "green_kwh", "self_generation_kwh", "grid_purchase_kwh", "consumption_kwh"}:
        out.append(("并网验收或电量结算、绿电交易凭证", "Grid-connection acceptance, metering or green-power trading records"))
    choices = [n for n, sp in cc.clause.inputs.items() if sp.type == "choice"]
    if not names - {"vehicles", "titles", "machines"} or any(
            k in " ".join(choices) for k in ("honour", "title", "rating", "level", "grade", "award", "upgraded")):
        out.append(("获评称号、认定或认证证书（文件）", "The title, rating or certificate (document) awarded"))
    out.append(("信用中国查询记录等其他材料", "Credit-record printout and other materials the guide asks for"))
    return out


@lru_cache(maxsize=None)
def build_cached(clause_id: str) -> tuple[Workbook, Layout]:
    return _Builder(clause_id).build()


def build(clause_id: str) -> tuple[Workbook, Layout]:
    """The template workbook of a monetary clause and its layout (a fresh workbook each call)."""
    cc = compiled(clause_id)
    if cc.amount is None:
        raise ValueError(f"{clause_id} is a non-monetary article: no declaration of an amount")
    return _Builder(cc.clause.id).build()


LAYOUTS = TEMPLATES / "declaration_layouts.json"


def layout_dict(lay: Layout) -> dict:
    return asdict(lay)


def layout_from_dict(data: dict) -> Layout:
    return Layout(
        clause_id=data["clause_id"],
        slots={k: tuple(v) for k, v in data["slots"].items()},
        formulas={k: tuple(v) for k, v in data["formulas"].items()},
        choice_labels=dict(data["choice_labels"]),
        rule_keys=list(data["rule_keys"]),
        stage_keys=[tuple(v) for v in data["stage_keys"]],
    )


@lru_cache(maxsize=1)
def _committed_layouts() -> dict[str, Layout]:
    """The layouts saved beside the committed templates (building a workbook to learn one costs 40 ms)."""
    try:
        data = json.loads(LAYOUTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("template_version") != TEMPLATE_VERSION:
        return {}
    return {k: layout_from_dict(v) for k, v in data["layouts"].items()}


@lru_cache(maxsize=None)
def layout(clause_id: str) -> Layout:
    """Where a declaration of the clause puts its values (from the committed layouts, else built)."""
    cid = compiled(clause_id).clause.id
    return _committed_layouts().get(cid) or build_cached(cid)[1]


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
        layouts = {cid: layout_dict(build_cached(cid)[1]) for cid in ids}
        text = json.dumps({"template_version": TEMPLATE_VERSION, "layouts": layouts}, ensure_ascii=False, indent=1)
        LAYOUTS.write_text(text + "\n", encoding="utf-8")
        written.append(LAYOUTS)
        keep = {p.name for p in written}
        for old in folder.glob("declaration_*.xlsx"):
            if old.name not in keep:
                old.unlink()
    return written


if __name__ == "__main__":  # python -m addin.declaration_template: regenerate the committed templates
    for p in write_templates():
        print(p)
