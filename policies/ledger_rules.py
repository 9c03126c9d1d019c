"""The rules that join claims across years, batches and enterprises, given the grants on record.

A claim is one project of one enterprise under one clause in one year. Besides the rules within one
table or batch (``policies.stacking``: duplicates in a year, best clause, conflicts, annual caps), a
claim is checked against the grants **on record**: a ledger's (issue 11) and, in a table that spans
years, the table's own earlier years (the years are taken in order, each one's grants becoming
record for the next). In order:

1. a claim of the same enterprise, project, clause and year as a grant on record *replaces* it (a
   corrected resubmission, or a table restating a recorded claim): that grant no longer counts;
2. a one-off clause pays a project once, whatever the year: a later claim of a project and clause
   already granted is a ``duplicate`` (0, citing the grant). Only the clauses of ``REPEATS`` pay by
   year; ``tongzhou:8`` within three years of its first grant;
3. 从优不重复 and one district policy per project hold across years: a grant on record under another
   (non-stacking) clause of the same policy makes the claim ``superseded``, under another district
   policy a ``conflict``; the earlier grant stands and the claim says so;
4. a clause that pays a project again less what was paid before (``FROM_RECORD``): ``tongzhou:8``'s
   5,000,000 over three years, where what a ledger holds replaces the declared
   ``awarded_before_yuan``, and ``tongzhou:4``'s honour, where an upgrade gets the difference
   (晋级享差额): the clause's full amount less the grants on record (a different declared figure is
   noted; nothing left is a ``duplicate``);
5. shared caps, the room already used on record deducted first, split in proportion among the
   claims of the year (``split_cap``: to the cent, whatever the row order): per event
   (``tongzhou:9``'s 1,000,000, across enterprises and years), then the annual caps per enterprise,
   policy and year, the narrower first.

"On record" is the caller's to say (the ledger: each submission's latest decision that is not
voided, else the review's granted amount; rejected and voided ones are not grants). A grant of 0
frees its room and makes nothing a duplicate. Pure Python: no pandas, no files, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from .award import Check, Note
from .numbers import round_yuan
from .parameters import InForce, Reform
from .registry import policies
from .schema import AnnualCap, Clause, Parameter, Policy

MUNICIPAL = frozenset({"beijing"})

#: Where each policy says a project gets its best clause only.
BEST_OF_CITES = {
    "tongzhou": "第十条 同一项目、同一事项从优不重复",
    "etown": "七(二)3 同一企业的同一项目，按照“从优不重复”原则予以支持，另有规定的除外",
    "beijing": "解读 reading: 二(一)(二)(三)(五)同一项目取其一",
}
CONFLICT_CITE = "解读 reading: 一个项目只适用一个区级政策 one project takes one district policy"

#: The clauses that pay a project by year: clause -> years from its first grant (None: every year).
#: Every other clause is one-off (the catalog's "Cross-policy stacking"; E-Town's two instalments are
#: one claim with two payment stages).
REPEATS: dict[str, int | None] = {"beijing:8": None, "etown:31": None, "tongzhou:8": 3}
ONE_OFF_CITE = "解读 reading: 一次性条款同一项目只支持一次 a one-off clause pays a project once, whatever the year"


@dataclass(frozen=True)
class Earlier:
    """How a clause that pays a project again counts what earlier years paid: the claim states it in
    ``input`` (``nothing`` when none); the clause pays its full amount less what was paid before."""

    input: str
    nothing: object
    replaces: bool  # a complete record (a ledger) replaces the claim's statement; else the record only raises it
    cites: str


#: The clauses that pay a project again, less what earlier grants of it paid.
FROM_RECORD: dict[str, Earlier] = {
    # 5,000,000 over three years: what the ledger holds replaces the declared awarded_before_yuan (issue 11)
    "tongzhou:8": Earlier("awarded_before_yuan", 0, True, "第八条 根据实施成效分三年最高支持500万元"),
    # an upgrade gets the difference: the same honour again pays its level's ceiling less what was paid;
    # the declared earlier level stands when the record shows less (it may predate the ledger)
    "tongzhou:4": Earlier("prior_honour_level", "none", False, "第四条 单个荣誉最高支持…晋级享差额支持"),
}

#: clause -> (the input naming the event, the parameter of the cap per event).
EVENT_CAPS: dict[str, tuple[str, str]] = {"tongzhou:9": ("event", "cap")}

#: The clauses whose rules read the claim's inputs (``Claim.inputs``).
NEEDS_INPUTS = frozenset({*FROM_RECORD, *EVENT_CAPS})

ZERO = Decimal("0.00")


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


def event_key(text: object) -> str:
    """An event's name as a key: Unicode-normalised (全角 → 半角), spaces collapsed, case ignored."""
    if text is None:
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text))).strip().casefold()


# --- what is on record ------------------------------------------------------------------------------


@dataclass(slots=True)
class Grant:
    """A grant on record: what a claim was given (after every rule and any reviewer's decision)."""

    enterprise: str  # the enterprise's key: its credit code, else its name
    project: str
    clause: str
    year: int
    granted: Decimal
    event: str = ""  # tongzhou:9's event as given (``event_key`` compares it)
    cite: str = ""  # how a message names it: "ledger submission 12 (a.xlsx)", "row 5"

    @property
    def policy(self) -> str:
        return self.clause.split(":", 1)[0]

    @property
    def identity(self) -> tuple[str, str, str, int]:
        return (self.enterprise, self.project, self.clause, self.year)

    def shown(self) -> str:
        where = f" ({self.cite})" if self.cite else ""
        return f"{self.clause} in {self.year}{where}: {yuan(self.granted)} 元"

    @property
    def reference(self) -> str:
        """How a note refers to it (``Note.refers_to``): its cite, else the claim itself."""
        return self.cite or f"{self.enterprise} / {self.project} / {self.clause} / {self.year}"


def refers(grants: Iterable[Grant]) -> tuple[str, ...]:
    return tuple(g.reference for g in grants)


class Record:
    """The grants on record, indexed for the rules. ``complete``: a ledger's, which holds every grant
    (what it lacks was not granted); a table's own earlier years are not complete."""

    def __init__(self, grants: Iterable[Grant] = (), *, complete: bool = False):
        self.complete = complete
        self.grants: list[Grant] = []
        self._by_project: dict[tuple[str, str], list[Grant]] = {}
        self._by_year: dict[tuple[str, int, str], list[Grant]] = {}
        self._by_event: dict[tuple[str, str], list[Grant]] = {}
        for grant in grants:
            self.add(grant)

    def add(self, grant: Grant) -> None:
        if grant.granted <= 0:
            return  # rejected, voided or capped to nothing: no room used, nothing to duplicate
        self.grants.append(grant)
        self._by_project.setdefault((grant.enterprise, grant.project), []).append(grant)
        policy = grant.clause.partition(":")[0]
        self._by_year.setdefault((grant.enterprise, grant.year, policy), []).append(grant)
        if grant.clause in EVENT_CAPS and event_key(grant.event):
            self._by_event.setdefault((grant.clause, event_key(grant.event)), []).append(grant)

    def without(self, identities: set[tuple[str, str, str, int]]) -> tuple[Record, list[Grant]]:
        """This record less the grants a new claim replaces (same enterprise, project, clause, year)."""
        kept = [g for g in self.grants if g.identity not in identities]
        gone = [g for g in self.grants if g.identity in identities]
        return Record(kept, complete=self.complete), gone

    def of_project(self, enterprise: str, project: str) -> list[Grant]:
        return self._by_project.get((enterprise, project), [])

    def of_year(self, enterprise: str, year: int, policy: str) -> list[Grant]:
        return self._by_year.get((enterprise, year, policy), [])

    def of_event(self, clause: str, event: str) -> list[Grant]:
        return self._by_event.get((clause, event_key(event)), [])


# --- the claims the rules work on ----------------------------------------------------------------------


class Claim(Protocol):
    """What the rules read and set on a claim (``policies.stacking``'s rows are such claims)."""

    ekey: str
    project: str
    clause: str
    policy: str
    year: int | None
    amount: Decimal | None
    granted: Decimal | None
    status: str
    notes: list[Note]
    stacks: bool
    capped: bool
    inputs: dict[str, object] | None


C = TypeVar("C", bound=Claim)  # the caller's kind of claim, which its callbacks take
K = TypeVar("K", bound=Hashable)

#: ``evaluate(claim, inputs)``: the claim's clause evaluated again with changed inputs ->
#: (amount, eligible, failed checks).
Reevaluate = Callable[[C, dict[str, object]], tuple[Decimal, bool, tuple[Check, ...]]]


def _year(claim: Claim) -> int:
    """The year of a claim the rules weigh (every claim with a status other than invalid has one)."""
    assert claim.year is not None, f"{claim.clause}: a claim without its year"
    return claim.year


def _amount(claim: Claim) -> Decimal:
    """What an evaluated claim's clause gives (set whenever its status is not invalid)."""
    assert claim.amount is not None, f"{claim.clause}: an evaluated claim without its amount"
    return claim.amount


def _granted(claim: Claim) -> Decimal:
    """What an evaluated claim is granted so far (set whenever its status is not invalid)."""
    assert claim.granted is not None, f"{claim.clause}: an evaluated claim without its grant"
    return claim.granted


def apply(
    claims: Sequence[C],
    record: Record,
    *,
    cite: Callable[[C], str],
    within_year: Callable[[list[C]], None],
    evaluate: Reevaluate[C],
    reform: Reform | None = None,
) -> None:
    """Apply every rule to ``claims`` (each evaluated: status granted, ineligible or invalid), year by year.

    ``within_year`` applies the rules inside one year (best clause, conflicts); ``evaluate(claim,
    inputs)`` evaluates a claim's clause again with changed inputs -> (amount, eligible, failed checks);
    ``reform``: the caps it sets (a policy's annual caps, a clause's cap per event) replace the policies'.
    """
    by_identity: dict[tuple[str, str, str, int | None], list[Grant]] = {}
    if record.grants:
        identities = {(c.ekey, c.project, c.clause, c.year) for c in claims if c.status != "invalid" and c.year}
        record, replaced = record.without(identities)
        for grant in replaced:
            by_identity.setdefault(grant.identity, []).append(grant)
    years: dict[int, list[C]] = {}
    for claim in claims:
        if claim.year is not None:
            years.setdefault(claim.year, []).append(claim)
    order = sorted(years)
    for year in order:
        these = years[year]
        if record.grants or record.complete:
            against_record(these, record, evaluate)
        within_year(these)
        share_caps(these, record, reform)
        if year != order[-1]:  # the grants of the last year are no one's record
            for claim in these:
                if claim.status in ("granted", "capped") and claim.granted:
                    record.add(grant_of(claim, cite(claim)))
    for claim in claims if by_identity else ():
        gone = by_identity.get((claim.ekey, claim.project, claim.clause, claim.year))
        if gone and claim.status != "invalid":
            claim.notes.append(
                Note(
                    "replaces",
                    "取代 Replaces the claim on record "
                    + ", ".join(g.shown() for g in gone)
                    + " (same enterprise, project, clause and year) / 更正后重新申报，取代原记录",
                    refers_to=refers(gone),
                )
            )


def grant_of(claim: Claim, cite: str) -> Grant:
    event = (claim.inputs or {}).get(EVENT_CAPS[claim.clause][0], "") if claim.clause in EVENT_CAPS else ""
    return Grant(
        claim.ekey, claim.project, claim.clause, _year(claim), _granted(claim), event=str(event or ""), cite=cite
    )


def _zero(claim: Claim, status: str, note: Note) -> None:
    claim.status, claim.granted = status, ZERO
    claim.notes = [note]


def against_record(claims: Sequence[C], record: Record, evaluate: Reevaluate[C]) -> None:
    """Rules 2-4 for the granted claims of one year."""
    for claim in claims:
        if claim.status != "granted":
            continue
        earlier = record.of_project(claim.ekey, claim.project)
        if earlier and _duplicate(claim, earlier):
            continue
        if earlier and _best_and_conflict(claim, earlier):
            continue
        if claim.clause in FROM_RECORD:
            _from_record(claim, record, evaluate)


def _duplicate(claim: Claim, earlier: list[Grant]) -> bool:
    same = sorted((g for g in earlier if g.clause == claim.clause), key=lambda g: g.year)
    if not same:
        return False
    article = _article(claim.clause)
    if claim.clause in FROM_RECORD and claim.clause not in REPEATS:
        return False  # paid again less what was paid (``_from_record``)
    if claim.clause not in REPEATS:
        _zero(
            claim,
            "duplicate",
            Note(
                "duplicate",
                f"重复 Duplicate: project {claim.project} was already granted under {claim.clause}: "
                f"{'; '.join(g.shown() for g in same)}; a one-off clause pays a project once 〔{article}; {ONE_OFF_CITE}〕",
                cites=f"{article}; {ONE_OFF_CITE}",
                refers_to=refers(same),
            ),
        )
        return True
    years = REPEATS[claim.clause]
    if years is None:
        return False
    first, last = min(same[0].year, _year(claim)), max(same[-1].year, _year(claim))
    if last - first >= years:
        cites = FROM_RECORD[claim.clause].cites if claim.clause in FROM_RECORD else article
        claim.status, claim.granted, claim.amount = "ineligible", ZERO, ZERO
        claim.notes = [
            Note(
                "outside_years",
                f"不符合 Not met: {claim.clause} pays a project within {years} years of its first grant "
                f"({'; '.join(g.shown() for g in same)}); {claim.year} is outside them / 超出{years}年支持期 〔{cites}〕",
                cites=cites,
                refers_to=refers(same),
            )
        ]
        return True
    return False


def _best_and_conflict(claim: Claim, earlier: list[Grant]) -> bool:
    if claim.policy not in MUNICIPAL:
        other = [g for g in earlier if g.policy != claim.policy and g.policy not in MUNICIPAL]
        if other:
            _zero(
                claim,
                "conflict",
                Note(
                    "conflict",
                    f"冲突 Conflict: project {claim.project} was granted under another district policy: "
                    f"{'; '.join(g.shown() for g in other)}; the earlier grant stands 〔{CONFLICT_CITE}〕",
                    cites=CONFLICT_CITE,
                    refers_to=refers(other),
                ),
            )
            return True
    if claim.stacks:
        return False
    stacking = _stacking_clauses()
    rivals = [g for g in earlier if g.policy == claim.policy and g.clause != claim.clause and g.clause not in stacking]
    if rivals:
        cites = BEST_OF_CITES.get(claim.policy, "")
        _zero(
            claim,
            "superseded",
            Note(
                "superseded",
                f"从优 Superseded: project {claim.project} was granted under {'; '.join(g.shown() for g in rivals)}; "
                f"one project gets one clause of a policy and the earlier grant stands 〔{cites}〕",
                cites=cites,
                about=rivals[0].clause,
                refers_to=refers(rivals),
            ),
        )
        return True
    return False


def _from_record(claim: C, record: Record, evaluate: Reevaluate[C]) -> None:
    """The claim's full amount (nothing before) less what earlier grants of the project under the clause paid."""
    rule = FROM_RECORD[claim.clause]
    before = [
        g for g in record.of_project(claim.ekey, claim.project) if g.clause == claim.clause and g.year < _year(claim)
    ]
    replaces = record.complete and rule.replaces
    if not before and not replaces:
        return  # nothing on record to compare with: the claim's own statement stands
    inputs = dict(claim.inputs or {})
    full, eligible, _ = evaluate(claim, {**inputs, rule.input: rule.nothing})
    if not eligible:
        return
    deducted = full - _amount(claim)  # what the claim's own statement takes off
    recorded = sum((g.granted for g in before), Decimal(0))
    used = recorded if replaces else max(recorded, deducted)
    amount = max(ZERO, full - used)
    if amount == claim.amount:
        return
    shown = "; ".join(g.shown() for g in before) or "none / 无"
    stated = inputs.get(rule.input, rule.nothing)
    if amount == 0 and before:
        _zero(
            claim,
            "duplicate",
            Note(
                "duplicate",
                f"重复 Duplicate: project {claim.project} was already granted under {claim.clause}: {shown}; nothing "
                f"is left of its {yuan(full)} 元 〔{rule.cites}〕",
                cites=rule.cites,
                refers_to=refers(before),
            ),
        )
        return
    claim.notes.append(
        Note(
            "on_record",
            f"记录 On record: {yuan(recorded)} 元 granted before for project {claim.project} under {claim.clause} ({shown}); "
            f"the claim's {rule.input} = {stated} counts {yuan(deducted)} 元; {yuan(full)} − {yuan(used)} = {yuan(amount)} 元 "
            f"〔{rule.cites}〕",
            cites=rule.cites,
            refers_to=refers(before),
        )
    )
    claim.amount = claim.granted = amount


# --- shared caps -------------------------------------------------------------------------------------


def share_caps(claims: Sequence[Claim], record: Record, reform: Reform | None = None) -> None:
    """Rule 5 for the claims of one year: per-event caps, then the annual caps (narrower first), each
    as ``reform`` sets it for the year when it does."""
    live = [c for c in claims if c.status == "granted" and _granted(c) > 0]
    events: dict[tuple[str, str], list[Claim]] = {}
    for claim in live:
        if claim.clause in EVENT_CAPS:
            name = event_key((claim.inputs or {}).get(EVENT_CAPS[claim.clause][0]))
            if name:
                events.setdefault((claim.clause, name), []).append(claim)
    for (clause, name), group in events.items():
        per_event = parameter(clause, EVENT_CAPS[clause][1])
        first = (group[0].inputs or {}).get(EVENT_CAPS[clause][0])
        value, label = _reformed(
            per_event.value,
            reform.parameter(clause, EVENT_CAPS[clause][1], _year(group[0])) if reform is not None else None,
            f"单个活动 per event «{first}»",
        )
        _share(
            group,
            value,
            record.of_event(clause, name),
            key=lambda c: (c.ekey, c.project, c.clause),
            label=label,
            cites=per_event.cites,
        )
    groups: dict[tuple[str, int, str], list[Claim]] = {}
    for claim in live:
        groups.setdefault((claim.ekey, _year(claim), claim.policy), []).append(claim)
    registry = policies()
    caps = {policy_id: caps_of(registry[policy_id]) for policy_id in {k[2] for k in groups}}
    for (ekey, year, policy_id), group in groups.items():
        recorded = record.of_year(ekey, year, policy_id)
        for cap in caps[policy_id]:
            value, label = _reformed(
                cap.cap, reform.cap(policy_id, cap.id, year) if reform is not None else None, f"{cap.label} in {year}"
            )
            members = [c for c in group if _granted(c) > 0 and _in_cap(cap, c.clause)]
            if len(members) < 2 and not recorded and (not members or _granted(members[0]) <= value):
                continue  # the common case, decided without the sums
            _share(
                members,
                value,
                [g for g in recorded if _in_cap(cap, g.clause)],
                key=lambda c: (c.project, c.clause),
                label=label,
                cites=cap.cites,
            )
    for claim in claims:
        if claim.status == "granted" and claim.capped:
            claim.status = "capped"


def _reformed(cap: Decimal, reformed: InForce | None, label: str) -> tuple[Decimal, str]:
    """A cap and its label, as the reform sets it (None: the policy's)."""
    if reformed is None:
        return cap, label
    return reformed.value, f"{label} (改革 reform: {yuan(reformed.value)} instead of {yuan(cap)})"


def caps_of(policy: Policy) -> list[AnnualCap]:
    # the narrower caps first (第六条 before 第十条), so the wider one sees what the narrower left
    return sorted(policy.annual_caps, key=lambda c: (c.clauses == "all", c.id))


def _in_cap(cap: AnnualCap, clause: str) -> bool:
    return cap.clauses == "all" or clause in cap.clauses


def _share(
    members: list[Claim],
    cap: Decimal,
    recorded: list[Grant],
    *,
    key: Callable[[Claim], Hashable],
    label: str,
    cites: str,
) -> None:
    if not members:
        return
    used = sum((g.granted for g in recorded), Decimal(0))
    room = max(Decimal(0), cap - used)
    total = sum((_granted(c) for c in members), Decimal(0))
    if total <= room:
        return
    shares = split_cap(room, [(key(c), _granted(c)) for c in members])
    on_record = (
        f"; {yuan(used)} 元 already on record ({'; '.join(g.shown() for g in recorded)}) leaves {yuan(room)} 元"
        if recorded
        else ""
    )
    for claim in members:
        share = shares[key(claim)]
        if share < _granted(claim):
            claim.notes.append(
                Note(
                    "capped",
                    f"封顶 Capped: {label} ({yuan(cap)} 元){on_record}; {len(members)} claim(s) of {yuan(total)} 元 "
                    f"share it in proportion: {yuan(_granted(claim))} → {yuan(share)} 〔{cites}〕",
                    cites=cites,
                    about=label,
                    refers_to=refers(recorded),
                )
            )
            claim.granted = share
            claim.capped = True


def split_cap(cap: Decimal, amounts: Sequence[tuple[K, Decimal]]) -> dict[K, Decimal]:
    """Share ``cap`` among claims in proportion to their amounts, to the cent by largest remainder.

    The shares add up to the cap exactly when the amounts exceed it (else each keeps its amount);
    ties go by key, so the split does not depend on the order of ``amounts``; a claim with a positive
    amount never drops to zero while the cap has a cent for it (the cent comes from the largest share).
    """
    cents = {key: int(round_yuan(a) * 100) for key, a in amounts}
    total = sum(cents.values())
    limit = int(round_yuan(cap) * 100)
    if total <= limit:
        return {key: Decimal(c) / 100 for key, c in cents.items()}
    share: dict[K, int] = {}
    rest: dict[K, int] = {}
    for key, c in cents.items():
        share[key], rest[key] = divmod(limit * c, total)
    left = limit - sum(share.values())
    for key in sorted(cents, key=lambda k: (-rest[k], -cents[k], str(k)))[:left]:
        share[key] += 1
    for key in sorted((k for k in cents if cents[k] > 0 and share[k] == 0), key=lambda k: (-cents[k], str(k))):
        donor = max(share, key=lambda k: (share[k], str(k)))
        if share[donor] <= 1:
            break
        share[donor] -= 1
        share[key] = 1
    return {key: (Decimal(c) / 100).quantize(Decimal("0.01")) for key, c in share.items()}


# --- the clauses' data --------------------------------------------------------------------------------


def _clause(clause_id: str) -> Clause:
    for policy in policies().values():
        for clause in policy.clauses:
            if clause.id == clause_id:
                return clause
    raise KeyError(clause_id)


def _article(clause_id: str) -> str:
    return f"{clause_id} {_clause(clause_id).article}"


def parameter(clause_id: str, name: str) -> Parameter:
    """A clause's named parameter (its value and the words it cites)."""
    return _clause(clause_id).parameters[name]


def _stacking_clauses() -> frozenset[str]:
    return frozenset(c.id for p in policies().values() for c in p.clauses if c.stacks)


def room_left(record: Record, enterprise: str, year: int) -> list[tuple[str, AnnualCap, Decimal, Decimal]]:
    """Each annual cap of each policy with grants of ``enterprise`` in ``year``: (policy, cap, used, left)."""
    out = []
    registry = policies()
    for policy_id in sorted({g.policy for g in record.grants if g.enterprise == enterprise and g.year == year}):
        recorded = record.of_year(enterprise, year, policy_id)
        for cap in caps_of(registry[policy_id]):
            used = sum((g.granted for g in recorded if _in_cap(cap, g.clause)), Decimal(0))
            out.append((policy_id, cap, used, max(Decimal(0), cap.cap - used)))
    return out


__all__ = [
    "BEST_OF_CITES",
    "CONFLICT_CITE",
    "EVENT_CAPS",
    "Earlier",
    "FROM_RECORD",
    "Grant",
    "MUNICIPAL",
    "NEEDS_INPUTS",
    "REPEATS",
    "Record",
    "apply",
    "caps_of",
    "event_key",
    "parameter",
    "refers",
    "room_left",
    "split_cap",
]
