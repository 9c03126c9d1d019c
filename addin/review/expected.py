"""What the generator makes for a clause (``Expected``): the content a genuine declaration must hold.

Regenerating a clause's template costs tens of milliseconds (all monetary clauses together ~1-2 s), so
the content is built once per process and kept (``expected_content``). A batch reviewed by workers gets
it from the process that starts them (``shipment``, built BEFORE the workers start: a forked worker
inherits it, a spawned process or a Dask worker unpickles it once, ``receive``), never rebuilt there.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from dataclasses import dataclass, field
from functools import cache

from policies.engine import compiled
from policies.registry import fields

from ..review_formula import expand_sqref, normalise

#: What each enterprise and project field is called in a message (common.yaml).
FIELD_LABELS = {
    **{k: f"{f.label.zh} {f.label.en}" for k, f in fields().items()},
    "granted_note": "组合测算核定 Granted in the portfolio",
}


@dataclass
class Expected:
    """The generator-owned content of a clause's declaration, from ``addin.declaration_template``."""

    clause_id: str
    version: str
    policy_version: str
    sheets: list[tuple[str, str]]  # (title, state)
    cells: dict[tuple[int, str], tuple[str, object]]  # (sheet, ref) -> ("f", normalised formula) | ("v", value)
    slots: dict[str, tuple[int, str, str]]  # key -> (sheet, ref, kind): the cells a declaration fills
    slot_cells: set[tuple[int, str]]
    names: dict[str, str]  # defined name -> normalised reference
    validations: dict[int, dict[str, tuple]]  # sheet -> cell -> (type, operator, formula1, formula2)
    award: tuple[int, str]
    captions: dict[tuple[int, str], str]  # (sheet, ref) -> the row's label, for messages
    conditional: dict[int, set[str]] = field(default_factory=dict)  # sheet -> normalised conditional-format formulas

    def title(self, s: int) -> str:
        return self.sheets[s][0] if s < len(self.sheets) else f"sheet {s + 1}"

    def cell(self, s: int, ref: str) -> str:
        """A cell as a finding names it: "Sheet!B5"."""
        return f"{self.title(s)}!{ref}"

    def where(self, s: int, ref: str) -> str:
        """A cell as a message names it: "Sheet!B5 (the row's label)"."""
        caption = self.captions.get((s, ref))
        return self.cell(s, ref) + (f" ({caption})" if caption else "")

    def field(self, key: str, label: str | None = None) -> str:
        """A slot as a message names it: "label [Sheet!B5]"."""
        s, ref, _ = self.slots[key]
        return f"{label or FIELD_LABELS.get(key, key)} [{self.sheets[s][0]}!{ref}]"

    def slot(self, key: str) -> list[str]:
        """The cell of a slot, for a finding's ``cells`` (none when the template has no such slot)."""
        if key not in self.slots:
            return []
        s, ref, _ = self.slots[key]
        return [f"{self.sheets[s][0]}!{ref}"]


def validation_key(kind: str | None, operator: str | None, f1: str | None, f2: str | None) -> tuple:
    """A data validation as compared: what Excel and LibreOffice write alike."""
    kind = (kind or "none").lower()
    operator = (operator or "between") if kind in ("whole", "decimal", "date", "time", "textlength") else None
    if operator not in ("between", "notBetween"):
        f2 = None  # meaningless with one bound; LibreOffice writes a 0 there
    return (kind, operator, normalise(f1) if f1 else None, normalise(f2) if f2 else None)


_BUILT: dict[str, Expected] = {}  # clause id -> its content, built or received in this process
_HELD: set[str] = set()  # the shipments this process holds (built here, inherited or received)


def expected_content(clause_id: str) -> Expected:
    """The clause's expected content (``clause_id`` as the template's meta sheet names it), built once."""
    cid = compiled(clause_id).id
    found = _BUILT.get(cid)
    if found is None:
        found = _BUILT[cid] = _build(cid)
    return found


@dataclass(frozen=True)
class Shipment:
    """Every monetary clause's expected content, pickled once: what a batch's workers are given."""

    token: str  # the pickle's hash: a worker unpickles each shipment once
    blob: bytes


@cache
def shipment() -> Shipment:
    """Build every monetary clause's content in this process (before its workers start) and pickle it."""
    from ..declaration_template import monetary_clause_ids

    built = {cid: expected_content(cid) for cid in monetary_clause_ids()}
    blob = pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL)
    token = hashlib.sha256(blob).hexdigest()
    _HELD.add(token)  # a forked worker inherits what was built: nothing to unpickle
    return Shipment(token, blob)


def receive(sent: Shipment | None) -> None:
    """In a worker: take the content the batch's process built (once per process and shipment)."""
    if sent is None or sent.token in _HELD:
        return
    _BUILT.update(pickle.loads(sent.blob))  # noqa: S301 - our own parent's pickle, never a submission's bytes
    _HELD.add(sent.token)


def _build(clause_id: str) -> Expected:
    """Regenerate the clause's template in memory and keep what a submission must not change."""
    from ..declaration_template import TEMPLATE_VERSION, build_cached

    cc = compiled(clause_id)
    wb, layout = build_cached(cc.id)
    cells: dict[tuple[int, str], tuple[str, object]] = {}
    captions: dict[tuple[int, str], str] = {}
    validations: dict[int, dict[str, tuple]] = {}
    conditional: dict[int, set[str]] = {}
    slot_cells = {(s, ref) for s, ref, _ in layout.slots.values()}
    sheets = []
    for s, ws in enumerate(wb.worksheets):
        sheets.append((ws.title, ws.sheet_state))
        row_text: dict[int, str] = {}
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is None or value == "":
                    continue
                ref = cell.coordinate
                if isinstance(value, str) and cell.data_type == "f":
                    cells[(s, ref)] = ("f", normalise(value))
                else:
                    cells[(s, ref)] = ("v", value)
                    if isinstance(value, str) and cell.column <= 2 and cell.row not in row_text:
                        row_text[cell.row] = value.split("\n")[0][:40]
        for s2, ref in [*slot_cells, *cells]:
            if s2 == s:
                m = re.match(r"[A-Z]+(\d+)", ref)
                if m and int(m[1]) in row_text:
                    captions[(s, ref)] = row_text[int(m[1])]
        per_cell: dict[str, tuple] = {}
        for dv in ws.data_validations.dataValidation:
            key = validation_key(dv.type, dv.operator, dv.formula1, dv.formula2)
            for ref in expand_sqref(str(dv.sqref), 10**6) or []:
                per_cell[ref] = key
        validations[s] = per_cell
        conditional[s] = {
            normalise(f) for cf in ws.conditional_formatting for rule in cf.rules for f in (rule.formula or [])
        }
    names = {name: normalise(dn.attr_text) for name, dn in wb.defined_names.items()}
    award = layout.formulas["award"]
    return Expected(
        cc.id,
        TEMPLATE_VERSION,
        cc.policy.encoding_version,
        sheets,
        cells,
        dict(layout.slots),
        slot_cells,
        names,
        validations,
        award,
        captions,
        conditional,
    )
