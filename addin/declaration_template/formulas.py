"""Formulas and words from a clause's expressions: how a formula reads an input's cell (``input_ref``),
the rendered Excel formula (``excel``, ``rule_formula``) and the rule in words (``describe``)."""

from __future__ import annotations

from decimal import Decimal

from policies import expr
from policies.engine import CompiledClause
from policies.numbers import fmt
from policies.schema import InputSpec, Parameter

from .definitions import NO, YES, choices


def input_ref(name: str, spec: InputSpec) -> str:
    """How the rendered formula reads input ``name`` (the cell is the defined name ``in_<name>``)."""
    cell = f"in_{name}"
    if spec.type == "bool":
        return f'({cell}<>"{NO}")' if spec.default is True else f'({cell}="{YES}")'
    if spec.type == "choice":
        if spec.default is not None:
            return f'IF(ISBLANK({cell}),"{choices(spec)[str(spec.default)].zh}",{cell}&"")'
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
                and literal.value in choices(spec)
            ):
                label = expr.String(choices(spec)[literal.value].zh)
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

PERCENT_KINDS = ("rate", "ratio", "share")
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
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
SYMBOLS = {"+": "＋", "-": "－", "*": "×", "/": "÷", "==": "＝", "!=": "≠", "<": "＜", "<=": "≤", ">": "＞", ">=": "≥"}


def show_parameter(p: Parameter) -> str:
    """A parameter's value as people write it: 50% for a share, 800 for a price, 5,000,000 for a cap."""
    percent = p.kind in PERCENT_KINDS or (p.kind == "threshold" and p.unit is None and p.value <= 1)
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
            if isinstance(n.left, expr.BinOp) and PRECEDENCE[n.left.op] < PRECEDENCE[n.op]:
                left = f"（{left}）"
            if isinstance(n.right, expr.BinOp) and (
                PRECEDENCE[n.right.op] < PRECEDENCE[n.op]
                or (PRECEDENCE[n.right.op] == PRECEDENCE[n.op] and n.op in "-/")
            ):
                right = f"（{right}）"
            return f"{left} {SYMBOLS[n.op]} {right}"
        if isinstance(n, expr.Compare):
            for name, literal in ((a[0], a[1]), (a[1], a[0])):
                spec = specs.get(name.name) if isinstance(name, expr.Name) else None
                if spec is not None and spec.type == "choice" and isinstance(literal, expr.String):
                    word = "为" if n.op == "==" else "不为"
                    return f"【{spec.label.zh}】{word}“{choices(spec)[literal.value].zh}”"
            return f"{show(a[0])} {SYMBOLS[n.op]} {show(a[1])}"
        if isinstance(n, expr.BoolOp):
            joined = ("且" if n.op == "and" else "或").join(
                f"（{test(x)}）" if isinstance(x, expr.BoolOp) else test(x) for x in a
            )
            return joined
        if isinstance(n, expr.Call):
            if n.function == "round":
                return show(a[0])
            if n.function == "at_least":  # a ≥ b (it was shown as 取大值, the larger of a and b)
                return f"{show(a[0])} {SYMBOLS['>=']} {show(a[1])}"
            word = "取小值" if n.function == "min" else "取大值"
            return f"{word}（{'，'.join(show(x) for x in a)}）"
        return f"（若{test(a[0])}：{show(a[1])}；否则：{show(a[2])}）"  # IfElse

    text = test(node)
    return text[1:-1] if text.startswith("（若") and text.endswith("）") else text
