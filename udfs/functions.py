"""The worksheet functions: Excel values in, ``policies.evaluate`` underneath, floats and tables out.

Each function is called exactly as Excel calls it: numbers as floats, empty cells as ``None``,
booleans as bool or text (是/否, TRUE/FALSE), a one-row or one-column range as a flat list, a
larger range as a list of rows. The policy core coerces every value; this module only reshapes.
A bad input raises ``WorksheetError`` (one line: clause, field, rule); an ineligible claim is
0 yuan, a result like any other, and ``AWARD_EXPLAIN`` says why.

The worksheet functions themselves carry no type hints: xlwings reads a parameter's or the return's
hint as a converter (``convert=``), which would change what Excel's values arrive as.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

from policies import Award, catalog, clause_info, evaluate, render
from policies.energy import to_tce
from policies.inputs import is_blank, to_bool
from policies.numbers import describe, to_decimal
from policies.parameters import reform_names
from policies.registry import policies, policy_names
from policies.years import LAST_SERIAL, from_serial

from ._sheet import Table, WorksheetError, bad, worksheet_function

# --- reshaping ----------------------------------------------------------------------------------

ON_NAMES = {"on", "date", "year", "日期", "年度"}  # a pair with one of these names is the claim's date or year


def _clause_id(function: str, clause: object) -> str:
    if is_blank(clause):
        raise bad(function, "clause", 'required, e.g. "etown:27" / 须填写条款编号')
    if not isinstance(clause, str):
        raise bad(
            function, "clause", f'must be a clause id such as "etown:27", got {describe(clause)} / 条款编号须为文字'
        )
    return clause.strip()


@cache
def _names(clause_id: str) -> dict[str, str]:
    """Every name a cell may use for the clause's inputs: the input name or its Chinese or English label."""
    names: dict[str, str] = {}
    for row in clause_info(clause_id)["inputs"]:
        for key in (row["label_zh"], row["label_en"], row["name"]):
            names[key.strip().casefold()] = row["name"]
    return names


def _whole(value: object) -> int | None:
    """A whole number as a cell sends one: Lite (Pyodide) turns an integral number into an int,
    others send a float. None for anything else (a bool too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _on(value: object) -> object:
    """A date cell as the core reads it: classic xlwings sends a datetime, Lite a serial number.

    A whole number 1900–2200 is a year, a larger one up to 9999-12-31 (serial 2,958,465) a date serial.
    """
    whole = _whole(value)
    if whole is not None:
        if 1900 <= whole <= 2200:
            return whole  # a year typed as a number
        if 2200 < whole <= LAST_SERIAL:
            return from_serial(whole)
    return value


def _rows(function: str, clause_id: str, position: int, value: list[object]) -> list[tuple[object, object]]:
    """A range of names and values: two columns, blank rows skipped; a one-row range is one pair."""
    table = value if value and isinstance(value[0], list) else [value]  # a one-row (or one-column) range: flat
    rows = []
    for number, row in enumerate(table, start=1):
        cells = row if isinstance(row, (list, tuple)) else [row]
        if len(cells) != 2:
            raise bad(
                function,
                f"range {position}",
                f"needs two columns (name, value), row {number} has {len(cells)} / 须为两列",
                clause_id,
            )
        name, cell = cells
        if is_blank(name):
            if is_blank(cell):
                continue
            raise bad(
                function, f"range {position}", f"row {number} has a value but no name / 第{number}行缺少名称", clause_id
            )
        rows.append((name, cell))
    return rows


def _inputs(function: str, clause_id: str, args: tuple[object, ...]) -> tuple[dict[str, object], object]:
    """Name/value pairs and two-column ranges, in any mix, as ``evaluate``'s inputs and ``on``."""
    pairs: list[tuple[object, object]] = []
    index = 0
    while index < len(args):
        item = args[index]
        if isinstance(item, (list, tuple)):
            pairs.extend(_rows(function, clause_id, index + 2, list(item)))
            index += 1
        elif is_blank(item):
            index += 1  # an empty argument (a trailing comma, an empty cell as a name) names nothing
        else:
            if index + 1 >= len(args):
                raise bad(
                    function, str(item), "has no value after it: give name, value pairs / 名称后缺少取值", clause_id
                )
            value = args[index + 1]
            if isinstance(value, (list, tuple)):
                raise bad(
                    function, str(item), "its value must be one cell, not a range / 取值须为单个单元格", clause_id
                )
            pairs.append((item, value))
            index += 2
    names = _names(clause_id)
    inputs: dict[str, object] = {}
    on: object = None
    for raw_name, value in pairs:
        if not isinstance(raw_name, str):
            raise bad(
                function, describe(raw_name), 'an input name must be text, e.g. "capacity_kw" / 名称须为文字', clause_id
            )
        key = raw_name.strip().casefold()
        if key in ON_NAMES:
            on = _on(value)
            continue
        name = names.get(key, raw_name.strip())  # an unknown name goes to the core, which says so
        if name in inputs:
            raise bad(function, name, "given twice / 重复输入", clause_id)
        inputs[name] = value
    return inputs, on


def _evaluate(function: str, clause: object, args: tuple[object, ...], reform_range: object = None) -> Award:
    clause_id = _clause_id(function, clause)
    inputs, on = _inputs(function, clause_id, args)
    reform = _reform(function, clause_id, reform_range) if reform_range is not None else None
    return evaluate(clause_id, on=on, reform=reform, **inputs)


def _reform(function: str, clause_id: str, value: object) -> dict[str, object]:
    """A range of parameter | value | [from] as the core's reform: ``{name: value}`` or ``{name: {from: value}}``.

    A name without a clause (``per_kw``) is the clause's own parameter; a policy's cap is written in
    full (``tongzhou.tongzhou_enterprise_year``). Blank rows are skipped, and a first row that names no
    parameter and whose value is a text but no number (``parameter 参数 | value 取值``) is the header;
    an empty ``from`` means every day. The core checks the names and values (``policies.parse_reform``).
    """
    where = "reform_range"
    if not isinstance(value, (list, tuple)):
        if is_blank(value):
            return {}  # an empty cell: no what-if yet, the policies as they stand (still said in the notes)
        raise bad(
            function,
            where,
            "must be a range of two or three columns: parameter, value, [from date] / 须为两列或三列区域",
            clause_id,
        )
    rows = [list(r) for r in value] if value and isinstance(value[0], (list, tuple)) else [list(value)]  # one row: flat
    reform: dict[str, dict[object, object]] = {}
    for number, row in enumerate(rows, start=1):
        if len(row) not in (2, 3):
            raise bad(
                function,
                where,
                f"needs two or three columns (parameter, value, from), row {number} has {len(row)} / 须为两列或三列",
                clause_id,
            )
        name, figure, since = (*row, None)[:3]
        if all(is_blank(cell) for cell in row):
            continue
        if number == 1 and isinstance(figure, str) and _is_header(clause_id, name, figure):
            continue
        if not isinstance(name, str) or not name.strip():
            raise bad(
                function,
                where,
                f'row {number}: the parameter must be a name such as "per_kw" or "{clause_id}.per_kw" / 第{number}行缺少参数名',
                clause_id,
            )
        if is_blank(figure):
            raise bad(function, where, f"row {number}: {name.strip()} has no value / 第{number}行缺少取值", clause_id)
        key = name.strip() if "." in name or ":" in name else f"{clause_id}.{name.strip()}"
        day = "" if is_blank(since) else _since(since)
        values = reform.setdefault(key, {})
        if day in values:
            raise bad(
                function,
                where,
                f"row {number}: {key} is given twice{' from ' + str(day) if day else ''} / 重复",
                clause_id,
            )
        if values and (day == "" or "" in values):
            raise bad(
                function,
                where,
                f"row {number}: {key}: give one value, or values by date, not both / 单值与按日期取值不能并用",
                clause_id,
            )
        values[day] = figure
    return {key: values.get("", values) for key, values in reform.items()}  # one value, or values by date


def _is_header(clause_id: str, name: object, value: str) -> bool:
    if isinstance(name, str) and {name.strip(), f"{clause_id}.{name.strip()}"} & set(reform_names()):
        return False  # a parameter with a bad value: an error, not a header
    try:
        to_decimal(value)
    except ValueError:
        return True
    return False


def _since(value: object) -> object:
    """A from-date cell: a datetime (classic), a serial (Lite; its time of day ignored), a year or ISO text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and not value.is_integer() and 2200 < value <= LAST_SERIAL:
        value = int(value)
    return _on(value)


def _amount(clause_id: str, **inputs: object) -> float:
    return float(evaluate(clause_id, reform=None, **inputs).amount)  # a shortcut: the policies as they stand


def _number(value: object) -> float | str | bool:
    """A catalog figure as a cell shows it: a float, or empty text where there is none."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (Decimal, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Decimal(value.replace(",", "")))
        except ArithmeticError:
            return value
    return str(value)


def explain_rows(award: Award) -> Table:
    """The trace one step per row, then notes and payments, ending with the amount and the binding limit."""
    cite = f"〔{award.article}〕"
    rows = render.head_lines(award) + [
        render.step_line(step) for step in award.steps if step.kind not in ("binding", "amount")
    ]
    rows += [f"注 Note: {note}" for note in award.notes]
    rows += [
        f"支付 Payment: {payment.stage}: {payment.amount:,} 元 ({'due 可兑现' if payment.status == 'due' else 'pending 待定'})"
        for payment in award.payments
    ]
    rows.append(render.amount_line(award))
    rows.append(
        render.binding_line(award)
        or f"决定金额 Binding: — 无上限或费率约束 no rate, cap or floor decides the amount {cite}"
    )
    return [[row] for row in rows]


# --- the general functions ----------------------------------------------------------------------


@worksheet_function(
    clause='条款编号，如 "etown:27" / Clause id, e.g. "etown:27" (see AWARD_CLAUSES)',
    inputs="输入：名称,值 成对，或两列区域（名称|值）/ Inputs: name, value pairs, or a two-column range of names and values; "
    '"on" gives the date or year',
)
def GREEN_AWARD(clause, *inputs):
    """条款奖励金额（元）。输入为名称/值成对或两列区域。/ The clause's award in yuan. Inputs as name/value pairs or one two-column range, e.g. =GREEN_AWARD("etown:27", "capacity_kw", B2). Bad input raises an error; ineligible gives 0."""
    return float(_evaluate("GREEN_AWARD", clause, inputs).amount)


def explain_error_rows(error: WorksheetError) -> Table:
    """AWARD_EXPLAIN's answer to bad input: the reason in words, one row each, instead of an error value."""
    rows: Table = [[f"输入有误 Input error: {error.message}"]]
    if error.field and error.rule and error.field != "internal":
        rows.append([f"请更正 Correct the field “{error.field}”: {error.rule}"])
    rows.append(["金额 Amount: 无法计算 cannot be computed until the input is corrected"])
    return rows


@worksheet_function(
    on_error=explain_error_rows,
    clause='条款编号，如 "etown:27" / Clause id, e.g. "etown:27"',
    inputs="输入：名称,值 成对，或两列区域 / Inputs: name, value pairs or a two-column range, as for GREEN_AWARD",
)
def AWARD_EXPLAIN(clause, *inputs):
    """计算过程，每步一行（溢出），以金额和决定金额的限额结尾；输入有误时说明原因。/ The computation one step per row (spills), ending with the amount and the binding limit, citing the article; for bad input, the reason in words."""
    return explain_rows(_evaluate("AWARD_EXPLAIN", clause, inputs))


@worksheet_function(
    reform_range="假设区域：参数 | 取值 | [起始日期]，参数如 per_kw 或 etown:27.per_kw / What-if range: parameter | value | "
    "[from date]; a parameter is per_kw or etown:27.per_kw, a policy cap tongzhou.tongzhou_enterprise_year",
    clause='条款编号，如 "etown:27" / Clause id, e.g. "etown:27"',
    inputs="输入：名称,值 成对，或两列区域 / Inputs: name, value pairs or a two-column range, as for GREEN_AWARD; "
    '"on" gives the date or year',
)
def AWARD_WHATIF(reform_range, clause, *inputs):
    """假设情景下的条款奖励（元）：区域中的参数取值替代政策数值，按起始日期生效。/ The clause's award in yuan under a what-if: the range's parameter values replace the policy's, each from its date, e.g. =AWARD_WHATIF(H2:J3, "etown:27", "capacity_kw", B2, "on", 2027)."""
    return float(_evaluate("AWARD_WHATIF", clause, inputs, reform_range).amount)


@worksheet_function(
    clause='条款编号，如 "etown:10" / Clause id, e.g. "etown:10"',
    inputs="输入：名称,值 成对，或两列区域 / Inputs: name, value pairs or a two-column range, as for GREEN_AWARD",
)
def AWARD_PAYMENTS(clause, *inputs):
    """兑现安排（溢出）：阶段、比例、金额（元）、状态。/ The payment schedule (spills): stage, share, amount in yuan, status (due or pending), for cash-flow timing."""
    award = _evaluate("AWARD_PAYMENTS", clause, inputs)
    rows: Table = [["stage 阶段", "share 比例", "amount 金额 (元)", "status 状态"]]
    for payment in award.payments:
        rows.append([str(payment.stage), float(payment.share), float(payment.amount), payment.status])
    if not award.payments:
        rows.append(["不符合条件 Not eligible: " + "; ".join(award.reasons), 0.0, 0.0, "none"])
    return rows


def _policy(function: str, policy: object) -> str | None:
    """A policy by its id or one of its aliases (the policy files' ``aliases``), case aside."""
    if is_blank(policy):
        return None
    key = str(policy).strip().casefold()
    if key not in policy_names():
        known = ", ".join(f"{p.id} ({p.label.zh})" for p in policies().values())
        raise bad(function, "policy", f"must be one of {known}, got {describe(policy)}")
    return policy_names()[key]


@worksheet_function(policy="政策：{policies|zh}，留空为全部 / Policy: {policies|en}; empty for all")
def AWARD_CLAUSES(policy=None):
    """条款目录（溢出）：编号、条款、中英文标题、输入、上限（元）。/ The catalog as a table (spills): id, article, title in Chinese and English, inputs, cap in yuan, and whether it grants money."""
    rows: Table = [
        ["id 编号", "article 条款", "title 标题", "title (en)", "inputs 输入", "cap 上限 (元)", "monetary 资金"]
    ]
    for info in catalog(_policy("AWARD_CLAUSES", policy)):
        inputs = ", ".join(row["name"] for row in info["inputs"] if row["kind"] == "input")
        rows.append(
            [
                info["id"],
                info["article"],
                info["title_zh"],
                info["title_en"],
                inputs,
                _number(info["max_amount"]),
                bool(info["monetary"]),
            ]
        )
    return rows


@worksheet_function(clause='条款编号，如 "etown:27" / Clause id, e.g. "etown:27"')
def AWARD_INPUTS(clause):
    """条款的输入（溢出）：名称、类别、类型、标签、单位、可选值、范围、默认值、为空时。/ The clause's inputs (spills): name, kind, type, labels, unit, allowed values, bounds, default and what an empty cell means."""
    info = clause_info(_clause_id("AWARD_INPUTS", clause))
    rows: Table = [
        [
            "name 名称",
            "kind 类别",
            "type 类型",
            "label 标签",
            "label (en)",
            "unit 单位",
            "values 可选值",
            "min 最小",
            "max 最大",
            "default 默认",
            "when empty 为空时",
        ]
    ]
    for row in info["inputs"]:
        rows.append(
            [
                row["name"],
                row["kind"],
                row["type"],
                row["label_zh"],
                row["label_en"],
                row["unit"],
                row["values"],
                _number(row["min"]),
                _number(row["max"]),
                _number(row["default"]),
                row["need"],
            ]
        )
    return rows


@worksheet_function(
    quantity="能源数量（按品种的单位）/ Quantity in the kind's unit (kWh, m³, kg or MJ)",
    kind="品种：electricity_kwh、natural_gas_m3、raw_coal_kg、diesel_kg、gasoline_kg、heat_mj（或 电力/天然气…）/ Kind of energy",
    coefficient="可选：折标系数 kgce/单位，留空用 GB/T 2589 参考值 / Optional kgce per unit; empty uses the reference",
)
def TCE(quantity, kind, coefficient=None):
    """折标准煤（吨），按 GB/T 2589 参考系数或给定系数，用于 energy_saved_tce。/ Energy in tonnes of standard coal (tce) with the GB/T 2589 reference coefficient or the one given, to feed energy_saved_tce."""
    return float(to_tce(quantity, kind, coefficient).tce)


# --- named shortcuts ----------------------------------------------------------------------------

_LEADER = (
    "可选：领跑/绿色制造名单等（三(三)），是则比例升至{beijing:2.1.leader_rate|%} / Optional: on a leader or green list (三(三)), "
    "TRUE raises the rate to {beijing:2.1.leader_rate|%}"
)


@worksheet_function(
    kw="装机容量（kW）/ Installed capacity in kW",
    ownership="可选：self 自有、third_party 第三方投资、third_party_budget_owner；默认自有 / Optional ownership, default self",
    applicant="可选：investor 投资方 或 owner 业主；默认投资方 / Optional applicant: investor (default) or owner",
)
def PV_SUBSIDY(kw, ownership=None, applicant=None):
    """经开区分布式光伏一次性奖励（元），{etown:27.per_kw|n}元/kW×份额〔五(十一)27〕。/ E-Town distributed PV, one-off: {etown:27.per_kw} yuan per kW times the applicant's share (etown:27)."""
    return _amount("etown:27", capacity_kw=kw, ownership=ownership, applicant=applicant)


@worksheet_function(
    tce="年节能量（吨标准煤），可用 TCE() 折算 / Energy saved in tce a year (see TCE)",
    investment="纳入奖励范围的项目总投资（元）/ Investment within the award's scope, yuan",
    leader=_LEADER,
)
def ENERGY_SAVING_AWARD(tce, investment, leader=None):
    """北京市节能改造奖励（元）：min({beijing:2.1.unit_price|n}元/吨标煤, {beijing:2.1.rate|%}或{beijing:2.1.leader_rate|%}投资, {beijing:2.1.cap|万}万)〔二(一)〕。/ Beijing energy-saving retrofit: min({beijing:2.1.unit_price} per tce, {beijing:2.1.rate|%} ({beijing:2.1.leader_rate|%} for leaders) of investment, {beijing:2.1.cap}) (beijing:2.1)."""
    return _amount(
        "beijing:2.1", project_type="energy_saving", energy_saved_tce=tce, investment_yuan=investment, leader=leader
    )


@worksheet_function(
    tce="年节能量（吨标准煤）/ Energy saved in tce a year",
    investment="纳入奖励范围的项目总投资（元）/ Investment within the award's scope, yuan",
    leader=_LEADER,
)
def DATA_CENTRE_AWARD(tce, investment, leader=None):
    """北京市数据中心节能改造奖励（元）〔二(三)〕，算法同节能改造。/ Beijing data-centre energy-saving retrofit: min({beijing:2.3.unit_price} per tce, {beijing:2.3.rate|%} or {beijing:2.3.leader_rate|%} of investment, {beijing:2.3.cap}) (beijing:2.3)."""
    return _amount("beijing:2.3", energy_saved_tce=tce, investment_yuan=investment, leader=leader)


RETROFIT_POLICIES = {
    "beijing": "beijing:2.1",
    "beijing:2.1": "beijing:2.1",
    "tongzhou": "tongzhou:3",
    "tongzhou:3": "tongzhou:3",
}


@worksheet_function(
    investment="改造投资（元）：北京为纳入奖励范围投资，通州为核定投资 / Retrofit investment, yuan",
    policy="政策：beijing（北京 二(一) 其他改造）或 tongzhou（通州 第三条）/ Policy: beijing or tongzhou",
    leader="可选，仅北京：领跑/绿色名单则{beijing:2.1.leader_rate|%} / Optional, beijing only: TRUE raises the rate to {beijing:2.1.leader_rate|%}",
)
def RETROFIT_AWARD(investment, policy, leader=None):
    """绿色低碳改造奖励（元）：北京二(一)其他类 min({beijing:2.1.rate|%}/{beijing:2.1.leader_rate|%}投资, {beijing:2.1.cap|万}万)；通州第三条 min({tongzhou:3.rate|%}, {tongzhou:3.cap|万}万)。/ Green retrofit award: beijing:2.1 route other, or tongzhou:3 ({tongzhou:3.rate|%}, at most {tongzhou:3.cap})."""
    key = _policy("RETROFIT_AWARD", policy) if not (isinstance(policy, str) and ":" in policy) else policy.strip()
    clause_id = RETROFIT_POLICIES.get(key or "")
    if clause_id is None:
        raise bad("RETROFIT_AWARD", "policy", f"must be beijing or tongzhou (北京/通州), got {describe(policy)}")
    if clause_id == "tongzhou:3":
        if not is_blank(leader) and to_bool(leader):
            raise bad(
                "RETROFIT_AWARD",
                "leader",
                "applies to beijing only (三(三)); tongzhou 第三条 has no raised rate / 仅适用于北京",
                clause_id,
            )
        return _amount(clause_id, investment_yuan=investment)
    return _amount(clause_id, project_type="other", investment_yuan=investment, leader=leader)


@worksheet_function(kwh="通过北京绿电交易购买的绿电（kWh）/ Green power bought through Beijing's trading, kWh")
def GREEN_POWER_AWARD(kwh):
    """经开区绿电消费奖励（元）：{etown:29.per_kwh|n}元/kWh〔etown:29〕。/ E-Town green-power purchase: {etown:29.per_kwh} yuan per kWh (etown:29)."""
    return _amount("etown:29", green_kwh=kwh)


@worksheet_function(
    principal="绿色贷款本金（平均余额，元）/ Green-loan principal (average balance), yuan",
    rate="贷款年利率，小数，如 0.035 / Annual loan rate as a fraction, e.g. 0.035",
    months="可选：计息月数 1–12，默认12 / Optional months of interest, 1–12, default 12",
    fixed_asset_investment="可选：当年固定资产投资（元），须>{beijing:8.min_fixed_asset_investment|万}万；留空则假定满足 / Optional fixed-asset investment of the year",
)
def LOAN_INTEREST_SUBSIDY(principal, rate, months=None, fixed_asset_investment=None):
    """北京市绿色贷款贴息（元）：本金×min({beijing:8.rate|%},利率)×月数/12，最高{beijing:8.cap|万}万〔八〕。/ Beijing green-loan interest subsidy: principal × min({beijing:8.rate|%}, rate) × months/12, at most {beijing:8.cap} (beijing:8)."""
    return _amount(
        "beijing:8",
        loan_principal_yuan=principal,
        loan_rate=rate,
        months=months,
        fixed_asset_investment_yuan=fixed_asset_investment,
    )


@worksheet_function(
    route="路径：guo4_retired、guo5_replaced 或 special_vehicle / Route: guo4_retired, guo5_replaced or special_vehicle",
    price="新能源车辆不含税终端售价（元/辆）/ Tax-exclusive price of one new-energy vehicle, yuan",
    subsidy="可选：市级补贴（元/辆），国四路径必填 / Optional municipal subsidy per vehicle; needed for guo4_retired",
    vehicles="可选：车辆数，默认1 / Optional number of vehicles, default 1",
)
def VEHICLE_AWARD(route, price, subsidy=None, vehicles=None):
    """经开区自有货车/客车新能源替代奖励（元），按路径{etown:18.rate|%}或{etown:18.special_rate|%}售价，国四为差额〔etown:18〕。/ E-Town own trucks and buses to new energy, per vehicle times vehicles (etown:18)."""
    return _amount(
        "etown:18", vehicle_route=route, nev_price_yuan=price, municipal_subsidy_yuan=subsidy, vehicles=vehicles
    )


@worksheet_function(
    grade="锅炉环保绩效等级 A 或 B / Boiler performance grade A or B",
    investment="锅炉改造部分投资（不含税，元）/ Boiler-retrofit investment, tax-exclusive, yuan",
    budget_unit="可选：全额预算拨款单位则{etown:10.budget_unit_rate|%} / Optional: TRUE for a fully budget-funded unit ({etown:10.budget_unit_rate|%})",
    metering_only="可选：仅计量即达B级 / Optional: TRUE when metering alone reaches grade B",
    meter_sets="可选：计量设备套数（计量路径）/ Optional metering sets (metering route)",
)
def BOILER_AWARD(grade, investment, budget_unit=None, metering_only=None, meter_sets=None):
    """经开区燃气锅炉争A保B支持（元）：A级{etown:10.grade_a_rate|%}、B级{etown:10.grade_b_rate|%}、预算单位{etown:10.budget_unit_rate|%}、计量{etown:10.per_meter_set|万}万元/套〔etown:10〕。/ E-Town gas-boiler rating A/B: {etown:10.grade_a_rate|%}, {etown:10.grade_b_rate|%}, {etown:10.budget_unit_rate|%} for budget units, or {etown:10.per_meter_set} per metering set (etown:10)."""
    return _amount(
        "etown:10",
        boiler_grade=grade,
        investment_yuan=investment,
        budget_unit=budget_unit,
        metering_only=metering_only,
        meter_sets=meter_sets,
    )


@worksheet_function(
    fleet_size="自有货运车辆总数（≥{etown:19.min_fleet}辆）/ Own freight vehicles in the fleet (at least {etown:19.min_fleet})",
    nev_count="其中新能源车辆数 / Of which new-energy vehicles",
)
def FLEET_AWARD(fleet_size, nev_count):
    """经开区零排放货运车队奖励（元）：新能源比例{etown:19.full_share|%}/{etown:19.high_share|%}/{etown:19.low_share|%}对应{etown:19.full_award|万}/{etown:19.high_award|万}/{etown:19.low_award|万}万元〔etown:19〕。/ E-Town zero-emission freight fleet: {etown:19.full_award}, {etown:19.high_award} or {etown:19.low_award} by NEV share (etown:19)."""
    return _amount("etown:19", fleet_size=fleet_size, nev_count=nev_count)


@worksheet_function(
    price="新能源机械不含税售价（元/台）/ Tax-exclusive price of one new-energy machine, yuan",
    higher_subsidy="可选：上级补贴（元/台），默认0 / Optional higher-level subsidy per machine, default 0",
    machines="可选：台数，默认1 / Optional number of machines, default 1",
)
def MACHINERY_AWARD(price, higher_subsidy=None, machines=None):
    """经开区老旧柴油机械新能源替代（元）：{etown:21.rate|%}售价减上级补贴，乘台数〔etown:21〕。/ E-Town diesel machinery to new energy: {etown:21.rate|%} of price less the higher subsidy, per machine (etown:21)."""
    return _amount("etown:21", machine_price_yuan=price, higher_subsidy_yuan=higher_subsidy, machines=machines)


@worksheet_function(investment="可再生能源项目投资（元）/ Renewable-energy project investment, yuan")
def RENEWABLE_ENERGY_AWARD(investment):
    """通州可再生能源项目（光伏、热泵、生物质、储能）支持（元）：min({tongzhou:6.rate|%}投资, {tongzhou:6.cap|万}万)〔第六条〕。/ Tongzhou renewable-energy project: min({tongzhou:6.rate|%} of investment, {tongzhou:6.cap}) (tongzhou:6)."""
    return _amount("tongzhou:6", investment_yuan=investment)


WORKSHEET_FUNCTIONS = [
    GREEN_AWARD,
    AWARD_EXPLAIN,
    AWARD_WHATIF,
    AWARD_PAYMENTS,
    AWARD_CLAUSES,
    AWARD_INPUTS,
    TCE,
    PV_SUBSIDY,
    ENERGY_SAVING_AWARD,
    DATA_CENTRE_AWARD,
    RETROFIT_AWARD,
    GREEN_POWER_AWARD,
    LOAN_INTEREST_SUBSIDY,
    VEHICLE_AWARD,
    BOILER_AWARD,
    FLEET_AWARD,
    MACHINERY_AWARD,
    RENEWABLE_ENERGY_AWARD,
]


#: Public names of two helpers other modules' tests read: a date cell as the core reads it, a policy by id or alias.
date_cell = _on
policy_of = _policy
