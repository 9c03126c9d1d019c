"""The amount language: a small, closed set of expression nodes, parsed once with `ast`.

An expression is Python-like text such as ``min(unit_price * energy_saved_tce, rate * investment_yuan, cap)``.
It is parsed into the nodes below (numbers, strings, booleans, names, + - * /, min, max, round,
at_least, comparisons, and/or/not, ``a if test else b``); the text itself is never passed to ``eval``
(``compile_expr`` generates Python from the checked tree, with every value passed by reference). The same tree
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Decimal
from decimal import Context as DecimalContext
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, get_args

from .numbers import fmt

BinOperator = Literal["+", "-", "*", "/"]
CmpOperator = Literal["==", "!=", "<", "<=", ">", ">="]
Function = Literal["min", "max", "round", "at_least"]
FUNCTIONS: tuple[Function, ...] = get_args(Function)
EXACT = DecimalContext(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)  # + - × never round (inputs are bounded)
TOLERANCE = "0.000000001"  # at_least in Excel: the relative noise of doubles it forgives, and no more
_BIN: dict[type[ast.operator], BinOperator] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMP: dict[type[ast.cmpop], CmpOperator] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_SHOW = {"*": "×", "/": "÷", "-": "−", "+": "+", "==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}


class ExpressionError(ValueError):
    """Text that is not in the amount language."""


# --- the nodes ----------------------------------------------------------------------------------
# One dataclass per kind. ``args`` is every node's sub-nodes in order (``walk``, ``deciding_name``
# and ``Context.chosen`` index into it). ``text`` is the one mutable part: how the trace shows the
# node, filled in place by ``annotate`` (the engine annotates a clause's tree once, when compiled).
# Identity matters (``Context.chosen`` is keyed by ``id(node)``), so nodes compare by identity.


@dataclass(eq=False)
class _Node:
    text: str = field(default="", repr=False, kw_only=True)


@dataclass(eq=False)
class _Leaf(_Node):
    """A node without operands (a number, text, yes/no or name)."""

    @property
    def args(self) -> tuple[Node, ...]:
        return ()


@dataclass(eq=False)
class Number(_Leaf):
    value: Decimal


@dataclass(eq=False)
class String(_Leaf):
    value: str


@dataclass(eq=False)
class Bool(_Leaf):
    value: bool


@dataclass(eq=False)
class Name(_Leaf):
    name: str


@dataclass(eq=False)
class Neg(_Node):
    operand: Node

    @property
    def args(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False)
class Not(_Node):
    operand: Node

    @property
    def args(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False)
class BinOp(_Node):
    op: BinOperator
    left: Node
    right: Node

    @property
    def args(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False)
class Compare(_Node):
    op: CmpOperator
    left: Node
    right: Node

    @property
    def args(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False)
class BoolOp(_Node):
    op: Literal["and", "or"]
    values: tuple[Node, ...]

    @property
    def args(self) -> tuple[Node, ...]:
        return self.values


@dataclass(eq=False)
class Call(_Node):
    function: Function
    args: tuple[Node, ...]


@dataclass(eq=False)
class IfElse(_Node):
    test: Node
    body: Node
    orelse: Node

    @property
    def args(self) -> tuple[Node, ...]:
        return (self.test, self.body, self.orelse)


Node: TypeAlias = Number | String | Bool | Name | Neg | Not | BinOp | Compare | BoolOp | Call | IfElse


def with_args(node: Node, args: tuple[Node, ...]) -> Node:
    """A node of the same kind with other sub-nodes (``args`` in the order ``node.args`` has them)."""
    match node:
        case Number() | String() | Bool() | Name():
            return node
        case Neg():
            return Neg(*args)
        case Not():
            return Not(*args)
        case BinOp(op):
            return BinOp(op, *args)
        case Compare(op):
            return Compare(op, *args)
        case BoolOp(op):
            return BoolOp(op, args)
        case Call(function):
            return Call(function, args)
        case IfElse():
            return IfElse(*args)


# --- parsing ------------------------------------------------------------------------------------


def parse(source: str) -> Node:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    return _convert(tree.body)


def _convert(n: ast.AST) -> Node:
    if isinstance(n, ast.Constant):
        if isinstance(n.value, bool):
            return Bool(n.value)
        if isinstance(n.value, (int, float)):
            return Number(Decimal(repr(n.value)) if isinstance(n.value, float) else Decimal(n.value))
        if isinstance(n.value, str):
            return String(n.value)
        raise ExpressionError(f"constant {n.value!r} is not allowed")
    if isinstance(n, ast.Name):
        return Name(n.id)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
        return Neg(_convert(n.operand))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
        return Not(_convert(n.operand))
    if isinstance(n, ast.BinOp) and type(n.op) in _BIN:
        return BinOp(_BIN[type(n.op)], _convert(n.left), _convert(n.right))
    if isinstance(n, ast.Compare):
        if len(n.ops) != 1 or type(n.ops[0]) not in _CMP:
            raise ExpressionError("only single comparisons (==, !=, <, <=, >, >=) are allowed")
        return Compare(_CMP[type(n.ops[0])], _convert(n.left), _convert(n.comparators[0]))
    if isinstance(n, ast.BoolOp):
        return BoolOp("and" if isinstance(n.op, ast.And) else "or", tuple(_convert(v) for v in n.values))
    if isinstance(n, ast.IfExp):
        return IfElse(_convert(n.test), _convert(n.body), _convert(n.orelse))
    if isinstance(n, ast.Call):
        function = _function(n)
        args = tuple(_convert(a) for a in n.args)
        if function == "round" and (len(args) != 2 or not isinstance(args[1], Number)):
            raise ExpressionError("round takes a value and a number of decimal places")
        if function in ("min", "max") and len(args) < 2:
            raise ExpressionError(f"{function} needs at least two values")
        if function == "at_least" and len(args) != 2:
            raise ExpressionError("at_least takes a value and the threshold it must reach")
        return Call(function, args)
    raise ExpressionError(f"{type(n).__name__} is not allowed in an amount expression")


def _function(n: ast.Call) -> Function:
    if isinstance(n.func, ast.Name) and not n.keywords:
        for function in FUNCTIONS:
            if n.func.id == function:
                return function
    raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} are allowed")


def walk(node: Node) -> Iterator[Node]:
    yield node
    for arg in node.args:
        yield from walk(arg)


def names(node: Node) -> list[str]:
    """Names in the order they first appear."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Name):
            seen.setdefault(n.name)
    return list(seen)


def string_comparisons(node: Node) -> list[tuple[str, str]]:
    """(name, literal) pairs of every ``name == "literal"`` style comparison, to check choice values."""
    pairs = []
    for n in walk(node):
        match n:
            case Compare(_, Name(name), String(literal)) | Compare(_, String(literal), Name(name)):
                pairs.append((name, literal))
    return pairs


# --- text for the trace -------------------------------------------------------------------------


def annotate(node: Node, show_name: Callable[[str], str]) -> None:
    """Fill each node's ``text``; ``show_name`` shows a name (a parameter with its value)."""
    for arg in node.args:
        annotate(arg, show_name)
    a = [arg.text for arg in node.args]
    match node:
        case Number(value):
            node.text = fmt(value)
        case String(value):
            node.text = repr(value)
        case Bool(value):
            node.text = "true" if value else "false"
        case Name(name):
            node.text = show_name(name)
        case Neg():
            node.text = f"−{a[0]}"
        case Not():
            node.text = f"not {a[0]}"
        case BinOp(op):
            node.text = f"({a[0]} {_SHOW[op]} {a[1]})"
        case Compare(op):
            node.text = f"{a[0]} {_SHOW[op]} {a[1]}"
        case BoolOp(op):
            node.text = f" {op} ".join(a)
        case Call("at_least"):
            node.text = f"{a[0]} ≥ {a[1]}"
        case Call(function):
            node.text = f"{function}({', '.join(a)})"
        case IfElse():
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
        self.steps: list[tuple[Call, list[Any], int]] = []  # each min/max: its arguments' values, the one chosen


# The language is typed by the clause's schema (its inputs are coerced before evaluation), not
# here: a value is a Decimal, a str or a bool, and the closures pass it on as ``Any``.
Compiled = Callable[[Context], Any]
NONE: Mapping[str, object] = MappingProxyType({})  # no constants (``compile_expr``)


def compile_expr(node: Node, record: bool = True, constants: Mapping[str, object] = NONE) -> Compiled:
    """A function that evaluates ``node`` over ``ctx.env``; min/max/if record their choice in ``ctx``
    (min/max also their arguments' values in ``ctx.steps`` when ``record``). A name in ``constants``
    (a clause's parameters) is that value, written into the function: ``ctx.env`` need not hold it.

    The function is Python source generated from the tree (``_source``) and compiled once: an
    evaluation makes one call, not one per node. A tree too deep for Python's compiler (a sum of
    hundreds of terms) gets the same evaluation as nested closures (``compile_closures``)."""
    try:
        return _generated(node, record, constants)
    except (SyntaxError, RecursionError, MemoryError):
        return compile_closures(node, record, constants)


_OPERATIONS = {"+": "add", "-": "subtract", "*": "multiply"}  # exact (``EXACT``); "/" in the current context


def _generated(node: Node, record: bool, constants: Mapping[str, object]) -> Compiled:
    namespace: dict[str, Any] = {
        "MissingName": MissingName,
        "add": EXACT.add,
        "subtract": EXACT.subtract,
        "multiply": EXACT.multiply,
        "HALF_UP": ROUND_HALF_UP,
    }

    def constant(value: object) -> str:
        name = f"k{len(namespace)}"
        namespace[name] = value
        return name

    def source(n: Node) -> str:
        """``n`` as a Python expression in parentheses or a call (an atom wherever it is put); values
        (numbers, the min/max helpers) are passed in by name, never written as text."""
        a = [source(arg) for arg in n.args]
        match n:
            case Number(value) | String(value) | Bool(value):
                return constant(value)
            case Name(variable) if variable in constants:
                return constant(constants[variable])
            case Name(variable):
                return f"env[{variable!r}]"  # an identifier (``parse`` admits no other name)
            case Neg():
                return f"(-{a[0]})"
            case Not():
                return f"(not {a[0]})"
            case BinOp("/"):
                return f"({a[0]} / {a[1]})"
            case BinOp(op):
                return f"{_OPERATIONS[op]}({a[0]}, {a[1]})"
            case Compare(op):
                return f"({a[0]} {op} {a[1]})"
            case BoolOp(op):
                return f"bool({f' {op} '.join(a)})"
            case IfElse():
                key = constant(id(n))
                return f"(chosen.__setitem__({key}, 1) or {a[1]} if {a[0]} else chosen.__setitem__({key}, 2) or {a[2]})"
            case Call("round", (_, Number(digits))):
                return f"{a[0]}.quantize({constant(Decimal(1).scaleb(-int(digits)))}, rounding=HALF_UP)"
            case Call("at_least"):
                return f"({a[0]} >= {a[1]})"
            case Call("min" | "max" as label):
                return f"{constant(_extreme(n, label, record))}(ctx, [{', '.join(a)}])"
        raise ExpressionError(f"cannot evaluate {n!r}")  # a tree ``parse`` did not make

    text = (
        "def expression(ctx):\n"
        "    env, chosen = ctx.env, ctx.chosen\n"
        "    try:\n"
        f"        return {source(node)}\n"
        "    except KeyError as missing:\n"
        "        raise MissingName(missing.args[0]) from None\n"
    )
    exec(compile(text, "<policy expression>", "exec"), namespace)  # noqa: S102 - source made from the tree above
    function: Compiled = namespace["expression"]
    return function


def compile_closures(node: Node, record: bool = True, constants: Mapping[str, object] = NONE) -> Compiled:
    """``compile_expr``'s evaluation as nested closures: for trees too deep to compile as one function."""
    subs = [compile_closures(arg, record, constants) for arg in node.args]
    match node:
        case Number(value) | String(value) | Bool(value):
            constant: Decimal | str | bool = value
            return lambda ctx: constant
        case Name(variable) if variable in constants:
            known = constants[variable]
            return lambda ctx: known
        case Name(variable):

            def name(ctx: Context) -> Any:
                try:
                    return ctx.env[variable]
                except KeyError:
                    raise MissingName(variable) from None

            return name
        case Neg():
            (f,) = subs
            return lambda ctx: -f(ctx)
        case Not():
            (f,) = subs
            return lambda ctx: not f(ctx)
        case BinOp(op):  # one closure per operator: the hot path makes no extra call
            f, g = subs
            add, subtract, multiply = EXACT.add, EXACT.subtract, EXACT.multiply
            arithmetic: dict[BinOperator, Compiled] = {
                "+": lambda ctx: add(f(ctx), g(ctx)),
                "-": lambda ctx: subtract(f(ctx), g(ctx)),
                "*": lambda ctx: multiply(f(ctx), g(ctx)),
                "/": lambda ctx: f(ctx) / g(ctx),  # in the current context: 28 significant digits
            }
            return arithmetic[op]
        case Compare(op):
            f, g = subs
            compare: dict[CmpOperator, Compiled] = {
                "==": lambda ctx: f(ctx) == g(ctx),
                "!=": lambda ctx: f(ctx) != g(ctx),
                "<": lambda ctx: f(ctx) < g(ctx),
                "<=": lambda ctx: f(ctx) <= g(ctx),
                ">": lambda ctx: f(ctx) > g(ctx),
                ">=": lambda ctx: f(ctx) >= g(ctx),
            }
            return compare[op]
        case BoolOp("and"):
            return lambda ctx: all(f(ctx) for f in subs)
        case BoolOp("or"):
            return lambda ctx: any(f(ctx) for f in subs)
        case IfElse():
            test, body, orelse = subs
            key = id(node)

            def choose(ctx: Context) -> Any:
                if test(ctx):
                    ctx.chosen[key] = 1
                    return body(ctx)
                ctx.chosen[key] = 2
                return orelse(ctx)

            return choose
        case Call("round", (_, Number(digits))):
            f, places = subs[0], Decimal(1).scaleb(-int(digits))
            return lambda ctx: f(ctx).quantize(places, rounding=ROUND_HALF_UP)
        case Call("at_least"):
            f, g = subs
            return lambda ctx: f(ctx) >= g(ctx)
        case Call("min" | "max" as label):
            pick = _extreme(node, label, record)
            return lambda ctx: pick(ctx, [f(ctx) for f in subs])
    raise ExpressionError(f"cannot evaluate {node!r}")  # a tree ``parse`` did not make


def _extreme(node: Call, label: str, record: bool) -> Callable[[Context, list[Any]], Any]:
    """A min/max over its arguments' values: the one chosen recorded (and, when ``record``, the values)."""
    pick = min if label == "min" else max
    key = id(node)

    def extreme(ctx: Context, values: list[Any]) -> Any:
        result = pick(values)
        index = values.index(result)
        ctx.chosen[key] = index
        if record:
            ctx.steps.append((node, values, index))
        return result

    return extreme


def deciding_name(node: Node, chosen: dict[int, int], is_parameter: Callable[[str], bool]) -> str | None:
    """The parameter that decided the value: follow the arguments min/max/if chose, then the first parameter."""
    match node:
        case Name(name):
            return name if is_parameter(name) else None
        case Call("min" | "max") | IfElse() if id(node) in chosen:
            return deciding_name(node.args[chosen[id(node)]], chosen, is_parameter)
        case IfElse():  # not evaluated: its test is no limit
            return None
    for arg in node.args:
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
        match n:
            case Name(name):
                if is_parameter(name) or inputs:
                    out.append(name)
            case IfElse():
                at = chosen.get(id(n))
                if at is not None:
                    visit(n.args[at], inputs)
            case Call("min" | "max"):
                at = chosen.get(id(n))
                if at is None:
                    return
                arm = n.args[at]
                before = len(out)
                visit(arm, False)
                if len(out) == before:
                    visit(arm, True)
            case BinOp() | Neg() | Call():
                for arg in n.args:
                    visit(arg, inputs)

    visit(node, False)
    return list(dict.fromkeys(out))


# --- Excel --------------------------------------------------------------------------------------

_XL_CMP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def to_excel(node: Node, ref: Callable[[str], str]) -> str:
    """The node as an Excel formula body (no leading ``=``); ``ref`` renders a name (a cell, or a value)."""
    a = [to_excel(arg, ref) for arg in node.args]
    match node:
        case Number(value):
            return format(value.normalize(), "f")
        case String(value):
            return '"' + value.replace('"', '""') + '"'
        case Bool(value):
            return "TRUE" if value else "FALSE"
        case Name(name):
            return ref(name)
        case Neg():
            return f"-({a[0]})"
        case Not():
            return f"NOT({a[0]})"
        case BinOp(op):
            return f"({a[0]}{op}{a[1]})"
        case Compare(op):
            return f"({a[0]}{_XL_CMP[op]}{a[1]})"
        case BoolOp(op):
            return f"{op.upper()}({','.join(a)})"
        case IfElse():
            return f"IF({a[0]},{a[1]},{a[2]})"
        case Call("at_least"):
            value, threshold = a
            return f"({value}>={threshold}-ABS({threshold})*{TOLERANCE})"
        case Call(function):
            return f"{function.upper()}({','.join(a)})"
