"""Reading an untrusted xlsx defensively, formulas and cached values in one pass.

A submission may be hostile. Before any XML parser sees a byte of it:

1. the file's size is checked against ``Limits.max_file_bytes`` (it is not even read when larger);
2. it must be a zip (an old ``.xls`` or an encrypted workbook is named as such);
3. the zip's central directory is checked: entry count, each entry's and the total uncompressed
   size, and each entry's and the whole archive's compression ratio (a zip bomb is refused here,
   from the sizes the directory declares, without inflating anything);
4. each part that is read is inflated in bounded chunks, never beyond the size its entry declares
   (a directory that lies about sizes cannot make it read more; the CRC check then names the file
   damaged);
5. each XML part is scanned for a document type declaration (``<!DOCTYPE``/``<!ENTITY``, which no
   xlsx part has) and refused with a clear problem, so an XML bomb (billion laughs) or an external
   entity is rejected before parsing; the parse itself is ``defusedxml``'s, which forbids DTDs,
   entities and external references as a second line (for encodings the scan cannot read).

Only the parts a reviewer needs are read: the workbook (sheets, defined names), its relationships,
the shared strings and each worksheet, whose XML is parsed ONCE for formulas, cached values and
data validations together (``openpyxl`` would need two loads, one for formulas and one for values).
Styles, themes and drawings are never parsed.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _defused_fromstring
from openpyxl.utils import column_index_from_string, get_column_letter

MiB = 1024 * 1024

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT = REL_NS + "/officeDocument"
_M = "{%s}" % MAIN_NS
_R = "{%s}" % REL_NS
_P = "{%s}" % PKG_REL_NS


@dataclass(frozen=True)
class Limits:
    """What a submission may be before anything inside it is parsed (a declaration is ~20 KB)."""

    max_file_bytes: int = 20 * MiB
    max_entries: int = 1000
    max_entry_bytes: int = 64 * MiB  # uncompressed, any one entry
    max_total_bytes: int = 256 * MiB  # uncompressed, all entries together
    max_ratio: float = 100.0  # uncompressed / compressed, per entry and for the whole archive
    ratio_floor: int = 1 * MiB  # entries (and archives) smaller than this uncompressed are not ratio-checked
    max_cells: int = 200_000  # cells per sheet
    max_validation_cells: int = 100_000  # cells a sheet's data validations may cover when expanded


DEFAULT_LIMITS = Limits()


class UnsafeWorkbook(Exception):
    """The file cannot or must not be read; ``kind`` says which: not_xlsx, damaged, too_large, zip_bomb, xml_bomb, xml."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


#: Test hook and audit trail: called with the part's name before each XML parse.
_before_parse = None


# --- the zip ----------------------------------------------------------------------------------------


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


class SafeZip:
    """A zip whose directory has passed the guard; parts are read bounded, XML parsed defused."""

    def __init__(self, source: str | os.PathLike | bytes, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        if isinstance(source, (bytes, bytearray)):
            size = len(source)
            if size > limits.max_file_bytes:
                raise UnsafeWorkbook("too_large", f"file is {_size(size)}, above the {_size(limits.max_file_bytes)} limit")
            data = bytes(source)
        else:
            path = Path(source)
            size = path.stat().st_size
            if size > limits.max_file_bytes:
                raise UnsafeWorkbook("too_large", f"file is {_size(size)}, above the {_size(limits.max_file_bytes)} limit; not read")
            with open(path, "rb") as handle:
                data = handle.read(limits.max_file_bytes + 1)
        self.file_bytes = len(data)
        head = data[:8]
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise UnsafeWorkbook("not_xlsx", "not an xlsx: an old .xls or an encrypted (password-protected) workbook")
        if not head.startswith(b"PK"):
            kind = "empty file" if not data else "not a zip archive"
            raise UnsafeWorkbook("not_xlsx", f"not an xlsx ({kind})")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise UnsafeWorkbook("damaged", f"not a readable xlsx: the zip is truncated or damaged ({exc})") from None
        self._check_directory()
        self.names = {info.filename: info for info in self.zip.infolist()}

    def _check_directory(self) -> None:
        lim = self.limits
        infos = self.zip.infolist()
        if len(infos) > lim.max_entries:
            raise UnsafeWorkbook("zip_bomb", f"zip has {len(infos):,} entries, above the {lim.max_entries:,} limit")
        total = packed = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise UnsafeWorkbook("not_xlsx", f"zip entry {info.filename} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UnsafeWorkbook("not_xlsx", f"zip entry {info.filename} uses compression method {info.compress_type}, not one xlsx uses")
            if info.file_size > lim.max_entry_bytes:
                raise UnsafeWorkbook(
                    "zip_bomb", f"zip entry {info.filename} inflates to {_size(info.file_size)}, above the {_size(lim.max_entry_bytes)} limit")
            if info.file_size > lim.ratio_floor:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > lim.max_ratio:
                    raise UnsafeWorkbook(
                        "zip_bomb", f"zip entry {info.filename} has compression ratio {ratio:,.0f}:1, above the {lim.max_ratio:,.0f}:1 limit")
            total += info.file_size
            packed += info.compress_size
            if total > lim.max_total_bytes:
                raise UnsafeWorkbook("zip_bomb", f"zip inflates to more than {_size(lim.max_total_bytes)} in all (limit)")
        if total > lim.ratio_floor and total / max(packed, 1) > lim.max_ratio:
            raise UnsafeWorkbook("zip_bomb", f"zip has overall compression ratio {total / max(packed, 1):,.0f}:1, above the {lim.max_ratio:,.0f}:1 limit")

    def has(self, name: str) -> bool:
        return name in self.names

    def read(self, name: str) -> bytes:
        """The entry's bytes, inflated in chunks and never beyond its declared size (nor the limits)."""
        info = self.names.get(name)
        if info is None:
            raise UnsafeWorkbook("not_xlsx", f"not an xlsx: the part {name} is missing")
        limit = min(info.file_size, self.limits.max_entry_bytes)
        chunks, got = [], 0
        try:
            with self.zip.open(info) as stream:
                while True:
                    chunk = stream.read(min(256 * 1024, limit + 1 - got))
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > limit:
                        raise UnsafeWorkbook("zip_bomb", f"zip entry {name} inflates beyond its declared {_size(limit)}")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise UnsafeWorkbook("damaged", f"zip entry {name} is damaged ({exc})") from None
        return b"".join(chunks)

    def xml(self, name: str) -> Element:
        return parse_xml(self.read(name), name)


_DTD_MARKERS = tuple(
    marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le", "utf-16-be")
)


def parse_xml(data: bytes, name: str = "XML") -> Element:
    """Parse one part: refused if it declares a DTD (scan first, then defusedxml's own guard)."""
    for marker in _DTD_MARKERS:
        if marker in data:
            raise UnsafeWorkbook(
                "xml_bomb", f"{name} declares a DTD or entities (<!DOCTYPE/<!ENTITY>), which no xlsx part has: "
                            "refused unparsed (XML bomb or external entity)")
    if _before_parse is not None:
        _before_parse(name)
    try:
        return _defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeWorkbook("xml_bomb", f"{name}: refused by defusedxml ({type(exc).__name__}: {exc})") from None
    except (ParseError, ValueError, UnicodeDecodeError) as exc:
        raise UnsafeWorkbook("xml", f"{name} is not well-formed XML ({exc})") from None


# --- the workbook -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Cell:
    """One cell as stored: its formula (without '='), and its value (the cached result of a formula).

    ``value`` is a float for a number, str for text, bool for a boolean, ``CellError`` for an error
    and None when absent (an empty cell, or a formula never calculated).
    """

    formula: str | None = None
    value: object = None


class CellError(str):
    """An error value (#VALUE!, #DIV/0!, ...) read from a cell."""


@dataclass
class Sheet:
    name: str
    state: str
    path: str
    cells: dict[str, Cell] = field(default_factory=dict)
    validations: list[dict] = field(default_factory=list)  # type, operator, formula1, formula2, sqref
    protected: bool = False


@dataclass
class Book:
    sheets: list[Sheet]
    names: dict[tuple[str, int | None], str]  # (name, local sheet index or None) -> reference text
    parts: list[str]

    def sheet(self, name: str) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        return None


_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})")



def _part(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels(z: SafeZip, part: str) -> dict[str, str]:
    rels_name = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if not z.has(rels_name):
        return {}
    out = {}
    for rel in z.xml(rels_name).iter(_P + "Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        out[rel.get("Id", "")] = _part(part, rel.get("Target", ""))
    return out


def _text_of(si: Element) -> str:
    """A shared or inline string: its <t>, or its rich-text runs' <t>s (phonetic runs left out)."""
    t = si.find(_M + "t")
    if t is not None:
        return t.text or ""
    return "".join((r.findtext(_M + "t") or "") for r in si.findall(_M + "r"))


def read_book(source: str | os.PathLike | bytes, limits: Limits = DEFAULT_LIMITS) -> Book:
    """The workbook's sheets (cells with formulas and cached values, validations) and defined names."""
    z = SafeZip(source, limits)
    if z.has("_rels/.rels"):
        root_rels = [r for r in z.xml("_rels/.rels").iter(_P + "Relationship") if r.get("Type") == OFFICE_DOCUMENT]
        workbook_part = _part("", root_rels[0].get("Target", "")) if root_rels else "xl/workbook.xml"
    else:
        workbook_part = "xl/workbook.xml"
    if not z.has(workbook_part):
        raise UnsafeWorkbook("not_xlsx", "not an xlsx: the zip has no workbook part (xl/workbook.xml)")
    wb = z.xml(workbook_part)
    rels = _rels(z, workbook_part)
    sheet_refs = []
    for s in wb.iter(_M + "sheet"):
        sheet_refs.append((s.get("name", ""), s.get("state", "visible"), rels.get(s.get(_R + "id", ""), "")))
    names: dict[tuple[str, int | None], str] = {}
    for dn in wb.iter(_M + "definedName"):
        local = dn.get("localSheetId")
        names[(dn.get("name", ""), int(local) if local is not None and local.isdigit() else None)] = dn.text or ""
    shared: list[str] = []
    strings_part = next((p for p in rels.values() if p.endswith("sharedStrings.xml")), None)
    if strings_part and z.has(strings_part):
        shared = [_text_of(si) for si in z.xml(strings_part).iter(_M + "si")]
    sheets = []
    for name, state, part in sheet_refs:
        sheet = Sheet(name, state, part)
        if part and z.has(part):
            _read_sheet(z.xml(part), sheet, shared, limits)
        sheets.append(sheet)
    return Book(sheets, names, list(z.names))


def _read_sheet(root: Element, sheet: Sheet, shared: list[str], limits: Limits) -> None:
    """One pass over the sheet's XML: every cell's formula and value, the validations, protection."""
    cells = sheet.cells
    masters: dict[str, tuple[str, str]] = {}  # shared formula index -> (formula, ref of the master)
    pending: list[tuple[str, str]] = []  # (ref, shared index) of cells that reuse a shared formula
    count = 0
    for row in root.iter(_M + "row"):
        row_number = row.get("r")
        column = 0
        for c in row:
            if c.tag != _M + "c":
                continue
            count += 1
            if count > limits.max_cells:
                raise UnsafeWorkbook("too_large", f"sheet {sheet.name} has more than {limits.max_cells:,} cells (limit)")
            ref = c.get("r")
            if ref:
                m = _REF.fullmatch(ref)
                column = column_index_from_string(m[1]) if m else column + 1
            else:  # a writer may leave out r: the next column of the row
                column += 1
                ref = f"{get_column_letter(column)}{row_number}"
            t = c.get("t", "n")
            f = c.find(_M + "f")
            formula = None
            if f is not None:
                formula = f.text or ""
                if f.get("t") == "shared":
                    si = f.get("si", "")
                    if formula:
                        masters[si] = (formula, ref)
                    else:
                        pending.append((ref, si))
            v = c.find(_M + "v")
            raw = v.text if v is not None else None
            if t == "inlineStr":
                is_ = c.find(_M + "is")
                value = _text_of(is_) if is_ is not None else None
            elif raw is None or (raw == "" and t != "str"):
                value = None
            elif t == "s":
                try:
                    value = shared[int(raw)]
                except (ValueError, IndexError):
                    value = CellError("#BADSTRING!")
            elif t == "str":
                value = raw
            elif t == "b":
                value = raw.strip() in ("1", "true")
            elif t == "e":
                value = CellError(raw)
            elif t == "d":
                value = raw
            else:
                try:
                    value = float(raw)
                except ValueError:
                    value = CellError(f"#BADNUMBER! {raw[:20]}")
            cells[ref] = Cell(formula, value)
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            master = masters.get(si)
            if master is None:
                continue
            try:
                cells[ref].formula = Translator("=" + master[0], origin=master[1]).translate_formula(ref)[1:]
            except Exception:  # noqa: BLE001 - an untranslatable formula is kept visibly broken
                cells[ref].formula = "#SHARED?" + master[0]
    for dv in root.iter(_M + "dataValidation"):
        sheet.validations.append({
            "type": dv.get("type", "none"),
            "operator": dv.get("operator"),
            "formula1": dv.findtext(_M + "formula1"),
            "formula2": dv.findtext(_M + "formula2"),
            "sqref": dv.get("sqref", ""),
        })
    # Excel 2010 extension lists keep validations that refer to other sheets under x14
    for dv in root.iter("{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}dataValidation"):
        xm = "{http://schemas.microsoft.com/office/excel/2006/main}"
        f1 = dv.find("{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}formula1")
        f2 = dv.find("{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}formula2")
        sheet.validations.append({
            "type": dv.get("type", "none"),
            "operator": dv.get("operator"),
            "formula1": f1.findtext(xm + "f") if f1 is not None else None,
            "formula2": f2.findtext(xm + "f") if f2 is not None else None,
            "sqref": dv.findtext(xm + "sqref") or "",
        })
    protection = root.find(_M + "sheetProtection")
    sheet.protected = protection is not None and protection.get("sheet") in ("1", "true")
