"""One home per fact (issue 10 part 4): claim fields, zones, policy names and the Excel date epoch are
defined once, in ``policies/data/common.yaml``, the policy files or ``policies/years.py``, and every
module reads them from there."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from policies.registry import common, fields, policies, policy_names, zone_spec, zones
from policies.years import EXCEL_EPOCH, LAST_SERIAL, from_serial, to_serial

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for folder in ("policies", "addin", "udfs") for p in sorted((ROOT / folder).rglob("*.py"))]


def code_with(pattern: str) -> list[str]:
    found = []
    for path in CODE:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    return found


def test_the_excel_epoch_is_defined_once() -> None:
    assert code_with(r"1899,\s*12,\s*30|25569") == ["policies/years.py: EXCEL_EPOCH = date(1899, 12, 30)"]
    assert date(1899, 12, 30) == EXCEL_EPOCH
    assert from_serial(45658) == date(2025, 1, 1) and to_serial(date(2025, 1, 1)) == 45658
    assert from_serial(61) == date(1900, 3, 1) and from_serial(LAST_SERIAL) == date(9999, 12, 31)
    with pytest.raises(ValueError, match="must be a date"):
        from_serial(LAST_SERIAL + 1)


def test_excel_serials_read_the_same_in_a_table_a_declaration_and_a_worksheet_function() -> None:
    from addin.declaration import detail_cells
    from policies.stacking import parse_date
    from udfs.functions import date_cell

    assert parse_date(45658) == parse_date(45658.0) == date_cell(45658.0) == date(2025, 1, 1)
    cells = detail_cells({"start_date": "2025-01-01", "completion_date": 45659}, "etown:27", require=False)
    assert (cells["start_date"], cells["completion_date"]) == (45658, 45659)


def test_the_process_pool_is_made_in_one_place() -> None:
    assert code_with(r"ProcessPoolExecutor\(") == ["addin/pool.py: return ProcessPoolExecutor("]


def test_claim_field_labels_are_written_only_in_common_yaml() -> None:
    """The labels of the applicant and project fields, once in 5 modules, are in no module now."""
    for name, field in fields().items():
        for text in {field.label.zh, field.column.zh} - {"条款"}:  # 条款 is also a word of prose
            assert not code_with(re.escape(f'"{text}"')), (name, code_with(re.escape(f'"{text}"')))
    assert not code_with(r'"(地址|注册地址) ?(A|a)ddress')


def test_every_module_reads_the_same_fields() -> None:
    from addin import declaration, portfolio, review
    from addin.ledger import export
    from policies import stacking

    label = {name: f"{f.label.zh} {f.label.en}" for name, f in fields().items()}
    assert {k: label[k] for k, f in fields().items() if "review" in f.required} == review.REQUIRED
    assert declaration.REQUIRED_DETAILS["address"] == "注册地址 Address (address)"
    assert stacking.REQUIRED == ("enterprise", "project", "clause", "year")
    assert set(stacking.DETAILS) | set(stacking.REQUIRED) | {"zone"} == set(fields())
    assert portfolio.column_label("uscc") == ("统一社会信用代码", "Credit code") == export.field_column("uscc")[1:]
    assert portfolio.ENTERPRISE_COLUMNS == ["enterprise", "uscc", "address", "contact", "phone"]
    assert [c[0] for c in portfolio.template_columns()][:6] == [
        "enterprise",
        "uscc",
        "project",
        "project_name",
        "clause",
        "year",
    ]


def test_zones_are_defined_once_and_the_zone_input_offers_them_all() -> None:
    assert not code_with(r"etown_core.*yizhuang_new_town|Literal\[.*other_beijing")
    assert list(zones()) == ["tongzhou", "etown_core", "yizhuang_new_town", "other_beijing"]
    assert zone_spec().values == zones() and zone_spec().label == fields()["zone"].label
    from policies.engine import compiled

    assert compiled("etown:27").specs["zone"] is zone_spec()


def test_policy_names_and_labels_come_from_the_policy_files() -> None:
    assert common().policies == list(policies()) == ["beijing", "tongzhou", "etown"]
    assert policy_names()["经开区"] == "etown" and policy_names()["municipal"] == "beijing"
    assert not code_with(r'"北京市": "beijing"|"beijing": \("北京市"')
    from addin.portfolio import value_label
    from udfs.functions import policy_of

    assert policy_of("AWARD_CLAUSES", " E-Town ") == "etown" and value_label("tongzhou") == "通州区 tongzhou"
    with pytest.raises(Exception, match=r"beijing \(北京市\), tongzhou \(通州区\), etown \(经开区\)"):
        policy_of("AWARD_CLAUSES", "海淀")


# --- no reaching into another module's private names (issue 10 part 5) --------------------------------------

#: Library internals with no public equivalent, and the standard library's documented "private-looking" names.
LIBRARY_PRIVATES = {
    "_exit": "os._exit: a worker ends at once, without the parent's atexit handlers",
    "_getframe": "sys._getframe",
    "_replace": "namedtuple",
    "_asdict": "namedtuple",
    "_fields": "namedtuple",
    "_make": "namedtuple",
    "_fonts": "openpyxl: the workbook's default font (no public setter)",
    "_named_styles": "openpyxl: the Normal style's font (no public setter)",
    "_charts": "openpyxl: a sheet's charts (no public getter)",
    "_style": "openpyxl: a cell's whole style at once (copying each part is many times slower)",
    # xlsxwriter (pinned below 4 in pyproject): the portfolio's rows written as XML into a constant-memory
    # sheet's row file (addin/portfolio.py ``_Rows``): its public write_row costs 5-7 µs a cell, which
    # made a 100,000-claim .xlsx more than 3x its csv (issue 16); the xlsx tests catch a changed internal.
    "_write_single_row": "xlsxwriter: flush the header row before the rows written as XML",
    "_check_dimensions": "xlsxwriter: the sheet's dimensions after the rows written as XML",
    "_get_xf_index": "xlsxwriter: a format's style index for the rows written as XML",
    "_escape_control_characters": "xlsxwriter: its escaping of control characters, kept identical",
    "_escape_data": "xlsxwriter: its escaping of XML text, kept identical",
}
SCANNED = [
    p
    for folder in ("policies", "udfs", "addin", "tests", "benchmarks", "lite")
    for p in sorted((ROOT / folder).rglob("*.py"))
]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _self(node: object) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def reaches_into_privates(source: str, where: str = "<code>") -> list[str]:
    """The places where ``source`` uses a private name (``_x``) that is not its own: imported from another
    module (``from m import _f``), or an attribute of anything but ``self``/``cls`` (``clause._amount``,
    ``module._func``, ``getattr(obj, "_x")``) that this module does not define itself. A private module
    (``udfs._sheet``) may be imported: the names taken from it are public."""
    tree = ast.parse(source, where)
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _self(node.value):
            own.add(node.attr)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [
                (node.lineno, f"from {'.' * node.level}{node.module or ''} import {a.name}")
                for a in node.names
                if _private(a.name)
            ]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if not _self(node.value) and node.attr not in own and node.attr not in LIBRARY_PRIVATES:
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) >= 2:
            name = node.args[1]
            if (
                node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and _private(name.value)
                and name.value not in own | set(LIBRARY_PRIVATES)
            ):
                found.append((node.lineno, ast.unparse(node)))
    return [f"{where}:{line}: {what}" for line, what in sorted(found)]


def test_the_scan_finds_private_names_reached_from_outside() -> None:
    source = """
import os
from policies.engine import _resolved, compiled
from udfs._sheet import bad

class Mine:
    def __init__(self):
        self._x = 1
    def same(self, other):
        return other._x + self._x

def f(clause, module):
    module._hook = None
    os._exit(1)
    getattr(clause, "_requires")
    return clause._amount, compiled.__wrapped__
"""
    assert [line.split(": ", 1)[1] for line in reaches_into_privates(source)] == [
        "from policies.engine import _resolved",
        "module._hook",
        "getattr(clause, '_requires')",
        "clause._amount",
    ]


def test_no_module_reaches_into_another_modules_private_names() -> None:
    found = []
    for path in SCANNED:
        found += reaches_into_privates(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "give the name a public one in its own module:\n" + "\n".join(found)
