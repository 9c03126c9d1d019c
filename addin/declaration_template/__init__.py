"""The declaration template (申报表) of one clause, generated from its definition in ``policies/data``.

``build(clause_id)`` makes the workbook with openpyxl and returns it with its ``Layout``: where each
value a declaration fills goes (``slots``) and which formula cells carry a cached value
(``formulas``), each cell named in the workbook, so that ``layout`` reads it back from a committed
template's defined names. ``template_bytes`` saves it deterministically (fixed zip times, fixed document
properties); the committed ``workbook_templates/declaration_<clause>.xlsx`` files are exactly that,
and a test holds them equal to what this module makes. Regenerate them all with
``python -m addin.declaration_template`` (``write_templates()``).

The package, by concern: ``definitions`` (the sheets, the cell conventions, the layout read back from defined
names), ``styles`` (fonts, formats, widths, row heights), ``formulas`` (a clause's expressions as Excel
formulas and as words), ``cells`` (writing cells, slots, named formulas, validations, the printed page),
``sheets`` (the content of each sheet; ``build``), ``output`` (deterministic bytes, ``write_templates``).

Cell conventions (the core reads every one of them the same way as the rendered formula):

* a yes/no cell (condition or yes/no input) holds 是 or 否; formulas read ``(cell="是")``, and a
  condition left blank is assumed met, as the core assumes it;
* a choice cell holds the Chinese label of the value (``自有``, ``A级``), picked from a dropdown of
  labels; the English label is shown beside it by a lookup. A formula compares the cell with the
  label (the clause's ``ownership == "self"`` renders as ``(in_ownership&"")="自有"``): the codes
  stay in the policy data and never appear in the workbook; the core maps a label back to its code.
  ``&""`` makes a number typed into a choice compare as text, as the core reads it;
* an input with a default reads as the default when blank (``IF(ISBLANK(cell),default,cell)``);
* a rule over a threshold fact (``fact: true``) holds when a fact it names is blank (assumed);
* numbers are doubles; a ratio compared with a threshold is cross-multiplied by the clause's own
  expression (``at_least(x, t)``): exact in the core, within relative 1e-9 in the formula.

Printing: every visible sheet is A4 portrait, one page wide (fit to width), with a binding margin on
the left, the policy and clause in the header and 第&P页 共&N页 and the generation date in the footer;
rows are as tall as their wrapped text needs (estimated here: spreadsheet programs do not grow rows
on load); fonts are 宋体 SimSun for the body and 黑体 SimHei for headings (the renderer substitutes
what it has).
"""

from .cells import Cells
from .definitions import (
    DUE,
    GENERATOR,
    LOCKED_SLOTS,
    NO,
    NOT_LAYOUT,
    PENDING,
    PRINTED,
    SHEETS,
    SLOT_KINDS,
    TEMPLATE_VERSION,
    TEMPLATES,
    YES,
    Layout,
    defined_names,
    field_cell,
    layout,
    layout_from_names,
    slot_kind,
    template_name,
)
from .formulas import KIND_WORDS, describe, excel, input_ref, labelled, referrer, rule_formula, show_parameter, yes_no
from .output import CORE_XML, FIXED_TIME, deterministic, monetary_clause_ids, template_bytes, write_templates
from .sheets import BOOL_SPEC, COMMITMENT, Builder, attachment_list, bounds_text, build, build_cached, default_text
from .styles import (
    BODY_FONT,
    COUNT_FORMAT,
    DATE_FORMAT,
    GENERATED_MARK,
    GENERATED_XML,
    HEAD_FONT,
    MONEY_FORMAT,
    NUMBER_FORMAT,
    SIZE,
    WIDTHS,
    char_width,
    line_count,
    row_height,
)

__all__ = [
    "BODY_FONT",
    "BOOL_SPEC",
    "COMMITMENT",
    "CORE_XML",
    "COUNT_FORMAT",
    "DATE_FORMAT",
    "DUE",
    "FIXED_TIME",
    "GENERATED_MARK",
    "GENERATED_XML",
    "GENERATOR",
    "HEAD_FONT",
    "KIND_WORDS",
    "LOCKED_SLOTS",
    "MONEY_FORMAT",
    "NO",
    "NOT_LAYOUT",
    "NUMBER_FORMAT",
    "PENDING",
    "PRINTED",
    "SHEETS",
    "SIZE",
    "SLOT_KINDS",
    "TEMPLATES",
    "TEMPLATE_VERSION",
    "WIDTHS",
    "YES",
    "Builder",
    "Cells",
    "Layout",
    "attachment_list",
    "bounds_text",
    "build",
    "build_cached",
    "char_width",
    "default_text",
    "defined_names",
    "describe",
    "deterministic",
    "excel",
    "field_cell",
    "input_ref",
    "labelled",
    "layout",
    "layout_from_names",
    "line_count",
    "monetary_clause_ids",
    "referrer",
    "row_height",
    "rule_formula",
    "show_parameter",
    "slot_kind",
    "template_bytes",
    "template_name",
    "write_templates",
    "yes_no",
]
