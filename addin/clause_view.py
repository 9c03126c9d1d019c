"""``green-award clauses [CLAUSE]``: the catalog as people read it in a terminal, 80 columns included.

The list shows each clause's id, article and title, the input names users type (one per line,
never cut) and its cap; one clause shows in full: its source sentence, amount rule, inputs with
units, choices and defaults, conditions, parameters with the words they cite, rules and notes.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from policies import catalog
from policies.catalog import input_info
from policies.engine import compiled, find_clause
from policies.numbers import fmt
from policies.registry import zones
from policies.render import amount_kind

from . import console_tables as tables


def print_clauses(policy: str | None, console: Console) -> None:
    rows = catalog(policy)
    table = tables.table("条款 Clauses (green-award clauses CLAUSE: one in full / 查看单项)")
    tables.name(table, "条款\nClause")
    tables.text(table, "标题\nTitle", min_width=16)
    tables.name(table, "输入\nInputs")
    tables.figure(table, "上限（元）\nCap (yuan)")
    for row in rows:
        inputs = "\n".join(i["name"] for i in row["inputs"] if i["kind"] == "input")
        cap = fmt(row["max_amount"]) if row["max_amount"] is not None else ("—" if row["monetary"] else "无金额 none")
        table.add_row(row["id"], f"{row['article']} {row['title_zh']}\n{row['title_en']}", inputs, cap)
    console.print(table)


def _need(info: dict) -> str:
    """How to fill an input: its choices (label and code), range, default or need."""
    parts = []
    if info["values"]:
        parts.append("之一 one of: " + info["values"])
    low, high = info["min"], info["max"]
    if low and high:
        parts.append(f"{low} – {high}")
    elif low or high:
        parts.append(f"≥ {low}" if low else f"≤ {high}")
    parts.append(info["need"])
    return "; ".join(parts)


def clause_details(clause_id: str) -> dict:
    """One clause in full, as data: what ``green-award clauses CLAUSE`` prints and the web app's clause page
    shows (raises the core's error for an unknown id)."""
    policy, clause = find_clause(clause_id)
    data: dict = {
        "id": clause.id,
        "article": clause.article,
        "title_zh": clause.title.zh,
        "title_en": clause.title.en,
        "policy": policy.id,
        "policy_zh": policy.title.zh,
        "policy_en": policy.title.en,
        "number": policy.number or "",
        "source": clause.source,
        "monetary": clause.monetary,
        "amount": clause.amount or "",
        "amount_kind": amount_kind(clause.ceiling) if clause.monetary else "",
        "max_amount": clause.max_amount,
        "validity": policy.validity,
        "inputs": [],
        "conditions": [],
        "parameters": [
            {
                "name": name,
                "value": fmt(p.value) + (f" {p.unit}" if p.unit else ""),
                "dated": [f"{fmt(dated)} from {day}" for day, dated in (p.values or {}).items()],
                "kind": p.kind,
                "cites": p.cites,
            }
            for name, p in clause.parameters.items()
        ],
        "rules": [{"zh": r.reason.zh, "en": r.reason.en, "cites": r.cites, "when": r.when} for r in clause.requires],
        "notes": [{"zh": n.zh, "en": n.en} for n in clause.notes],
        "payment": None,
        "zones": [],
    }
    names = dict(clause.inputs)
    kinds = {name: "input" for name in names}
    if clause.monetary:
        cc = compiled(clause.id)
        names.update(cc.schedule.inputs)
        kinds.update({name: "payment" for name in cc.schedule.inputs})
        data["conditions"] = [
            {"name": n, "zh": c.label.zh, "en": c.label.en, "cites": c.cites} for n, c in cc.conditions.items()
        ]
        schedule = cc.schedule
        data["payment"] = {
            "zh": schedule.label.zh,
            "en": schedule.label.en,
            "cites": schedule.cites,
            "stages": [f"{fmt(s.share * 100)}% {s.label.zh} / {s.label.en}" for s in schedule.stages],
        }
        labels = zones()
        data["zones"] = [{"code": z, "zh": labels[z].zh, "en": labels[z].en} for z in cc.allowed_zones]
    data["inputs"] = [input_info(name, spec, kind=kinds[name]) for name, spec in names.items()]
    return data


def print_clause(clause_id: str, console: Console) -> None:
    """One clause in full (raises the core's error for an unknown id)."""
    c = clause_details(clause_id)

    def say(label: str, text: str) -> None:
        console.print(f"[bold]{label}:[/bold] {escape(text)}", highlight=False)

    head = f"{c['id']}  {c['article']}  {c['title_zh']}"
    console.print(f"[bold]{escape(head)}[/bold]\n{escape(c['title_en'])}", highlight=False)
    say("政策 Policy", f"{c['policy']}: {c['policy_zh']}" + (f" {c['number']}" if c["number"] else ""))
    say("原文 Source", c["source"])
    if not c["monetary"]:
        say("金额 Amount", "本条不计算金额 no amount (a rule or a scope)")
    else:
        say("金额 Amount", f"{c['amount']} — {c['amount_kind']}")
        say(
            "单项上限 Cap",
            f"{fmt(c['max_amount'])} 元" if c["max_amount"] is not None else "— (原文未设上限 no cap)",
        )
        pay = c["payment"]
        say("支付 Payment", f"{pay['zh']} / {pay['en']} 〔{pay['cites']}〕: {'; '.join(pay['stages'])}")
        say("区域 Zones", "; ".join(f"{z['zh']} {z['en']} [{z['code']}]" for z in c["zones"]))
    validity = c["validity"]
    say("有效期 Validity", f"{validity.start or validity.start_year or '…'} – {validity.end or '…'}")

    if c["inputs"]:
        table = tables.table("输入 Inputs")
        tables.name(table, "名称\nName")
        tables.text(table, "说明\nLabel", min_width=14)
        tables.name(table, "类型 单位\nType, unit")
        tables.text(table, "取值\nValues", min_width=14)
        for info in c["inputs"]:
            unit = f"{info['type']} {info['unit']}".strip()
            table.add_row(info["name"], f"{info['label_zh']}\n{info['label_en']}", unit, _need(info))
        console.print(table)
    if c["monetary"]:
        table = tables.table("条件（是/否，空=假定满足）Conditions (yes/no; empty = assumed)")
        tables.name(table, "名称\nName")
        tables.text(table, "条件\nCondition", min_width=20)
        tables.text(table, "出处\nCites", min_width=8)
        for condition in c["conditions"]:
            table.add_row(condition["name"], f"{condition['zh']}\n{condition['en']}", condition["cites"])
        if table.row_count:
            console.print(table)
    if c["parameters"]:
        table = tables.table("参数 Parameters")
        tables.name(table, "名称\nName")
        tables.figure(table, "数值\nValue")
        tables.name(table, "类别\nKind")
        tables.text(table, "原文依据\nCites", min_width=20)
        for parameter in c["parameters"]:  # a value that changes by date: each from its day, a line each
            value = "\n".join([parameter["value"], *parameter["dated"]])
            table.add_row(parameter["name"], value, parameter["kind"], parameter["cites"])
        console.print(table)
    for rule in c["rules"]:
        say("规则 Rule", f"{rule['zh']} / {rule['en']} 〔{rule['cites']}〕 ({rule['when']})")
    for note in c["notes"]:
        say("注 Note", f"{note['zh']} / {note['en']}")
