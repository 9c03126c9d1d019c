"""The payment split: one amount into a schedule's stages, the one rule every caller uses.

Each stage but the last is its share of the amount rounded half up to the cent; the last is what
remains, so the stages add up to the amount exactly. A stage is ``due`` when it has no condition or
its condition (``due_when``) holds on the claim's values, else ``pending``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import cache

from . import expr
from .award import Payment
from .numbers import round_yuan
from .schema import Schedule


def amounts(total: Decimal, shares: Sequence[Decimal]) -> list[Decimal]:
    """``total`` split by ``shares`` (adding up to 1): each rounded to the cent, the last the remainder."""
    out, paid = [], Decimal(0)
    for index, share in enumerate(shares):
        part = total - paid if index == len(shares) - 1 else round_yuan(total * share)
        paid += part
        out.append(part)
    return out


@cache
def _due(condition: str) -> expr.Compiled:
    return expr.compile_expr(expr.parse(condition), record=False)


def _holds(condition: str | None, values: Mapping[str, object]) -> bool:
    if condition is None:
        return True
    try:
        return bool(_due(condition)(expr.Context(dict(values))))
    except expr.MissingName:
        return False  # not known yet: pending


def split(total: Decimal, schedule: Schedule, values: Mapping[str, object]) -> tuple[Payment, ...]:
    """The payments of ``total`` under ``schedule``, each due or pending on ``values`` (the claim's inputs)."""
    stages = schedule.stages
    if len(stages) == 1 and stages[0].due_when is None:  # paid once: the common case, without the arithmetic
        return (Payment(stage=stages[0].label, share=stages[0].share, amount=total, status="due"),)
    return tuple(
        Payment(
            stage=stage.label,
            share=stage.share,
            amount=part,
            status="due" if _holds(stage.due_when, values) else "pending",
        )
        for stage, part in zip(stages, amounts(total, [s.share for s in stages]))
    )


def resplit(payments: Sequence[Payment], total: Decimal) -> tuple[Payment, ...]:
    """The same stages (shares and statuses) for another total: a grant reduced by a cap."""
    return tuple(
        Payment(stage=p.stage, share=p.share, amount=part, status=p.status)
        for p, part in zip(payments, amounts(total, [p.share for p in payments]))
    )


def splitter(schedule: Schedule) -> Callable[[Decimal, Mapping[str, object]], tuple[Payment, ...]]:
    """``split`` for one schedule, made once: a schedule paid at once needs neither shares nor conditions."""
    stages = schedule.stages
    if len(stages) == 1 and stages[0].due_when is None:
        label, share, new = stages[0].label, stages[0].share, tuple.__new__
        return lambda total, values: (
            new(Payment, (label, share, total, "due")),
        )  # Payment(label, share, total, "due")
    return lambda total, values: split(total, schedule, values)
