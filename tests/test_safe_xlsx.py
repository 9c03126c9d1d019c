"""Hostile files: each is a clear problem, never a crash; bombs refused before any XML is parsed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from addin import safe_xlsx
from addin.review import review_file
from addin.review_formula import expand_sqref, normalise
from addin.safe_xlsx import Limits, UnsafeWorkbook, read_book

GiB = 1024**3
ROOT = Path(__file__).resolve().parent.parent

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
WB_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    b'<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&lol9;" sheetId="1"/></sheets></workbook>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&xxe;" sheetId="1"/></sheets></workbook>"""


def xlsx(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def minimal(override: dict[str, bytes] | None = None) -> bytes:
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WB_RELS,
        "xl/worksheets/sheet1.xml": SHEET,
    }
    parts.update(override or {})
    return xlsx(parts)


def write_zip_bomb(path: Path, gib: int = 1) -> None:
    """A real xlsx skeleton whose sheet inflates to ``gib`` GiB of zeros, streamed: never 1 GiB in memory or on disk."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WB_RELS),
        ):
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024 * gib):
                f.write(chunk)


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "junk.xlsx").write_bytes(b"this is not a workbook at all\n" * 40)
    (folder / "empty.xlsx").write_bytes(b"")
    good = minimal()
    (folder / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    write_zip_bomb(folder / "zip_bomb.xlsx")
    (folder / "billion_laughs.xlsx").write_bytes(minimal({"xl/workbook.xml": BILLION_LAUGHS}))
    (folder / "external_entity.xlsx").write_bytes(minimal({"xl/workbook.xml": EXTERNAL_ENTITY}))
    many = {f"xl/media/image{i}.png": b"" for i in range(2000)}
    (folder / "many_entries.xlsx").write_bytes(xlsx(many))
    (folder / "legacy.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    return folder


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """Every XML part handed to the parser, in order (the guard must refuse bombs before any)."""
    seen: list[str] = []
    monkeypatch.setattr(safe_xlsx, "_before_parse", seen.append)
    return seen


def test_zip_bomb_of_a_gibibyte_is_refused_from_the_directory(hostile_dir, parsed):
    path = hostile_dir / "zip_bomb.xlsx"
    with zipfile.ZipFile(path) as z:
        assert sum(i.file_size for i in z.infolist()) >= GiB
    assert path.stat().st_size < 8 * 1024 * 1024
    with pytest.raises(UnsafeWorkbook) as err:
        read_book(path)
    assert err.value.kind == "zip_bomb"
    assert parsed == []  # refused before any XML was parsed
    sub = review_file(path)
    assert not sub.ok and sub.refused == "zip_bomb"
    assert "zip bomb" in sub.problems[0] and "GiB" in sub.problems[0]
    assert parsed == []


def test_ratio_and_entry_count_are_checked(hostile_dir, parsed):
    # a small bomb: under the size limits, above the ratio
    data = xlsx({"xl/workbook.xml": b" " * (4 * 1024 * 1024)})
    with pytest.raises(UnsafeWorkbook, match="compression ratio") as err:
        read_book(data)
    assert err.value.kind == "zip_bomb"
    with pytest.raises(UnsafeWorkbook, match="entries") as err:
        read_book(hostile_dir / "many_entries.xlsx")
    with pytest.raises(UnsafeWorkbook, match="in all"):
        read_book(minimal(), Limits(max_total_bytes=100))
    with pytest.raises(UnsafeWorkbook, match="above the"):
        read_book(minimal(), Limits(max_file_bytes=100))
    assert parsed == []


def test_a_directory_that_lies_about_sizes_cannot_make_the_reader_inflate_more():
    data = bytearray(minimal({"xl/worksheets/sheet1.xml": b"<a>" + b"x" * 100_000 + b"</a>"}))
    # shrink the declared uncompressed size of the sheet in its local header and the central directory
    name = b"xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(name.decode())
        real = info.file_size
    import struct

    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                assert struct.unpack_from("<I", data, at + offset)[0] == real
                struct.pack_into("<I", data, at + offset, 1000)
            at += 4
    with pytest.raises(UnsafeWorkbook) as err:
        read_book(bytes(data))
    assert err.value.kind in ("damaged", "zip_bomb")


@pytest.mark.parametrize("name", ["billion_laughs.xlsx", "external_entity.xlsx"])
def test_xml_bombs_are_refused_before_parsing(hostile_dir, parsed, name):
    with pytest.raises(UnsafeWorkbook) as err:
        read_book(hostile_dir / name)
    assert err.value.kind == "xml_bomb"
    assert "xl/workbook.xml" not in parsed
    sub = review_file(hostile_dir / name)
    assert not sub.ok and sub.refused == "xml_bomb"
    assert "xl/workbook.xml" in sub.problems[0] and "DTD" in sub.problems[0]


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "iso-8859-1"])
def test_the_parser_is_the_second_line(monkeypatch, payload, encoding):
    """Without the scan (say an encoding it cannot read), the parser still refuses the DTD: the C guard
    before the C tree builder for UTF-8, defusedxml's parser for any other encoding."""
    monkeypatch.setattr(safe_xlsx, "_DTD_MARKERS", ())
    text = payload.decode("utf-8")
    if encoding != "utf-8":
        text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    with pytest.raises(UnsafeWorkbook, match="refused by the DTD guard") as err:
        safe_xlsx.parse_xml(text.encode(encoding), "xl/workbook.xml")
    assert err.value.kind == "xml_bomb"


def test_a_utf8_part_and_the_same_in_utf16_parse_alike():
    """The C fast path (UTF-8) and defusedxml's (another encoding) give the same tree and count the same elements."""
    text = SHEET.decode("utf-8")
    trees, used = [], []
    for data in (SHEET, text.replace("UTF-8", "UTF-16").encode("utf-16")):
        budget = safe_xlsx.Budget(1000)
        trees.append(safe_xlsx.parse_xml(data, "xl/worksheets/sheet1.xml", budget))
        used.append(budget.used)
    assert used == [5, 5]  # worksheet, sheetData, row, c, v
    assert [(e.tag, e.text, e.attrib) for e in trees[0].iter()] == [(e.tag, e.text, e.attrib) for e in trees[1].iter()]


@pytest.mark.parametrize(
    "name, kind, words",
    [
        ("junk.xlsx", "not_xlsx", "not a zip"),
        ("empty.xlsx", "not_xlsx", "empty file"),
        ("truncated.xlsx", "damaged", "truncated or damaged"),
        ("legacy.xls", "not_xlsx", "old .xls"),
        ("many_entries.xlsx", "zip_bomb", "entries"),
    ],
)
def test_unreadable_files_are_problems(hostile_dir, name, kind, words):
    sub = review_file(hostile_dir / name)
    assert not sub.ok and sub.refused == kind
    assert words in sub.problems[0]
    assert sub.report()["problems"] == sub.problems


def test_the_batch_goes_on_and_memory_stays_small(hostile_dir, tmp_path):
    """All hostile files in one run, in a fresh process: each a problem, peak RSS a few hundred MB at most."""
    script = (
        "import json, resource, sys\n"
        "from pathlib import Path\n"
        "from addin.review import find_files, review_paths\n"
        "subs = review_paths(find_files([sys.argv[1]]), workers=1)\n"
        "try:  # this process's own peak (ru_maxrss would include the parent's at fork: pytest's)\n"
        "    peak = next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "except OSError:\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps({'peak': peak, 'subs': [s.report() for s in subs]}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(hostile_dir)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    subs = {Path(s["file"]).name: s for s in out["subs"]}
    assert set(subs) == {p.name for p in hostile_dir.iterdir()}
    for name, s in subs.items():
        assert not s["ok"] and s["problems"], name
    assert out["peak"] < 300 * 1024 * 1024, f"peak RSS {out['peak'] / 2**20:.0f} MiB"


def test_one_pass_reads_formulas_values_shared_strings_and_shared_formulas():
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f>A2*2</f><v>4</v></c><c t="b"><v>1</v></c></row>'
        b'<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" ref="B2:B3" si="0">A2+1</f><v>3</v></c></row>'
        b'<row r="3"><c r="B3"><f t="shared" si="0"/><v>1</v></c><c r="C3" t="e"><v>#DIV/0!</v></c>'
        b'<c r="D3" t="str"><f>"x"&amp;"y"</f><v>xy</v></c><c r="E3"><f>1+1</f></c></row>'
        b'</sheetData><dataValidations count="1"><dataValidation type="list" sqref="A1 B1:B2">'
        b'<formula1>"a,b"</formula1></dataValidation></dataValidations></worksheet>'
    )
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><r><t>he</t></r><r><t>llo</t></r>'
        b"<rPh><t>x</t></rPh></si></sst>"
    )
    rels = WB_RELS.replace(
        b"</Relationships>",
        b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    book = read_book(
        minimal(
            {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": strings, "xl/_rels/workbook.xml.rels": rels}
        )
    )
    cells = book.sheets[0].cells
    assert cells["A1"].value == "hello"
    assert (cells["B1"].formula, cells["B1"].value) == ("A2*2", 4.0)
    assert cells["C1"].value is True  # a cell without r: the next column
    assert cells["B3"].formula == "A3+1"  # the shared formula, moved
    assert cells["C3"].value == "#DIV/0!"
    assert (cells["D3"].formula, cells["D3"].value) == ('"x"&"y"', "xy")
    assert (cells["E3"].formula, cells["E3"].value) == ("1+1", None)  # never calculated
    assert book.sheets[0].validations[0]["sqref"] == "A1 B1:B2"


@pytest.mark.parametrize(
    "generated, resaved",
    [
        (
            'IFERROR(VLOOKUP(C6&"",\'lists\'!$A$2:$B$5,2,FALSE),"")',
            'iferror(vlookup(C6 & "", lists!A2:B5, 2, FALSE()), "")',
        ),
        ("ROUND(((800*in_capacity_kw)*0.5),2)", "_xlfn.ROUND( ( (800.0 * IN_CAPACITY_KW) * 5E-1 ) , 2 )"),
        ("'封面 Cover'!$C$7", "'封面 cover'!C7"),
        ('IF(C13="是",C16,0)', 'of:=IF([.C13] = "是"; [.C16]; 0)'),
        ("IF(ISBLANK(in_x),0.000001,in_x)", "IF(ISBLANK(IN_X),1E-06,IN_X)"),
    ],
)
def test_normalise_forgives_what_programs_rewrite(generated, resaved):
    assert normalise(generated) == normalise(resaved)


@pytest.mark.parametrize(
    "generated, edited",
    [
        ('IF(C13="是",C16,0)', 'IF(C13="否",C16,0)'),  # text in a string is kept exactly
        ('IF(C13="是",C16,0)', 'IF(C13="是",C16*2,0)'),
        ('IF(C13="是",C16,0)', 'IF(C13="是",C17,0)'),
        ("ROUND(x*0.3,2)", "ROUND(x*0.31,2)"),
        ("MIN(in_a,2000000)", "MAX(in_a,2000000)"),
        ("C13", "C1 3"),  # a space between two words is an operator
    ],
)
def test_normalise_keeps_edits_visible(generated, edited):
    assert normalise(generated) != normalise(edited)


def test_expand_sqref():
    assert expand_sqref("C6 $D$11:D12", 100) == ["C6", "D11", "D12"]
    assert expand_sqref("A1:XFD1048576", 1000) is None
