"""What the review finds, as data: ``Finding`` (code, severity, cites, cells, refers_to, the message in
Chinese and English) and ``Submission`` (one file's result, the JSON report's object); and the helpers
that make text from a file safe to show (``printable``, ``display_name``, ``quote``, ``cut``)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from policies.schema import Label

MAX_PROBLEMS = 50  # per file (and as many warnings); the rest are counted in one last line


class Problem(str):
    """A finding's rendered message, with its stable short ``code`` (what ``Submission.problems`` and
    ``warnings`` hold: strings for people and for older tools)."""

    code: str = ""


def problem(code: str, message: str) -> Problem:
    out = Problem(message)
    out.code = code
    return out


SEVERITIES = ("problem", "warning")
#: A rendered message's head: "中文 English: " (the message's first words, both languages).
_HEAD = re.compile(r"([^\x00-\x7f][^:]*?) ([A-Za-z][^:]*?): ")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def languages(text: str) -> Label:
    """A rendered bilingual message ("中文 English: what, in English / 中文摘要") as its zh and en parts.

    Every message of the review and of the rules it applies is written so; the Chinese part is the
    head and the summary after the last " / " (the English where there is none)."""
    head = _HEAD.match(text)
    zh_head, en_head = (head[1], head[2]) if head else ("", "")
    body = text[head.end() :] if head else text
    en, sep, zh = body.rpartition(" / ")
    if not sep or not _CJK.search(zh) or "〔" in zh:
        en, zh = body, ""
    return Label(zh=f"{zh_head}：{zh or en}" if zh_head else (zh or en), en=f"{en_head}: {en}" if en_head else en)


@dataclass(frozen=True)
class Finding:
    """One thing the review found in a submission, as data (the JSON report's ``findings``).

    ``code``: which rule (stable, e.g. ``tampered``, ``eligibility``, ``declared_amount``, ``duplicate``);
    ``severity``: ``problem`` (the submission fails) or ``warning``; ``cites``: the article or standard
    the rule rests on; ``cells``: the cells involved ("Sheet!B5"); ``refers_to``: the earlier claims it
    names (other files of the batch, ledger submissions); ``message``: zh and en; ``text``: the message
    as one bilingual line (the report's ``problems`` and ``warnings``)."""

    code: str
    severity: str
    text: str
    cites: str = ""
    cells: tuple[str, ...] = ()
    refers_to: tuple[str, ...] = ()

    @property
    def message(self) -> Label:
        return languages(self.text)

    def rendered(self) -> Problem:
        return problem(self.code, self.text)

    def to_dict(self) -> dict:
        message = self.message
        return {
            "code": self.code,
            "severity": self.severity,
            "cites": self.cites,
            "cells": list(self.cells),
            "refers_to": list(self.refers_to),
            "message": {"zh": message.zh, "en": message.en},
        }


#: The code of a problem written without one, from its message's first words.
_PREFIX_CODES = (
    ("文件 File", "file"),
    ("模板 Template", "template"),
    ("篡改 Tampered", "tampered"),
    ("必填 Required", "required"),
    ("无效 Invalid", "invalid"),
    ("资格 Eligibility", "eligibility"),
    ("申报金额 Declared amount", "declared_amount"),
    ("重复 Duplicate", "duplicate"),
    ("冲突 Conflict", "conflict"),
    ("从优 One clause", "one_clause_per_project"),
    ("批次 Batch", "batch"),
    ("审核 Review", "internal"),
    ("危险内容 Dangerous content", "dangerous"),
    ("非申报内容 Unexpected content", "unexpected_part"),
    ("公式 Formula", "input_formula"),
)


def code_of(message: str) -> str:
    code = getattr(message, "code", "")
    if code:
        return code
    for prefix, code in _PREFIX_CODES:
        if message.startswith(prefix):
            return code
    return "portfolio_rule"  # a note of policies.stacking (superseded by another clause...)


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def printable(text: str) -> str:
    """Text safe in JSON (UTF-8), a terminal and an xlsx cell: control characters and lone surrogates escaped."""
    return _ILLEGAL.sub(
        lambda m: (
            f"\\x{ord(m[0]) - 0xDC00:02x}"
            if 0xDC80 <= ord(m[0]) <= 0xDCFF
            else m[0].encode("unicode_escape", "backslashreplace").decode("ascii")
        ),
        text,
    )


def display_name(path: str | os.PathLike) -> str:
    """A file name as people can read it: a UTF-8 name as it is; a name that is not UTF-8 (GBK from ``unzip``)
    with every byte above ASCII as a ``\\xd6`` escape, never an encoding guess; control characters escaped too."""

    def part(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:  # every byte above ASCII escaped: a partial decoding would show mojibake
            return raw.decode("ascii", "backslashreplace")

    text = "/".join(part(raw) for raw in os.fsencode(path).split(b"/"))  # each folder and the name on its own
    return printable(text).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def quote(text: object, limit: int = 200) -> str:
    """Applicant text quoted in a message, cut to ``limit`` characters."""
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def cut(text: str, limit: int = 200) -> str:
    """A formula or reference from the file, shown unquoted but cut to ``limit`` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


# --- one submission's result --------------------------------------------------------------------------


@dataclass
class Submission:
    """What the review found in one file (the JSON report's object, plus what the batch checks use)."""

    file: str
    ok: bool = False
    findings: list[Finding] = field(default_factory=list)
    declared_yuan: Decimal | None = None
    recomputed_yuan: Decimal | None = None
    granted_yuan: Decimal | None = None
    clause: str | None = None
    enterprise: str | None = None
    sha256: str | None = None  # of the file's bytes, as read
    # for the checks across the batch
    uscc: str | None = None
    project: str | None = None
    year: int | None = None
    inputs: dict[str, object] = field(default_factory=dict)
    refused: str | None = None  # the guard's kind when the file was not read (zip_bomb, xml_bomb, not_xlsx, ...)
    ledger_id: int | None = None  # its id in the ledger (review --ledger; addin.ledger.review)
    skipped: str | None = None  # why the file was not reviewed (an Office lock file): neither pass nor fail
    rejected: set[str] = field(
        default_factory=set
    )  # input cells already reported (a formula, too long...): not "blank"

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else ("pass" if self.ok else "fail")

    @property
    def problems(self) -> list[Problem]:
        """The problems' messages (read only: ``problem`` adds one)."""
        return [f.rendered() for f in self.findings if f.severity == "problem"]

    @property
    def warnings(self) -> list[Problem]:
        return [f.rendered() for f in self.findings if f.severity == "warning"]

    def problem(
        self, code: str | None, text: str, *, cites: str = "", cells: Iterable[str] = (), refers_to: Iterable[str] = ()
    ) -> None:
        """Add a problem (the submission fails); ``code`` None: from the message's first words (``code_of``)."""
        self.findings.append(Finding(code or code_of(text), "problem", text, cites, tuple(cells), tuple(refers_to)))

    def warning(
        self, code: str, text: str, *, cites: str = "", cells: Iterable[str] = (), refers_to: Iterable[str] = ()
    ) -> None:
        self.findings.append(Finding(code, "warning", text, cites, tuple(cells), tuple(refers_to)))

    def cap(self) -> None:
        """At most ``MAX_PROBLEMS`` problems and warnings, the rest counted; every message printable and bounded."""
        kept: list[Finding] = []
        for severity, what in (("problem", "problems"), ("warning", "warnings")):
            items = [f for f in self.findings if f.severity == severity]
            if len(items) > MAX_PROBLEMS:
                more = len(items) - MAX_PROBLEMS + 1
                items = items[: MAX_PROBLEMS - 1] + [
                    Finding("more", severity, f"… {more:,} more {what} not listed / 另有{more:,}条未列出")
                ]
            for f in items:
                clean = printable(f.text if len(f.text) <= 2000 else f.text[:2000] + "…")
                kept.append(f if clean == f.text else replace(f, text=clean))
        self.findings = kept

    def report(self) -> dict:
        """The JSON report's object."""

        def money(v: Decimal | None) -> float | None:
            return None if v is None else float(v)

        ledger = {} if self.ledger_id is None else {"ledger_id": self.ledger_id}
        problems = self.problems
        return {
            **ledger,
            "file": self.file,
            "sha256": self.sha256,
            "status": self.status,
            "ok": self.ok,
            "problems": [str(p) for p in problems],
            "codes": [p.code for p in problems],
            "warnings": [str(w) for w in self.warnings],
            "findings": [f.to_dict() for f in self.findings],
            "skipped": self.skipped,
            "declared_yuan": money(self.declared_yuan),
            "recomputed_yuan": money(self.recomputed_yuan),
            "granted_yuan": money(self.granted_yuan),
            "clause": self.clause,
            "enterprise": self.enterprise,
        }
