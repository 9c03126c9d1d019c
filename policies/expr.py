"""The amount language: a small, closed set of expression nodes, parsed once with `ast`.

An expression is Python-like text such as ``min(unit_price * energy_saved_tce, rate * investment_yuan, cap)``.
It is parsed into the nodes below (numbers, strings, booleans, names, + - * /, min, max, round,
at_least, comparisons, and/or/not, ``a if test else b``) and never passed to ``eval``. The same tree
is evaluated exactly with ``Decimal`` (``compile_expr``) and rendered as an Excel formula (``to_excel``).

Sums, differences and products are exact (no digit is ever rounded away); a quotient has 28
significant digits. A share compared with a threshold is therefore written cross-multiplied with
``at_least``: ``at_least(nev_count, high_share * fleet_size)`` is exactly ``nev_count ≥ 0.9 × fleet_size``
in the core, and in Excel, whose doubles carry noise in the last bits, it allows the right side's
value times ``TOLERANCE`` (relative 1e-9) below: an exact 90% passes in both, 1,799,999 of
2,000,000 fails in both.

Excel's AND/OR evaluate every argument, so a guard against division by zero must be written as
``a if test else b`` (IF short-circuits in Excel as in Python).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import Callable

from .numbers import fmt

FUNCTIONS = ("min", "max", "round", "at_least")
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)  # + - × never round (inputs are bounded)
TOLERANCE = "0.000000001"  # at_least in Excel: the relative noise of doubles it forgives, and no more
_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_SHOW = {"*": "×", "/": "÷", "-": "−", "+": "+", "==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}


class ExpressionError(ValueError):
    """Text that is not in the amount language."""


@dataclass(eq=False)
class Node:
    kind: str  # num str bool name neg not bin cmp and or call if
    value: object = None  # literal value, name, operator or function name
    args: tuple["Node", ...] = ()
    text: str = field(default="", repr=False)  # how the trace shows this node


def parse(source: str) -> Node:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    return _convert(tree.body)


def _convert(n: ast.AST) -> Node:
    if isinstance(n, ast.Constant):
        if isinstance(n.value, bool):
            return Node("bool", n.value)
        if isinstance(n.value, (int, float)):
            return Node("num", Decimal(repr(n.value)) if isinstance(n.value, float) else Decimal(n.value))
        if isinstance(n.value, str):
            return Node("str", n.value)
        raise ExpressionError(f"constant {n.value!r} is not allowed")
    if isinstance(n, ast.Name):
        return Node("name", n.id)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
        return Node("neg", args=(_convert(n.operand),))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
        return Node("not", args=(_convert(n.operand),))
    if isinstance(n, ast.BinOp) and type(n.op) in _BIN:
        return Node("bin", _BIN[type(n.op)], (_convert(n.left), _convert(n.right)))
    if isinstance(n, ast.Compare):
        if len(n.ops) != 1 or type(n.ops[0]) not in _CMP:
            raise ExpressionError("only single comparisons (==, !=, <, <=, >, >=) are allowed")
        return Node("cmp", _CMP[type(n.ops[0])], (_convert(n.left), _convert(n.comparators[0])))
    if isinstance(n, ast.BoolOp):
        return Node("and" if isinstance(n.op, ast.And) else "or", args=tuple(_convert(v) for v in n.values))
    if isinstance(n, ast.IfExp):
        return Node("if", args=(_convert(n.test), _convert(n.body), _convert(n.orelse)))
    if isinstance(n, ast.Call):
        if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS or n.keywords:
            raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} are allowed")
        args = tuple(_convert(a) for a in n.args)
        if n.func.id == "round" and (len(args) != 2 or args[1].kind != "num"):
            raise ExpressionError("round takes a value and a number of decimal places")
        if n.func.id in ("min", "max") and len(args) < 2:
            raise ExpressionError(f"{n.func.id} needs at least two values")
        if n.func.id == "at_least" and len(args) != 2:
            raise ExpressionError("at_least takes a value and the threshold it must reach")
        return Node("call", n.func.id, args)
    raise ExpressionError(f"{type(n).__name__} is not allowed in an amount expression")


def walk(node: Node):
    yield node
    for arg in node.args:
        yield from walk(arg)


def names(node: Node) -> list[str]:
    """Names in the order they first appear."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if n.kind == "name":
            seen.setdefault(n.value)
    return list(seen)


def string_comparisons(node: Node) -> list[tuple[str, str]]:
    """(name, literal) pairs of every ``name == "literal"`` style comparison, to check choice values."""
    pairs = []
    for n in walk(node):
        if n.kind == "cmp":
            a, b = n.args
            if a.kind == "name" and b.kind == "str":
                pairs.append((a.value, b.value))
            elif b.kind == "name" and a.kind == "str":
                pairs.append((b.value, a.value))
    return pairs


# --- text for the trace -------------------------------------------------------------------------


def annotate(node: Node, show_name: Callable[[str], str]) -> None:
    """Fill each node's ``text``; ``show_name`` shows a name (a parameter with its value)."""
    for arg in node.args:
        annotate(arg, show_name)
    a = [arg.text for arg in node.args]
    k = node.kind
    if k == "num":
        node.text = fmt(node.value)
    elif k == "str":
        node.text = repr(node.value)
    elif k == "bool":
        node.text = "true" if node.value else "false"
    elif k == "name":
        node.text = show_name(node.value)
    elif k == "neg":
        node.text = f"−{a[0]}"
    elif k == "not":
        node.text = f"not {a[0]}"
    elif k in ("bin", "cmp"):
        node.text = f"({a[0]} {_SHOW[node.value]} {a[1]})" if k == "bin" else f"{a[0]} {_SHOW[node.value]} {a[1]}"
    elif k in ("and", "or"):
        node.text = f" {k} ".join(a)
    elif k == "call" and node.value == "at_least":
        node.text = f"{a[0]} ≥ {a[1]}"
    elif k == "call":
        node.text = f"{node.value}({', '.join(a)})"
    elif k == "if":
        node.text = f"({a[1]} if {a[0]} else {a[2]})"


# --- evaluation ---------------------------------------------------------------------------------


class MissingName(Exception):
    """A name the expression needs that the inputs do not hold."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class Context:
    """What one evaluation reads (``env``) and records: the choice of each min/max/if, and each
    min/max evaluated as ``(node, its arguments' values, the index chosen)``."""

    __slots__ = ("env", "chosen", "steps")

    def __init__(self, env: dict[str, object]):
        self.env = env
        self.chosen: dict[int, int] = {}
        self.steps: list[tuple[Node, list, int]] = []


Compiled = Callable[[Context], object]


def compile_expr(node: Node, record: bool = True) -> Compiled:
    """A closure that evaluates ``node`` over ``ctx.env``; min/max/if record their choice in ``ctx``."""
    k = node.kind
    if k in ("num", "str", "bool"):
        value = node.value
        return lambda ctx: value
    if k == "name":
        key = node.value

        def name(ctx: Context):
            try:
                return ctx.env[key]
            except KeyError:
                raise MissingName(key) from None

        return name
    subs = [compile_expr(arg, record) for arg in node.args]
    if k == "neg":
        (f,) = subs
        return lambda ctx: -f(ctx)
    if k == "not":
        (f,) = subs
        return lambda ctx: not f(ctx)
    if k == "bin":
        f, g = subs
        add, subtract, multiply = EXACT.add, EXACT.subtract, EXACT.multiply
        return {
            "+": lambda ctx: add(f(ctx), g(ctx)),
            "-": lambda ctx: subtract(f(ctx), g(ctx)),
            "*": lambda ctx: multiply(f(ctx), g(ctx)),
            "/": lambda ctx: f(ctx) / g(ctx),
        }[node.value]
    if k == "cmp":
        f, g = subs
        return {
            "==": lambda ctx: f(ctx) == g(ctx),
            "!=": lambda ctx: f(ctx) != g(ctx),
            "<": lambda ctx: f(ctx) < g(ctx),
            "<=": lambda ctx: f(ctx) <= g(ctx),
            ">": lambda ctx: f(ctx) > g(ctx),
            ">=": lambda ctx: f(ctx) >= g(ctx),
        }[node.value]
    if k == "and":
        return lambda ctx: all(f(ctx) for f in subs)
    if k == "or":
        return lambda ctx: any(f(ctx) for f in subs)
    if k == "if":
        test, body, orelse = subs
        key = id(node)

        def choose(ctx: Context):
            if test(ctx):
                ctx.chosen[key] = 1
                return body(ctx)
            ctx.chosen[key] = 2
            return orelse(ctx)

        return choose
    if node.value == "round":
        f, places = subs[0], Decimal(1).scaleb(-int(node.args[1].value))
        return lambda ctx: f(ctx).quantize(places, rounding=ROUND_HALF_UP)
    if node.value == "at_least":
        f, g = subs
        return lambda ctx: f(ctx) >= g(ctx)
    pick = min if node.value == "min" else max
    key = id(node)

    def extreme(ctx: Context):
        values = [f(ctx) for f in subs]
        result = pick(values)
        index = values.index(result)
        ctx.chosen[key] = index
        if record:
            ctx.steps.append((node, values, index))
        return result

    return extreme


def deciding_name(node: Node, chosen: dict[int, int], is_parameter: Callable[[str], bool]) -> str | None:
    """The parameter that decided the value: follow the arguments min/max/if chose, then the first parameter."""
    k = node.kind
    if k == "name":
        return node.value if is_parameter(node.value) else None
    if k == "call" and node.value in ("min", "max") and id(node) in chosen:
        return deciding_name(node.args[chosen[id(node)]], chosen, is_parameter)
    if k == "if" and id(node) in chosen:
        return deciding_name(node.args[chosen[id(node)]], chosen, is_parameter)
    for arg in node.args:
        if k == "if":
            break
        found = deciding_name(arg, chosen, is_parameter)
        if found:
            return found
    return None


def bound_names(node: Node, chosen: dict[int, int], is_parameter: Callable[[str], bool]) -> list[str]:
    """Every limit on the path the evaluation took: each parameter it reached (min/max/if: through the
    argument chosen; a test is not on the path) and, where a min/max chose an argument that holds no
    parameter, the inputs in that argument (then an input bound)."""
    out: list[str] = []

    def visit(n: Node, inputs: bool) -> None:
        k = n.kind
        if k == "name":
            if is_parameter(n.value) or inputs:
                out.append(n.value)
        elif k == "if" or (k == "call" and n.value in ("min", "max")):
            at = chosen.get(id(n))
            if at is None:
                return
            arm = n.args[at]
            if k == "if":
                visit(arm, inputs)
                return
            before = len(out)
            visit(arm, False)
            if len(out) == before:
                visit(arm, True)
        elif k in ("bin", "neg", "call"):
            for arg in n.args:
                visit(arg, inputs)

    visit(node, False)
    return list(dict.fromkeys(out))


# --- Excel --------------------------------------------------------------------------------------

_XL_CMP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def to_excel(node: Node, ref: Callable[[str], str]) -> str:
    """The node as an Excel formula body (no leading ``=``); ``ref`` renders a name (a cell, or a value)."""
    k, a = node.kind, node.args
    if k == "num":
        return format(node.value.normalize(), "f")
    if k == "str":
        return '"' + node.value.replace('"', '""') + '"'
    if k == "bool":
        return "TRUE" if node.value else "FALSE"
    if k == "name":
        return ref(node.value)
    if k == "neg":
        return f"-({to_excel(a[0], ref)})"
    if k == "not":
        return f"NOT({to_excel(a[0], ref)})"
    if k == "bin":
        return f"({to_excel(a[0], ref)}{node.value}{to_excel(a[1], ref)})"
    if k == "cmp":
        return f"({to_excel(a[0], ref)}{_XL_CMP[node.value]}{to_excel(a[1], ref)})"
    if k in ("and", "or"):
        return f"{k.upper()}({','.join(to_excel(x, ref) for x in a)})"
    if k == "if":
        return f"IF({to_excel(a[0], ref)},{to_excel(a[1], ref)},{to_excel(a[2], ref)})"
    if node.value == "at_least":
        value, threshold = to_excel(a[0], ref), to_excel(a[1], ref)
        return f"({value}>={threshold}-ABS({threshold})*{TOLERANCE})"
    return f"{node.value.upper()}({','.join(to_excel(x, ref) for x in a)})"
