"""Parameters by date, and reforms: which value of a parameter is in force on a day.

A parameter's value may change by date (``values: {2025-05-17: 800, 2027-01-01: 900}`` in a policy
file, the way OpenFisca's parameters are written): each value is in force from its date until the
next one. Before the first date the first value is used, and said so (the policy's validity window
decides whether a claim that early gets anything at all).

A **reform** (a what-if) overrides parameters: a clause's (``"etown:27.per_kw"``) or a policy's cap
across claims (``"tongzhou.tongzhou_enterprise_year"``, the ``id`` of one of its ``annual_caps``),
each with a value (in force every day) or with values by date. Dated reform values apply from their
first date on; before it the policy's own values stay in force, so ``{"etown:27.per_kw":
{"2027-01-01": 1000}}`` asks "what if E-Town raises PV to 1,000 元/kW from 2027?".

``parse_reform`` checks a reform's names against the catalog (an unknown one is an ``InputError``
naming the closest name) and its values; ``load_reform(path)`` reads the same mapping from a YAML
file, the one function of the core that opens a file (the edge gives it the path).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from .errors import InputError
from .inputs import closest
from .numbers import describe, fmt, to_decimal
from .registry import policies
from .years import parse_year

#: (from, value) pairs in ascending order; ``None`` as the only date: in force every day.
DatedValues = tuple[tuple["date | None", Decimal], ...]

WHERE = "reform"  # what an InputError about a reform names in place of a clause


@dataclass(frozen=True, slots=True)
class InForce:
    """A parameter's value on a day and where it comes from."""

    value: Decimal
    since: date | None  # the day this value applies from; None: undated
    reform: bool  # given by the reform, not the policy
    early: bool = False  # the day is before the first date: the first value is used
    changes: tuple[
        tuple[date, Decimal], ...
    ] = ()  # within the period asked (a year): its first value, then each change


def in_force(base: DatedValues, override: DatedValues | None, first: date | None, last: date | None) -> InForce:
    """The value on ``last`` (``None``: the latest value) of ``base`` under ``override``.

    ``override`` replaces ``base`` from its first date on (an undated override replaces it on
    every day). ``first``..``last`` is the period asked (a year: 1 January to 31 December); the
    values that took effect after ``first`` and up to ``last`` are reported in ``changes``.
    """
    entries = [(day, value, False) for day, value in base]
    if override is not None:
        start = override[0][0]
        entries = [e for e in entries if start is not None and (e[0] is None or e[0] < start)]
        entries += [(day, value, True) for day, value in override]
    if last is None:
        day, value, reform = entries[-1]
        return InForce(value, day, reform)
    days = [e[0] or date.min for e in entries]
    at = bisect_right(days, last) - 1
    early = at < 0
    day, value, reform = entries[max(at, 0)]
    changes = tuple((d, v) for d, v, _ in entries if d is not None and first is not None and first < d <= last)
    if changes and first is not None:  # the value the period started with, then each change
        changes = ((first, in_force(base, override, first, first).value), *changes)
    return InForce(value, day, reform, early=early, changes=changes)


def origin(value: InForce) -> str:
    """Where a value comes from: ``改革 reform, from 2027-01-01``, ``from 2025-05-17`` or ``policy 政策``."""
    source = "改革 reform" if value.reform else ""
    since = f"from {value.since}" if value.since is not None else ""
    return ", ".join(x for x in (source, since) if x) or "政策 policy"


def value_text(value: InForce, unit: str | None = None) -> str:
    """``1,000 元/kW (改革 reform, from 2027-01-01)``: a value with its unit and where it comes from."""
    return fmt(value.value) + (f" {unit}" if unit else "") + f" ({origin(value)})"


# --- reforms --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reform:
    """Parameters overridden for a what-if: ``(name, schedule)`` pairs, each name
    ``"<clause>.<parameter>"`` or ``"<policy>.<cap>"``. Hashable and picklable (it travels to worker
    processes and keys the engine's caches); build it with ``parse_reform``."""

    entries: tuple[tuple[str, DatedValues], ...] = ()

    @cached_property
    def _by_name(self) -> dict[str, DatedValues]:
        return dict(self.entries)

    def get(self, name: str) -> DatedValues | None:
        return self._by_name.get(name)

    def __bool__(self) -> bool:
        return bool(self.entries)

    @cached_property
    def clauses(self) -> frozenset[str]:
        """The clauses whose own parameters the reform changes."""
        return frozenset(name.rpartition(".")[0] for name, _ in self.entries if ":" in name)

    def cap(self, policy: str, cap: str, year: int) -> InForce | None:
        """A policy's cap across claims as the reform sets it for ``year`` (on 31 December), or None."""
        override = self.get(f"{policy}.{cap}")
        return None if override is None else _in_year(override, year)

    def parameter(self, clause: str, name: str, year: int) -> InForce | None:
        """A clause's parameter as the reform sets it for ``year`` (on 31 December), or None."""
        override = self.get(f"{clause}.{name}")
        return None if override is None else _in_year(override, year)

    def lines(self) -> list[str]:
        """Each entry for people: ``etown:27.per_kw = 1,000 from 2027-01-01``."""
        return [
            f"{name} = " + "; ".join(fmt(value) + (f" from {day}" if day else "") for day, value in schedule)
            for name, schedule in self.entries
        ]

    def as_dict(self, names: set[str] | None = None) -> dict[str, object]:
        """The entries (of ``names`` when given) as given: a value, or ``{date: value}``."""
        return {name: plain(schedule) for name, schedule in self.entries if names is None or name in names}


def _in_year(override: DatedValues, year: int) -> InForce | None:
    value = in_force((), override, date(year, 1, 1), date(year, 12, 31))
    return None if value.early else value  # before the reform's first date: the policy's own cap


def plain(schedule: DatedValues) -> object:
    """A schedule as a reform file writes it: the value, or ``{date: value}``."""
    if len(schedule) == 1 and schedule[0][0] is None:
        return schedule[0][1]
    return dict(schedule)


def reform_names() -> list[str]:
    """Every name a reform may set: each clause's parameters, then each policy's caps across claims."""
    names = []
    for policy in policies().values():
        names += [f"{c.id}.{p}" for c in policy.clauses for p in c.parameters]
        names += [f"{policy.id}.{cap.id}" for cap in policy.annual_caps]
    return names


def parse_reform(reform: Mapping[str, object] | Reform) -> Reform:
    """A reform checked: every name known, every value a number ≥ 0 or ``{date: number}``.

    A date is a date, a datetime, its ISO text or a year (from 1 January). Raises ``InputError``
    naming the entry and, for an unknown name, the closest known one.
    """
    if isinstance(reform, Reform):
        return reform
    if not isinstance(reform, Mapping):
        raise InputError(
            WHERE, "reform", f'must map names to values, e.g. {{"etown:27.per_kw": 1000}}, got {describe(reform)}'
        )
    entries = []
    for raw, value in reform.items():
        name = _name(raw)
        entries.append((name, _schedule(name, value)))
    names = [n for n, _ in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(WHERE, twice[0], "given twice / 重复")
    return Reform(tuple(entries))


def _name(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InputError(
            WHERE, describe(raw), 'a name is "<clause>.<parameter>" or "<policy>.<cap>", e.g. "etown:27.per_kw"'
        )
    name = raw.strip()
    known = policies()
    if ":" in name:
        clauses = {c.id: c for p in known.values() for c in p.clauses}
        if name in clauses:
            options = ", ".join(f"{name}.{p}" for p in clauses[name].parameters) or "none / 无"
            raise InputError(WHERE, name, f"names a clause, not one of its parameters ({options}) / 须含参数名")
        clause_id, dot, parameter = name.rpartition(".")
        clause = clauses.get(clause_id)
        if clause is None:
            hint = closest(name, reform_names())
            rule = f"unknown clause {clause_id!r}" if dot else 'must be "<clause>.<parameter>", e.g. "etown:27.per_kw"'
            raise InputError(WHERE, name, rule + _did_you_mean(hint))
        if parameter not in clause.parameters:
            known_here = [f"{clause.id}.{p}" for p in clause.parameters]
            if not known_here:
                raise InputError(WHERE, name, f"{clause.id} has no parameters (a non-monetary article) / 该条款无参数")
            hint = closest(name, known_here)
            raise InputError(
                WHERE,
                name,
                f"{clause.id} has no parameter {parameter!r}"
                + (_did_you_mean(hint) if hint else f"; its parameters: {', '.join(known_here)}"),
            )
        return name
    policy_id, dot, cap_id = name.partition(".")
    policy = known.get(policy_id)
    if not dot or policy is None:
        hint = closest(name, reform_names())
        rule = f"unknown policy {policy_id!r}" if dot else 'must be "<clause>.<parameter>" or "<policy>.<cap>"'
        raise InputError(WHERE, name, rule + _did_you_mean(hint))
    caps = [f"{policy.id}.{cap.id}" for cap in policy.annual_caps]
    if name not in caps:
        rule = f"{policy.id} has no cap across claims {cap_id!r}"
        hint = closest(name, caps)
        raise InputError(
            WHERE, name, rule + (_did_you_mean(hint) if hint else f"; its caps: {', '.join(caps) or 'none / 无'}")
        )
    return name


def _did_you_mean(hint: str | None) -> str:
    return f"; did you mean {hint!r}? / 是否为 {hint}？" if hint else ""


def _schedule(name: str, value: object) -> DatedValues:
    if isinstance(value, Mapping):
        if not value:
            raise InputError(WHERE, name, "no values by date / 缺少取值")
        dated: dict[date, Decimal] = {}
        for day, figure in value.items():
            when = _from(name, day)
            if when in dated:
                raise InputError(WHERE, name, f"the date {when} is given twice / 日期重复")
            dated[when] = _figure(name, figure)
        return tuple(sorted(dated.items()))
    return ((None, _figure(name, value)),)


def _figure(name: str, value: object) -> Decimal:
    try:
        number = to_decimal(value)
    except ValueError as exc:
        raise InputError(WHERE, name, str(exc)) from None
    if number < 0:
        raise InputError(WHERE, name, f"must be ≥ 0, got {fmt(number)} / 须≥0")
    return number


def _from(name: str, day: object) -> date:
    """The day a value applies from: a date, a datetime, ISO text, or a year (its 1 January)."""
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    try:
        return date(parse_year(day), 1, 1)
    except ValueError:
        pass
    if isinstance(day, str):
        try:
            return date.fromisoformat(day.strip())
        except ValueError:
            pass
    raise InputError(
        WHERE,
        name,
        f"a value's date must be a date (YYYY-MM-DD) or a year, got {describe(day)} / 日期须为YYYY-MM-DD或年份",
    )


def load_reform(path: str | Path) -> Reform:
    """A reform from a YAML file: a mapping of names to a value or to ``{date: value}``, e.g.

    etown:27.per_kw: {2027-01-01: 1000}
    tongzhou.tongzhou_enterprise_year: 3000000
    """
    from . import yaml_text
    from .errors import PolicyDataError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(WHERE, str(path), "no such file / 文件不存在") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(WHERE, str(path), f"cannot be read ({exc.__class__.__name__}) / 无法读取") from None
    try:
        data = yaml_text.load(text)
    except (yaml_text.YAMLError, PolicyDataError) as exc:
        raise InputError(WHERE, str(path), f"not a valid YAML file: {' '.join(str(exc).split())} / 格式有误") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(WHERE, str(path), 'must be a mapping of names to values, e.g. "etown:27.per_kw: 1000"')
    return parse_reform(data)
