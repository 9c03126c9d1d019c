"""The most an amount expression can give, from its inputs' bounds and its parameters' values.

Interval arithmetic over the expression's nodes: a number input lies between its lower bound and
its upper bound (or has none), a yes/no is 0 or 1 where arithmetic meets it, a parameter is its
value; + − × ÷, min, max, round and ``a if test else b`` (either branch) combine the intervals. The
bound is sound (no inputs give more) and, for a clause whose amount is capped by a parameter or made
of fixed amounts, it is the cap the text states (``tongzhou:5.2``: ``min(…, cap)`` gives ``cap``;
``etown:15``: ``grade_a_award + three_years_a_award``). A clause's ``max_amount`` is this bound; an
amount growing with an unbounded input has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from .expr import BinOp, Bool, BoolOp, Call, Compare, IfElse, Name, Neg, Node, Not, Number, String


class Bounded(Protocol):
    """What the bound needs of an input (``schema.InputSpec``)."""

    @property
    def type(self) -> str: ...

    @property
    def lower(self) -> Decimal | None: ...

    @property
    def upper(self) -> Decimal | None: ...


INF = Decimal("Infinity")
Interval = tuple[Decimal, Decimal]


def _mul(a: Decimal, b: Decimal) -> Decimal:
    return Decimal(0) if a == 0 or b == 0 else a * b  # 0 × ∞ is 0 here: a zero factor gives nothing


def _hull(*intervals: Interval) -> Interval:
    return min(i[0] for i in intervals), max(i[1] for i in intervals)


def interval(node: Node, inputs: Mapping[str, Bounded], parameters: Mapping[str, Decimal]) -> Interval:
    """The values ``node`` can take (``-Infinity``/``Infinity`` where unbounded)."""

    def of(n: Node) -> Interval:
        return interval(n, inputs, parameters)

    match node:
        case Number(value):
            return value, value
        case Bool() | Compare() | BoolOp() | Not() | String() | Call("at_least"):
            return Decimal(0), Decimal(1)  # a test, or a yes/no where arithmetic meets it
        case Name(name):
            if name in parameters:
                return parameters[name], parameters[name]
            spec = inputs[name]
            if spec.type in ("bool", "choice", "text"):
                return Decimal(0), Decimal(1)
            low, high = spec.lower, spec.upper
            return (-INF if low is None else low), (INF if high is None else high)
        case Neg(operand):
            low, high = of(operand)
            return -high, -low
        case BinOp(op, left, right):
            (a, b), (c, d) = of(left), of(right)
            if op == "+":
                return a + c, b + d
            if op == "-":
                return a - d, b - c
            if op == "*":
                products = [_mul(x, y) for x in (a, b) for y in (c, d)]
                return min(products), max(products)
            if c <= 0 <= d:  # a divisor that may be 0 (or tends to it): no bound
                return -INF, INF
            quotients = [x / y for x in (a, b) for y in (c, d) if not (x.is_infinite() and y.is_infinite())]
            return (min(quotients), max(quotients)) if len(quotients) == 4 else (-INF, INF)
        case Call("min", args):
            parts = [of(a) for a in args]
            return min(p[0] for p in parts), min(p[1] for p in parts)
        case Call("max", args):
            parts = [of(a) for a in args]
            return max(p[0] for p in parts), max(p[1] for p in parts)
        case Call("round", (first, Number(digits))):
            low, high = of(first)
            places = Decimal(1).scaleb(-int(digits))
            rounded = [x if x.is_infinite() else x.quantize(places, rounding=ROUND_HALF_UP) for x in (low, high)]
            return rounded[0], rounded[1]
        case IfElse(_, body, orelse):
            return _hull(of(body), of(orelse))
    raise ValueError(f"unknown node {node!r}")


def upper_bound(node: Node, inputs: Mapping[str, Bounded], parameters: Mapping[str, Decimal]) -> Decimal | None:
    """The most ``node`` can give, in yuan as an award is rounded; None when nothing bounds it."""
    high = interval(node, inputs, parameters)[1]
    if high.is_infinite():
        return None
    return high if high.as_tuple().exponent >= -2 else high.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # type: ignore[operator]
