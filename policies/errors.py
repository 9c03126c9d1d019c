"""The project's error types: every bad input or bad policy file raises one of these."""

from __future__ import annotations


class GreenAwardError(Exception):
    """Base of every error green-award raises on purpose."""


class PolicyDataError(GreenAwardError):
    """A policy file that does not validate: names the file and the clause."""


class UnknownClauseError(GreenAwardError, KeyError):
    """A clause id that no policy defines."""

    def __init__(self, clause_id: str, suggestion: str | None = None):
        self.clause_id = clause_id
        self.suggestion = suggestion
        hint = f"; did you mean {suggestion!r}? / 是否为 {suggestion}？" if suggestion else ""
        super().__init__(f"unknown clause {clause_id!r} / 未知条款{hint}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class InputError(GreenAwardError, ValueError):
    """A bad input: names the clause, the field and the rule it broke."""

    def __init__(self, clause_id: str, field: str, rule: str):
        self.clause_id = clause_id
        self.field = field
        self.rule = rule
        super().__init__(f"{clause_id}: {field}: {rule}")
