"""The content of each sheet of a clause's template: cover, applicant, inputs, award (the formulas the
core's amount renders to), attachments and commitment, and the hidden meta sheet; ``build`` makes it."""

from __future__ import annotations

from functools import cache

from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection

from policies import expr
from policies.engine import CompiledClause, compiled, validity_years
from policies.numbers import fmt
from policies.registry import common, fields
from policies.schema import InputSpec

from .. import rmb
from .cells import Cells
from .definitions import (
    DUE,
    GENERATOR,
    NO,
    PENDING,
    PRINTED,
    SLOT_KINDS,
    TEMPLATE_VERSION,
    YES,
    Layout,
    choices,
    field_cell,
    slot_kind,
)
from .formulas import KIND_WORDS, describe, excel, rule_formula, show_parameter, yes_no
from .styles import (
    BODY,
    BOLD,
    CENTER,
    COUNT_FORMAT,
    EXPECTED_TEXT,
    FIELD_FORMATS,
    HEAD_FILL,
    HEADING,
    MONEY_FORMAT,
    NUMBER_FORMAT,
    RIGHT,
    SECTION,
    SMALL,
    SUBTITLE,
    TITLE,
    WIDTHS,
)

LIST_LIMIT = 255  # Excel's limit on an inline list of a data validation


class Builder(Cells):
    """The template of one clause, sheet by sheet."""

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

    def input_validation(self, s: int, ref: str, name: str, spec: InputSpec, label_ref: str | None = None) -> None:
        """The cell's data validation; a choice also gets its English label shown at ``label_ref``."""
        label = spec.label.zh[:30]
        if spec.type == "text":
            return  # free text: nothing to validate in the cell
        if spec.type == "bool":
            dv = DataValidation(type="list", formula1=f'"{YES},{NO}"', allow_blank=True)
            dv.error = "请选择 是 或 否 / choose 是 (yes) or 否 (no)"
        elif spec.type == "choice":
            labels = [lab.zh for lab in choices(spec).values()]
            values_range, pairs = self.list_range(spec.label.zh, [(lab.zh, lab.en) for lab in choices(spec).values()])
            inline = ",".join(labels)
            if len(inline) <= LIST_LIMIT and not any("," in v or '"' in v for v in labels):
                dv = DataValidation(type="list", formula1=f'"{inline}"', allow_blank=True)
            else:
                dv = DataValidation(type="list", formula1=values_range, allow_blank=True)
            dv.error = "请从列表中选择 / choose a value from the list"
            longest = max((lab.en for lab in choices(spec).values()), key=len)
            assert label_ref is not None, "a choice shows its English label beside it"
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

    def cover(self) -> None:
        clause, policy, s = self.clause, self.policy, 0
        self.text(s, "A1", f"{policy.title.zh}\n项目申报表", font=TITLE, box=False, span=4, align=CENTER)
        self.text(s, "A2", f"Declaration under: {policy.title.en}", box=False, span=4, align=CENTER)
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
            self.text(s, f"A{r}", label, font=BOLD)
            self.text(s, f"B{r}", value, span=3, font=SMALL if label.startswith("原文") else BODY)
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
            font = BOLD if key.startswith("cover_award") else BODY
            self.text(s, f"A{r}", label, font=BOLD)
            self.formula(s, f"B{r}", key, body, num, span=3, expect=expect, font=font)
            r += 1
        self.text(s, f"A{r}", "金额性质 Kind of amount", font=BOLD)
        self.text(
            s,
            f"B{r}",
            "最高限额（不超过：主管部门可核减） A ceiling (the office may grant less)"
            if clause.ceiling
            else "定额 The amount itself",
            span=3,
        )
        r += 1
        self.text(s, f"A{r}", "组合测算核定 Granted in the portfolio", font=BOLD)
        self.locked_slot(s, f"B{r}", "granted_note", "text", span=3, expect="国" * 200, font=SMALL)
        r += 2
        # signature and seal: room for a signature and a company seal (about 4 cm across)
        self.text(s, f"A{r}", "法定代表人（签字）\nLegal representative (signature)", font=BOLD)
        self.put(s, f"B{r}", None)
        self.text(s, f"C{r}", "单位（盖章）\nSeal of the enterprise", font=BOLD)
        self.put(s, f"D{r}", None)
        self.fixed[(s, r)] = 118.0
        r += 1
        self.text(s, f"A{r}", "日期 Date", font=BOLD)
        self.text(s, f"B{r}", "        年      月      日", span=3)
        self.fixed[(s, r)] = 26.0
        r += 2
        for line in (
            "说明：本表按政策条款定义生成；“奖励测算”表中的金额为公式，修改申报内容后自动重算。"
            "附件清单仅供参考，以主管部门发布的办事指南为准。",
            "Note: generated from the clause's definition; the award is a live formula that recalculates when an input "
            "changes. The attachment list is indicative: the office's guide (办事指南) prevails.",
        ):
            self.text(s, f"A{r}", line, box=False, span=4, font=SMALL)
            r += 1

    def applicant(self) -> None:
        cc, s = self.cc, 1
        self.text(s, "A1", "申报单位信息 Enterprise", font=SUBTITLE, box=False, span=3)
        r = 3
        for key in common().form["applicant"]:  # common.yaml: the fields, their labels and cell names
            field = fields()[key]
            self.text(s, f"A{r}", f"{field.label.zh} {field.label.en}", font=BOLD)
            if key == "zone":
                spec = cc.specs["zone"]
                longest = max((lab.zh for lab in choices(spec).values()), key=len)
                self.slot(s, f"B{r}", key, "choice", name=field.cell, expect=longest)
                self.input_validation(s, f"B{r}", "zone", spec, label_ref=f"C{r}")
            else:
                self.slot(
                    s, f"B{r}", key, SLOT_KINDS[field.kind], name=field.cell, span=2, expect=EXPECTED_TEXT.get(key, "0")
                )
            if key == "uscc":
                dv = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True)
                dv.error, dv.showErrorMessage = "统一社会信用代码须为18位 / 18 characters", True
                self.validate(s, f"B{r}", dv)
            r += 1
        r += 1
        self.text(s, f"A{r}", "项目信息 Project", font=SUBTITLE, box=False, span=3)
        r += 1
        for key in common().form["project"]:
            field = fields()[key]
            kind, number_format = SLOT_KINDS[field.kind], FIELD_FORMATS.get(field.kind)
            label, name = f"{field.label.zh} {field.label.en}", field.cell
            if field.kind == "money":  # a payment input of the clause's schedule has its own label and name
                paid = cc.schedule.inputs.get(key)
                zh, en = (paid.label.zh, paid.label.en) if paid else (field.label.zh, field.label.en)
                label, name = f"{zh}（元） {en} (yuan)", f"in_{key}" if paid else field.cell
            self.text(s, f"A{r}", label, font=BOLD)
            self.slot(s, f"B{r}", key, kind, number_format, name=name, span=2, expect=EXPECTED_TEXT.get(key, "0"))
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
            self.text(s, f"A{r}", "不含税实际支付金额（元） Tax-exclusive amount paid (yuan)", font=BOLD)
            self.formula(s, f"B{r}", "paid_excl_tax", "in_investment_yuan", MONEY_FORMAT)
            self.text(
                s, f"C{r}", f"即“申报内容”中的{investment}（七(二)4） the investment on the Inputs sheet", font=SMALL
            )

    def inputs(self) -> None:
        cc, clause, s = self.cc, self.clause, 2
        self.text(s, "A1", f"申报内容 {clause.title.zh}", font=SUBTITLE, box=False, span=4)
        self.text(
            s,
            "A2",
            f"Inputs: {clause.title.en}. 黄色单元格由申报单位填写，其余为条款定义生成的内容。"
            "Yellow cells are the applicant's; the others come from the clause's definition.",
            box=False,
            span=4,
            font=SMALL,
        )
        r = 4
        for col, head in zip("ABCD", ("项目 Item", "单位 Unit", "填报值 Value", "说明 Meaning / allowed")):
            self.text(s, f"{col}{r}", head, font=HEADING, fill=HEAD_FILL, align=CENTER)
        r += 1
        for name, spec in clause.inputs.items():
            self.input_row(s, r, name, spec)
            r += 1
        r += 1
        self.sections.setdefault(s, []).append(r)
        self.text(s, f"A{r}", "申报条件 Conditions", font=SECTION, box=False, span=4)
        r += 1
        self.text(
            s,
            f"A{r}",
            "请逐项回答“是”或“否”：答“否”则不符合申报条件；空白按假定满足处理，审核时须答“是”。"
            "Answer each 是 (yes) or 否 (no): no makes the claim ineligible; blank is assumed, "
            "a reviewer requires yes.",
            box=False,
            span=4,
            font=SMALL,
        )
        r += 1
        for col, head in zip("ABCD", ("条件", "依据 Cites", "回答 Answer", "Condition")):
            self.text(s, f"{col}{r}", head, font=HEADING, fill=HEAD_FILL, align=CENTER)
        r += 1
        for check in cc.definitions:  # the core's checks: each condition answered in its row
            if check.kind not in ("condition", "excluded"):
                continue
            name = check.name
            self.text(s, f"A{r}", check.subject.zh)
            self.text(s, f"B{r}", check.cites, align=CENTER)
            self.slot(s, f"C{r}", name, "yesno", name=f"in_{name}")
            self.cells_center(s, f"C{r}")
            self.input_validation(s, f"C{r}", name, BOOL_SPEC)
            note = check.subject.en
            if check.waiver is not None:
                note += f"\n以下情形免于此条件 Waived when: {describe(cc, check.waiver)}"
            self.text(s, f"D{r}", note, font=SMALL)
            r += 1

    def cells_center(self, s: int, ref: str) -> None:
        self.sheets[s][ref].alignment = CENTER

    def input_row(self, s: int, r: int, name: str, spec: InputSpec) -> None:
        self.text(s, f"A{r}", f"{spec.label.zh}\n{spec.label.en}")
        self.text(
            s,
            f"B{r}",
            spec.unit or {"ratio": "比例 fraction", "bool": "是/否", "choice": "选择 choice"}.get(spec.type, ""),
            align=CENTER,
        )
        number_format = {
            "money": MONEY_FORMAT,
            "integer": COUNT_FORMAT,
            "number": NUMBER_FORMAT,
            "ratio": NUMBER_FORMAT,
        }.get(spec.type)
        kind = slot_kind(spec)
        expect = (
            max((lab.zh for lab in choices(spec).values()), key=len)
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
            self.text(s, f"D{r}", help_text, font=SMALL)

    def award(self) -> None:
        cc, clause, s = self.cc, self.clause, 3
        amount = cc.amount_node
        assert amount is not None, "build() makes templates of monetary clauses only"
        self.text(s, "A1", f"奖励测算 Award: {clause.id} 〔{clause.article}〕", font=SUBTITLE, box=False, span=4)
        r = 3
        for col, head in zip("ABCD", ("参数 Parameter（条文 cites）", "类型 Kind", "单位 Unit", "数值 Value")):
            self.text(s, f"{col}{r}", head, font=HEADING, fill=HEAD_FILL, align=CENTER)
        r += 1
        for p in clause.parameters.values():
            self.text(s, f"A{r}", (f"{p.label}: " if p.label else "") + p.cites, font=SMALL)
            self.text(s, f"B{r}", KIND_WORDS[p.kind], align=CENTER)
            self.text(s, f"C{r}", p.unit or "", align=CENTER)
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
            self.put(s, f"D{r}", float(p.value), fmt_=number_format, align=RIGHT)
            r += 1
        r += 1
        self.text(s, f"A{r}", "资格检查 Eligibility", font=HEADING, fill=HEAD_FILL, align=CENTER)
        self.text(s, f"B{r}", "依据 Rule", font=HEADING, fill=HEAD_FILL, span=2, align=CENTER)
        self.text(s, f"D{r}", "结果 Met", font=HEADING, fill=HEAD_FILL, align=CENTER)
        r += 1
        checks: list[str] = []  # the core's checks (``cc.definitions``) as formulas: zone, validity, conditions, rules
        zone = cc.definition("zone")
        labels = choices(cc.specs["zone"])
        zones = ",".join(f'in_zone="{labels[z].zh}"' for z in cc.allowed_zones)
        self.text(s, f"A{r}", f"{zone.subject.zh} {zone.subject.en}")
        self.text(
            s,
            f"B{r}",
            f"{'；'.join(labels[z].zh for z in cc.allowed_zones)}（空白按假定 blank assumed）",
            span=2,
            font=SMALL,
        )
        self.formula(s, f"D{r}", "check_zone", yes_no(f"OR(ISBLANK(in_zone),{zones})"), align=CENTER)
        checks.append(f"D{r}")
        r += 1
        first, last = validity_years(cc.policy)
        year = field_cell("year")
        bounds = [f"{year}>={first}"] if first else []
        bounds += [f"{year}<={last}"] if last else []
        self.text(s, f"A{r}", "政策有效期 Validity")
        self.text(s, f"B{r}", f"{first or '—'} – {last or '—'}（按申报年度 by claim year）", span=2, font=SMALL)
        test = f"OR(ISBLANK({year}),AND({','.join(bounds)}))" if bounds else "TRUE"
        self.formula(s, f"D{r}", "check_year", yes_no(test), align=CENTER)
        checks.append(f"D{r}")
        r += 1
        parts = []
        for condition in (d for d in cc.definitions if d.kind in ("condition", "excluded")):
            part = f'in_{condition.name}<>"{NO}"'
            if condition.waiver is not None:
                part = f"OR({excel(cc, condition.waiver)},{part})"
            parts.append(part)
        self.text(s, f"A{r}", "申报条件 Conditions")
        self.text(s, f"B{r}", "无“否”回答 no condition answered 否 (no)", span=2, font=SMALL)
        self.formula(
            s, f"D{r}", "check_conditions", yes_no(f"AND({','.join(parts)})") if parts else f'"{YES}"', align=CENTER
        )
        checks.append(f"D{r}")
        r += 1
        for i, rule in enumerate(d for d in cc.definitions if d.rule is not None):
            node = rule.test
            assert node is not None, "a rule's check carries its test"
            self.text(s, f"A{r}", f"{rule.subject.zh}\n{rule.subject.en}", font=SMALL)
            self.text(s, f"B{r}", f"{describe(cc, node)}〔{rule.cites}〕", span=2, font=SMALL)
            self.formula(s, f"D{r}", f"rule_{i}", yes_no(rule_formula(cc, node)), align=CENTER)
            self.layout.rule_keys.append(f"rule_{i}")
            checks.append(f"D{r}")
            r += 1
        self.text(s, f"A{r}", "符合申报条件 Eligible", font=BOLD)
        self.text(s, f"B{r}", "以上均为“是” all of the above", span=2, font=SMALL)
        self.formula(
            s,
            f"D{r}",
            "eligible",
            yes_no(f"AND({','.join(c + '=' + chr(34) + YES + chr(34) for c in checks)})"),
            name="ELIGIBLE",
            align=CENTER,
            font=BOLD,
        )
        eligible = f"D{r}"
        r += 2
        self.text(s, f"A{r}", "计算公式 Formula", font=BOLD)
        self.text(s, f"B{r}", describe(cc, amount), span=3, font=SMALL)
        r += 1
        self.text(s, f"A{r}", "测算金额（元） Computed (yuan)", font=BOLD)
        self.text(s, f"B{r}", "按条款公式，四舍五入到分 by the clause's formula, to the cent", span=2, font=SMALL)
        self.formula(
            s, f"D{r}", "computed", f"ROUND({excel(cc, amount)},2)", MONEY_FORMAT, name="COMPUTED", align=RIGHT
        )
        computed = f"D{r}"
        r += 1
        self.text(s, f"A{r}", "奖励金额（元） Award (yuan)", font=BOLD)
        self.text(
            s,
            f"B{r}",
            "不符合条件为0 0 when not eligible; "
            + ("最高限额 a ceiling" if clause.ceiling else "定额 the amount itself"),
            span=2,
            font=SMALL,
        )
        self.formula(
            s,
            f"D{r}",
            "award",
            f'IF({eligible}="{YES}",{computed},0)',
            MONEY_FORMAT,
            name="AWARD",
            align=RIGHT,
            font=BOLD,
        )
        r += 2
        schedule = cc.schedule
        self.text(
            s,
            f"A{r}",
            f"拨付安排 Payment: {schedule.label.zh} / {schedule.label.en} 〔{schedule.cites}〕",
            font=SECTION,
            box=False,
            span=4,
        )
        r += 1
        for col, head in zip("ABCD", ("阶段 Stage", "比例 Share", "金额（元） Amount", "状态 Status")):
            self.text(s, f"{col}{r}", head, font=HEADING, fill=HEAD_FILL, align=CENTER)
        r += 1
        amounts: list[str] = []
        for i, stage in enumerate(schedule.stages):
            self.text(s, f"A{r}", str(stage.label))
            self.put(s, f"B{r}", float(stage.share), fmt_="0%", align=CENTER)
            last = i == len(schedule.stages) - 1
            body = (
                f"AWARD-{'-'.join(amounts)}"
                if last and amounts
                else ("AWARD" if last else f"ROUND(AWARD*{format(stage.share.normalize(), 'f')},2)")
            )
            self.formula(s, f"C{r}", f"stage_{i}_amount", body, MONEY_FORMAT, align=RIGHT)
            amounts.append(f"C{r}")
            if stage.due_when:
                node = expr.parse(stage.due_when)
                blanks = ",".join(f"ISBLANK(in_{n})" for n in expr.names(node))
                status = f'IF(OR({blanks}),"{PENDING}",IF({excel(cc, node)},"{DUE}","{PENDING}"))'
            else:
                status = f'"{DUE}"'
            self.formula(s, f"D{r}", f"stage_{i}_status", status, align=CENTER, expect=PENDING)
            self.layout.stage_keys.append((f"stage_{i}_amount", f"stage_{i}_status"))
            r += 1

    def attachments(self) -> None:
        s = 4
        self.text(s, "A1", "附件清单（参考） Attachments (indicative)", font=SUBTITLE, box=False, span=3)
        self.text(
            s,
            "A2",
            "以主管部门发布的办事指南为准。The office's guide (办事指南) prevails over this list.",
            box=False,
            span=3,
            font=SMALL,
        )
        r = 3
        for col, head in zip("ABC", ("序号 No.", "材料", "Document")):
            self.text(s, f"{col}{r}", head, font=HEADING, fill=HEAD_FILL, align=CENTER)
        r += 1
        for i, (zh, en) in enumerate(attachment_list(self.cc), start=1):
            self.put(s, f"A{r}", i, align=CENTER)
            self.text(s, f"B{r}", zh)
            self.text(s, f"C{r}", en)
            r += 1
        r += 1
        self.sections.setdefault(s, []).append(r)
        self.text(s, f"A{r}", "承诺书 Commitment", font=SUBTITLE, box=False, span=3, align=CENTER)
        r += 1
        self.text(s, f"A{r}", "申报单位 Applicant", font=BOLD, span=2, box=False)
        self.formula(s, f"C{r}", "commit_enterprise", f'{field_cell("enterprise")}&""', box=False, expect="国" * 30)
        r += 1
        for zh, en in COMMITMENT:
            self.text(s, f"B{r}", zh, box=False)
            self.text(s, f"C{r}", en, box=False, font=SMALL)
            r += 1
        r += 1
        for zh, en, points in (
            ("法定代表人（签字）：", "Legal representative (signature):", 40.0),
            ("单位（盖章）：", "Seal of the enterprise:", 118.0),
            ("日期：        年      月      日", "Date:", 26.0),
        ):
            self.text(s, f"B{r}", zh, box=False, font=BOLD)
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
        self.text(s, "A1", "key", font=BOLD)
        self.text(s, "B1", "value", font=BOLD)
        for r, (k, v) in enumerate(rows, start=2):
            self.text(s, f"A{r}", k)
            self.text(s, f"B{r}", v)


BOOL_SPEC = InputSpec(type="bool", label={"zh": "是/否", "en": "yes/no"})


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
        return choices(spec)[str(spec.default)].zh
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
    return Builder(clause_id).build()


def build(clause_id: str) -> tuple[Workbook, Layout]:
    """The template workbook of a monetary clause and its layout (a fresh workbook each call)."""
    cc = compiled(clause_id)
    if cc.amount is None:
        raise ValueError(f"{clause_id} is a non-monetary article: no declaration of an amount")
    return Builder(cc.clause.id).build()
