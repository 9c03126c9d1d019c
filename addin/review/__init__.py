"""``green-award review PATH...``: check submitted declaration workbooks (申报表).

Per submission (``review_file``, ``single``):

1. read defensively (``read``, over ``addin.safe_xlsx``): size, zip directory (entries, sizes, ratios) and
   DTD scan before any XML parser runs, then ElementTree's C parser behind a C guard; each sheet's XML
   parsed once for formulas, cached values and validations together;
2. the template recognised from its hidden ``meta`` sheet (template and policy versions, clause), and its
   generator-owned content (labels, formulas, defined names, data validation) compared with what
   ``addin.declaration_template`` generates NOW for that clause (``conform`` against ``expected``; never
   with a fingerprint the file carries); formulas compared after ``review_formula.normalise``, so a file
   re-saved by Excel or LibreOffice passes;
3. every field validated with the core's pydantic model of the clause, plus the enterprise fields: credit
   code (GB 32100-2015), phone, dates, required fields (``check``);
4. the declared amount (the cached value of ``AWARD``) compared with the core's ``evaluate`` on the same
   inputs; eligibility: every condition answered 是, zone, validity, the clause's rules (``check``).

Every finding is data (``findings.Finding``: a stable short ``code`` such as ``macro``, ``input_formula``,
``tampered``, a severity, the article it cites, the cells and earlier claims involved, the message in
Chinese and English), rendered at the edge (``report``: console, JSON, xlsx). A file's problems are capped
at ``MAX_PROBLEMS``; quoted text from the file is cut to a few hundred characters; file names are shown
printable (``display_name``).

Across the batch (``batch.cross_check``) the portfolio rules of ``policies.stacking`` are applied to the
submissions, enterprises matched by credit code: duplicates, two clauses of one policy for one project,
two district policies, and the annual caps (a cap that reduces a grant is a warning with the amount after
the cap; the submission stays ok). The files of a big batch are reviewed over ``addin.executors``'
executor (a process pool where it pays, or Dask), the expected content built once before the workers start.
"""

from __future__ import annotations

from ..safe_xlsx import DEFAULT_LIMITS, Limits
from .batch import PAYS_FROM, cross_check, find_files, review_paths
from .check import REQUIRED, TOLERANCE
from .command import review_demo, review_with_progress, run_review
from .conform import EARLIER, numbers_only
from .expected import FIELD_LABELS, Expected, Shipment, expected_content, shipment
from .findings import (
    MAX_PROBLEMS,
    SEVERITIES,
    Finding,
    Problem,
    Submission,
    code_of,
    display_name,
    languages,
    printable,
    problem,
)
from .read import MACRO_EXTENSIONS, MAX_NUMBER, REFUSED, skip_reason
from .report import print_review, summary, write_json, write_xlsx
from .single import META_SHEET, review_file

__all__ = [
    "DEFAULT_LIMITS",
    "EARLIER",
    "FIELD_LABELS",
    "MACRO_EXTENSIONS",
    "MAX_NUMBER",
    "MAX_PROBLEMS",
    "META_SHEET",
    "PAYS_FROM",
    "REFUSED",
    "REQUIRED",
    "SEVERITIES",
    "TOLERANCE",
    "Expected",
    "Finding",
    "Limits",
    "Problem",
    "Shipment",
    "Submission",
    "code_of",
    "cross_check",
    "display_name",
    "expected_content",
    "find_files",
    "languages",
    "numbers_only",
    "print_review",
    "printable",
    "problem",
    "review_demo",
    "review_file",
    "review_paths",
    "review_with_progress",
    "run_review",
    "shipment",
    "skip_reason",
    "summary",
    "write_json",
    "write_xlsx",
]
