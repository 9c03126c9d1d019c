"""The prose of an award, rendered from its data in one place: reasons, notes and the trace.

These are what people read (``green-award calc``, ``AWARD_EXPLAIN``, the JSON's ``reasons``,
``notes`` and ``trace``); programs read ``Award.checks``, ``steps`` and ``bindings`` instead.
"""

from __future__ import annotations

from .award import Award, Check, Step
from .numbers import fmt

#: The words before a condition's or a rule's subject, by status (and, when failed, by kind).
_WORDS = {"passed": "满足 Met", "assumed": "假定满足 Assumed", "waived": "豁免 Waived"}
_FAILED = {
    "condition": "条件不满足 Not met",
    "excluded": "条件不满足 Not met",
    "threshold": "不符合 Not met",
    "rule": "不符合 Not met",
}


def check_line(check: Check) -> str:
    """One check in one bilingual line, citing its article."""
    if check.kind in ("zone", "validity"):
        return f"{check.message.zh} {check.message.en}"
    words = _FAILED[check.kind] if check.status == "failed" else _WORDS[check.status]
    return f"{words}: {check.subject} 〔{check.cites}〕"


def reasons(award: Award) -> tuple[str, ...]:
    """Why the claim is not eligible: each failed check."""
    return tuple(check_line(c) for c in award.checks if c.status == "failed")


def notes(award: Award) -> tuple[str, ...]:
    """The interpretations used, then each check taken as met (assumed) or lifted (waived). A validity
    not checked because no date was given is left out: the caller did not ask (its check says so), and a
    note on every dateless call would lengthen every explanation (AWARD_EXPLAIN spills by rows)."""
    return award.readings + tuple(
        check_line(c) for c in award.checks if c.status == "waived" or (c.status == "assumed" and c.kind != "validity")
    )


def step_line(step: Step) -> str:
    """A min/max comparison or the formula, in one line citing the article (``binding``: ``binding_line``,
    ``amount``: ``amount_line``)."""
    if step.kind == "formula":
        return f"计算 Formula: {step.what} = {fmt(step.value)} 〔{step.cites}〕"
    if step.kind == "parameter":
        return f"参数 Parameter: {step.what} 〔{step.cites}〕"
    parts = "; ".join(f"{text} = {fmt(value)}" for text, value in step.args)
    return f"{step.kind}({parts}) → {fmt(step.value)} 〔{step.cites}〕"


def head_lines(award: Award) -> list[str]:
    """The clause and the inputs."""
    cite = f" 〔{award.article}〕"
    shown = "; ".join(f"{k} = {fmt(v)}" for k, v in award.inputs.items())
    return [f"{award.clause} {award.title}{cite}", f"输入 Inputs: {shown or '—'}{cite}"]


def binding_line(award: Award) -> str | None:
    """The limit that decided the amount, its value and the words it cites; None when no parameter did."""
    step = next((s for s in award.steps if s.kind == "binding"), None)
    if step is None:
        return None
    if step.source:  # a dated or reformed value: where it comes from, then the words of the text
        return (
            f"决定金额 Binding: {step.bound} = {fmt(step.value)} ({award.binding_kind}; {step.source}) — "
            f"原文 text: {step.cites} 〔{award.article}〕"
        )
    return (
        f"决定金额 Binding: {step.bound} = {fmt(step.value)} ({award.binding_kind}) — {step.cites} 〔{award.article}〕"
    )


def amount_kind(ceiling: bool) -> str:
    """What a clause's amount is: the most it allows (不超过/最高), or the amount itself."""
    return "最高 ceiling (不超过: the office may grant less)" if ceiling else "定额 the amount itself"


def amount_line(award: Award) -> str:
    cite = f" 〔{award.article}〕"
    if award.eligible:
        return f"金额 Amount: {fmt(award.amount)} 元 yuan, {amount_kind(award.ceiling)}{cite}"
    return f"不符合条件 Not eligible: {'; '.join(reasons(award))} → 0 元{cite}"


def trace(award: Award) -> tuple[str, ...]:
    """The computation step by step: clause, inputs, each min/max, the formula, the binding limit, the amount."""
    lines = head_lines(award)
    lines.extend(step_line(s) for s in award.steps if s.kind not in ("binding", "amount"))
    binding = binding_line(award)
    if binding is not None:
        lines.append(binding)
    lines.append(amount_line(award))
    return tuple(lines)
