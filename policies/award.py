"""The result of evaluating one clause."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .schema import Label


@dataclass(frozen=True, slots=True)
class Payment:
    stage: Label
    share: Decimal
    amount: Decimal
    status: str  # "due": payable at its stage; "pending": its condition is not met (or not known) yet

    def to_dict(self) -> dict:
        return {"stage": str(self.stage), "share": str(self.share), "amount": str(self.amount), "status": self.status}


@dataclass(slots=True)
class Award:
    """What a clause gives for the inputs: the amount and why.

    ``amount`` is the most the clause allows when ``ceiling`` (不超过/最高: the office may grant less),
    else the amount itself; 0 when not ``eligible``, with ``reasons``.
    """

    clause: str
    policy: str
    article: str
    title: Label
    amount: Decimal
    eligible: bool
    reasons: tuple[str, ...]
    binding: str | None
    binding_kind: str | None
    ceiling: bool
    trace: tuple[str, ...]
    payments: tuple[Payment, ...]
    notes: tuple[str, ...]
    inputs: dict[str, object]
    reform: dict[str, object] | None = None  # computed under a reform: its entries that concern this clause

    def to_dict(self) -> dict:
        return {
            "clause": self.clause,
            "policy": self.policy,
            "article": self.article,
            "title": {"zh": self.title.zh, "en": self.title.en},
            "amount": str(self.amount),
            "eligible": self.eligible,
            "reasons": list(self.reasons),
            "binding": self.binding,
            "binding_kind": self.binding_kind,
            "ceiling": self.ceiling,
            "trace": list(self.trace),
            "payments": [p.to_dict() for p in self.payments],
            "notes": list(self.notes),
            "inputs": {k: v if isinstance(v, (bool, str)) else str(v) for k, v in self.inputs.items()},
            "reform": None if self.reform is None else {
                k: {str(d): str(x) for d, x in v.items()} if isinstance(v, dict) else str(v) for k, v in self.reform.items()},
        }
