"""The result of evaluating one clause: data (checks, steps, bindings), and its prose rendered from them.

Check codes follow one grammar (docs/results.md):

- ``zone``: the project's zone is one the clause covers;
- ``validity``: the policy is in force on the date (or year) given;
- ``condition:<name>``: a yes/no condition of the clause or the policy (``<name>`` as in the inputs);
- ``excluded:<name>``: a condition the policy states as an exclusion (不予支持的项目, e.g. E-Town 七(二)5);
- ``threshold:<input>``: a rule comparing ``<input>`` with a threshold parameter (``fleet_size >= min_fleet``);
- ``rule:<id>``: any other rule of the clause's ``requires`` (its ``id``, else the first input it reads).

A check's ``status`` is ``passed``, ``failed`` (the claim is not eligible), ``assumed`` (left
unanswered: taken as met, to be confirmed) or ``waived`` (the clause lifts it for these inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .schema import Label

STATUSES = ("passed", "failed", "assumed", "waived")
CHECK_KINDS = ("zone", "validity", "condition", "excluded", "threshold", "rule")


def _label(label: Label) -> dict[str, str]:
    return {"zh": label.zh, "en": label.en}


@dataclass(frozen=True, slots=True)
class Check:
    """One eligibility check of a claim: which (``code``), how it came out, the article, and why in words."""

    code: str
    status: str
    cites: str
    subject: Label  # what is checked: the condition, the rule's requirement, the zone, the policy's window
    message: Label  # the outcome in words

    @property
    def kind(self) -> str:
        return self.code.partition(":")[0]

    @property
    def name(self) -> str:
        """The part after the colon (a condition's or an input's name, a rule's id); empty for zone and validity."""
        return self.code.partition(":")[2]

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "status": self.status,
            "cites": self.cites,
            "subject": _label(self.subject),
            "message": _label(self.message),
        }


class Step(NamedTuple):
    """One step of the computation: ``min``/``max`` (the arguments compared, the one chosen), ``formula``
    (the clause's expression and its exact value), ``binding`` (the parameter that decided the amount: its
    value and the words of the text it cites) or ``amount`` (the award, rounded; 0 when not eligible).

    A named tuple (immutable, compared field by field like the other results) because every evaluation
    makes several: one costs a tenth of a frozen dataclass."""

    kind: str
    what: str  # the expression, parameters shown with their values (binding: the parameter's name)
    value: Decimal
    cites: str  # the article (binding: the words the parameter cites)
    bound: str | None = None  # the limit that bound: the parameter (or, when none did, the input) chosen
    args: tuple[tuple[str, Decimal], ...] = ()  # min/max: each argument's expression and value
    source: str = ""  # parameter/binding: where a dated or reformed value comes from ("" as published)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "what": self.what,
            "value": str(self.value),
            "cites": self.cites,
            "bound": self.bound,
        }
        if self.source:
            out["source"] = self.source
        if self.args:
            out["args"] = [{"what": t, "value": str(v)} for t, v in self.args]
        return out


class Payment(NamedTuple):
    """One stage of the payment split (``policies.payments``); a named tuple like ``Step``."""

    stage: Label
    share: Decimal
    amount: Decimal
    status: str  # "due": payable at its stage; "pending": its condition is not met (or not known) yet

    def to_dict(self) -> dict[str, str]:
        return {"stage": str(self.stage), "share": str(self.share), "amount": str(self.amount), "status": self.status}


@dataclass(frozen=True, slots=True)
class Note:
    """What a rule across claims (``policies.stacking``, ``policies.ledger_rules``) says of one claim.

    ``code``: ``basis`` (the limit that decided a granted amount), ``assumed`` (conditions taken as met),
    ``best_of``, ``superseded``, ``conflict``, ``duplicate``, ``invalid``, ``ineligible`` (``about`` is the
    failed check's code), ``outside_years``, ``capped`` (``about`` is the cap), ``replaces``, ``on_record``.
    ``refers_to``: the earlier claims it names (how the record cites them: a ledger submission, a row).
    """

    code: str
    text: str  # the rendered message
    cites: str = ""
    about: str = ""
    refers_to: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "text": self.text,
            "cites": self.cites,
            "about": self.about,
            "refers_to": list(self.refers_to),
        }


#: The fields ``evaluate`` leaves to be made when first read (``Award.workings``): most callers read the
#: amount and the checks, and the trace's steps alone cost more to build than the computation.
LATER = frozenset({"binding", "binding_kind", "payments", "steps", "bindings"})


class LaterFields(Protocol):
    """What makes an award's ``LATER`` fields, from the award's own fields and what the computation
    recorded (``policies.engine.Workings``)."""

    def fill(self, award: Award) -> None: ...


@dataclass(slots=True)
class Award:
    """What a clause gives for the inputs: the amount and why.

    ``amount`` is the most the clause allows when ``ceiling`` (不超过/最高: the office may grant less),
    else the amount itself; 0 when not ``eligible``: then a check has ``status == "failed"``.
    ``binding`` is the main limit that decided the amount; ``bindings`` every parameter on the path
    the computation took (and, where a min/max chose an argument without one, the inputs in it).
    ``reasons``, ``notes`` and ``trace`` are the bilingual prose of these data (``policies.render``).

    ``evaluate`` sets every field but those in ``LATER``, and ``workings``: those are made together from the
    workings when one is first read (``__getattr__`` is reached only for a slot not yet set) and kept. Equality,
    ``repr`` and pickling read every field, so an award compares and pickles as its plain data (the
    workings are never pickled: ``__reduce__``).
    """

    clause: str
    policy: str
    article: str
    title: Label
    amount: Decimal
    eligible: bool
    binding: str | None
    binding_kind: str | None
    ceiling: bool
    payments: tuple[Payment, ...]
    inputs: dict[str, object]
    reform: dict[str, object] | None = None  # computed under a reform: its entries that concern this clause
    checks: tuple[Check, ...] = ()
    steps: tuple[Step, ...] = ()
    bindings: tuple[str, ...] = ()
    readings: tuple[str, ...] = ()  # interpretations used: the clause's notes, the window's, an annual cap exceeded
    workings: LaterFields | None = field(default=None, repr=False, compare=False)  # ``evaluate``'s: see above

    if not TYPE_CHECKING:  # to a type checker an award has its fields and nothing else

        def __getattr__(self, name: str) -> object:
            if name not in LATER or self.workings is None:
                raise AttributeError(f"'Award' object has no attribute {name!r}")
            self.workings.fill(self)  # every later field, kept in its slot
            return getattr(self, name)

    def __reduce__(self) -> tuple[type[Award], tuple[object, ...]]:
        return Award, tuple(getattr(self, f.name) for f in fields(self) if f.compare)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "failed")

    def check(self, code: str) -> Check | None:
        return next((c for c in self.checks if c.code == code), None)

    @property
    def computed(self) -> Decimal:
        """The clause's formula rounded to the cent, whether or not the claim is eligible."""
        from .numbers import round_yuan

        return round_yuan(next(s.value for s in self.steps if s.kind == "formula"))

    @property
    def reasons(self) -> tuple[str, ...]:
        from . import render

        return render.reasons(self)

    @property
    def notes(self) -> tuple[str, ...]:
        from . import render

        return render.notes(self)

    @property
    def trace(self) -> tuple[str, ...]:
        from . import render

        return render.trace(self)

    def to_dict(self) -> dict[str, object]:
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
            "bindings": list(self.bindings),
            "ceiling": self.ceiling,
            "checks": [c.to_dict() for c in self.checks],
            "steps": [s.to_dict() for s in self.steps],
            "trace": list(self.trace),
            "payments": [p.to_dict() for p in self.payments],
            "notes": list(self.notes),
            "inputs": {k: v if isinstance(v, (bool, str)) else str(v) for k, v in self.inputs.items()},
            "reform": None
            if self.reform is None
            else {
                k: {str(d): str(x) for d, x in v.items()} if isinstance(v, dict) else str(v)
                for k, v in self.reform.items()
            },
        }
