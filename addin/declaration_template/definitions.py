"""Where a declaration's values go: the sheets, the cell conventions, and the layout a template's defined
names say (``layout``: read back from a committed template, or from the generator for a new policy)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from policies.engine import compiled
from policies.registry import fields
from policies.schema import InputSpec, Label

TEMPLATE_VERSION = "3"  # 3: every cell a declaration fills has a defined name (the layout)
GENERATOR = "green-award"
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "workbook_templates"

# What a declaration's cells hold: yes/no, and the status of a payment stage.
YES, NO = "是", "否"
DUE, PENDING = "可兑现 due", "待条件 pending"

SHEETS = (
    "封面 Cover",
    "申报单位与项目 Applicant",
    "申报内容 Inputs",
    "奖励测算 Award",
    "附件与承诺 Attachments",
    "lists",
    "meta",
)
PRINTED = 5  # the first five sheets are printed; lists and meta are hidden


#: The kind of a declaration's cell for each kind of claim field (common.yaml), and its number format.
SLOT_KINDS = {"text": "text", "choice": "choice", "year": "number", "date": "date", "money": "number"}


def field_cell(field: str) -> str:
    """The defined name of a claim field's cell (common.yaml), as formulas refer to it."""
    return fields()[field].cell or ""


def choices(spec: InputSpec) -> dict[str, Label]:
    """A choice input's values (code -> label); empty for any other input."""
    return spec.values or {}


def slot_kind(spec: InputSpec) -> str:
    """The kind of a declaration's cell for a clause's input, condition or payment input."""
    return {"bool": "yesno", "choice": "choice", "text": "text"}.get(spec.type, "number")


def template_name(clause_id: str) -> str:
    return f"declaration_{clause_id.replace(':', '-')}.xlsx"


def q(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


@dataclass
class Layout:
    """Where a declaration's values go: slot key -> (sheet index, cell, kind); formula key -> (sheet index, cell)."""

    clause_id: str
    slots: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    formulas: dict[str, tuple[int, str]] = field(default_factory=dict)
    choice_labels: dict[str, str] = field(default_factory=dict)  # formula key -> input whose English label it shows
    rule_keys: list[str] = field(default_factory=list)
    stage_keys: list[tuple[str, str]] = field(default_factory=list)  # (amount key, status key)


#: Defined names of a template that are no place a declaration fills.
NOT_LAYOUT = ("CLAUSE_ID",)
LOCKED_SLOTS = {"granted_note": "text"}  # slots the generator fills that have no input behind them


def defined_names(xlsx: bytes) -> dict[str, tuple[int, str]]:
    """A template's workbook-level defined names: name -> (sheet index, cell), print areas left out."""
    from defusedxml.ElementTree import fromstring

    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        root = fromstring(archive.read("xl/workbook.xml"))
    out = {}
    for element in root.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}definedName"):
        name, text = element.get("name", ""), element.text or ""
        if name.startswith("_xlnm.") or element.get("localSheetId") is not None:
            continue
        sheet, ref = text.rsplit("!", 1)
        out[name] = (SHEETS.index(sheet.strip("'").replace("''", "'")), ref.replace("$", ""))
    return out


def layout_from_names(clause_id: str, names: dict[str, tuple[int, str]]) -> Layout:
    """The layout a template's defined names say: a claim field's cell name (common.yaml), ``in_<input>``,
    a locked slot, or else a formula cell named by its key (``ELIGIBLE``, ``AWARD`` upper-case)."""
    cc = compiled(clause_id)
    by_cell = {f.cell: key for key, f in fields().items() if f.cell}
    lay = Layout(cc.id)
    for name, (s, ref) in names.items():
        if name in NOT_LAYOUT:
            continue
        if name in by_cell:
            key = by_cell[name]
            lay.slots[key] = (s, ref, SLOT_KINDS[fields()[key].kind])
        elif name.startswith("in_"):
            lay.slots[name[3:]] = (s, ref, slot_kind(cc.specs[name[3:]]))
        elif name in LOCKED_SLOTS:
            lay.slots[name] = (s, ref, LOCKED_SLOTS[name])
        else:
            lay.formulas[name.lower()] = (s, ref)
    lay.choice_labels = {k: k.removeprefix("label_") for k in lay.formulas if k.startswith("label_")}
    rules = sorted((int(m[1]), k) for k in lay.formulas if (m := re.fullmatch(r"rule_(\d+)", k)))
    lay.rule_keys = [k for _, k in rules]
    stages = sorted(int(m[1]) for k in lay.formulas if (m := re.fullmatch(r"stage_(\d+)_amount", k)))
    lay.stage_keys = [(f"stage_{i}_amount", f"stage_{i}_status") for i in stages]
    return lay


@cache
def layout(clause_id: str) -> Layout:
    """Where a declaration of the clause puts its values: what the committed template's defined names say
    (a fraction of a millisecond; building the workbook to learn it costs 40 ms), else the generator's."""
    cid = compiled(clause_id).clause.id
    path = TEMPLATES / template_name(cid)
    if not path.exists():  # a policy added from GREEN_AWARD_POLICY_DIRS: no template is committed for it
        from .sheets import build_cached

        return build_cached(cid)[1]
    return layout_from_names(cid, defined_names(path.read_bytes()))
