"""The catalog as plain data: policies, clauses and their inputs, for listings and help."""

from __future__ import annotations

from typing import Any

from .engine import compiled, find_clause
from .errors import UnknownClauseError
from .numbers import fmt
from .registry import policies, policy_names
from .schema import InputSpec, Parameter


def input_info(name: str, spec: InputSpec, *, kind: str = "input") -> dict[str, Any]:
    """One input described for people: how to fill it and what it defaults to."""
    if spec.default is not None:
        need = "default " + (fmt(spec.default) if not isinstance(spec.default, str) else spec.default)
    elif kind != "input" or spec.fact:
        need = "assumed when empty"
    elif spec.type == "bool":
        need = "default false"
    elif spec.type == "text":
        need = "optional"
    else:
        need = "required when used"
    return {
        "name": name,
        "kind": kind,
        "type": spec.type,
        "label_zh": spec.label.zh,
        "label_en": spec.label.en,
        "unit": spec.unit or "",
        "values": ", ".join(f"{v} ({lab.zh}/{lab.en})" for v, lab in (spec.values or {}).items()),
        "min": fmt(spec.lower) if spec.lower is not None else "",
        "max": fmt(spec.upper) if spec.upper is not None else "",
        "default": spec.default,
        "need": need,
    }


def clause_info(clause_id: str) -> dict[str, Any]:
    """A clause's definition as data: titles, article, cap, every name it accepts and its parameters."""
    policy, clause = find_clause(clause_id)
    rows = [input_info(n, s) for n, s in clause.inputs.items()]
    if clause.monetary:
        cc = compiled(clause.id)
        rows += [input_info(n, cc.specs[n], kind="condition") for n in cc.conditions]
        rows += [input_info("zone", cc.specs["zone"], kind="zone")]
        rows += [input_info(n, s, kind="payment") for n, s in cc.schedule.inputs.items()]
    return {
        "id": clause.id,
        "policy": policy.id,
        "article": clause.article,
        "title_zh": clause.title.zh,
        "title_en": clause.title.en,
        "monetary": clause.monetary,
        "ceiling": clause.ceiling,
        "amount": clause.amount or "",
        "max_amount": clause.max_amount,
        "payment": clause.payment,
        "zones": clause.zones or policy.zones,
        "inputs": rows,
        "parameters": [parameter_info(n, p) for n, p in clause.parameters.items()],
    }


def parameter_info(name: str, parameter: Parameter) -> dict[str, Any]:
    """One parameter as data: its value (the latest, when it changes by date) and its dated values."""
    return {
        "name": name,
        "value": parameter.value,
        "unit": parameter.unit or "",
        "kind": parameter.kind,
        "cites": parameter.cites,
        "values": [{"from": day, "value": value} for day, value in (parameter.values or {}).items()],
    }


def catalog(policy: str | None = None) -> list[dict[str, Any]]:
    """Every clause (of one policy, by its id or an alias, when given), in the order of the policy files."""
    known = policies()
    if policy is not None:
        policy = policy_names().get(policy.strip().casefold(), policy)
    if policy is not None and policy not in known:
        raise UnknownClauseError(policy, None)
    return [clause_info(c.id) for p in known.values() if policy in (None, p.id) for c in p.clauses]
