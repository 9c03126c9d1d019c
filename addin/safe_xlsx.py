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
   entity is rejected before parsing; as a second line the parser forbids DTDs, entities and external
   references (``defusedxml``'s refusals: for a UTF-8 part, every part a spreadsheet program writes, by
   expat's C parser before ElementTree's C tree builder runs; for another encoding, which the scan may
   not read, by ``defusedxml``'s own parser);
6. the work is bounded: an XML part above ``Limits.max_xml_bytes`` is not parsed, and the elements
   of all parsed parts are counted WHILE parsing (a tree builder that stops at
   ``Limits.max_elements``, wherever the elements are); cells, data validations and the length of
   every formula are capped too.

Besides the workbook's content, ``read_book`` lists the package's hazards (``Book.hazards``): parts of
a dangerous kind (macros, external links, ActiveX, embedded objects, custom UI, data connections,
query tables, add-ins), any part or relationship a spreadsheet program does not add when it saves a
declaration, relationships to targets outside the file, and entry names that are absolute, climb
out of the archive (zip-slip) or appear twice. It never executes or follows any of them.

Only the parts a reviewer needs are read: the workbook (sheets, defined names), its relationships,
the shared strings and each worksheet, whose XML is parsed ONCE for formulas, cached values and
data validations together (``openpyxl`` would need two loads, one for formulas and one for values).
Styles, themes and drawings are never parsed.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder, XMLParser
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from defusedxml.ElementTree import fromstring as _defused_fromstring

MiB = 1024 * 1024

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT = REL_NS + "/officeDocument"
_M = f"{{{MAIN_NS}}}"
_R = f"{{{REL_NS}}}"
_P = f"{{{PKG_REL_NS}}}"


@dataclass(frozen=True)
class Limits:
    """What a submission may be (a declaration is ~20 KB): checked before anything is parsed, then while parsing."""

    max_file_bytes: int = 20 * MiB
    max_entries: int = 1000
    max_entry_bytes: int = 64 * MiB  # uncompressed, any one entry
    max_total_bytes: int = 256 * MiB  # uncompressed, all entries together
    max_ratio: float = 100.0  # uncompressed / compressed, per entry and for the whole archive
    ratio_floor: int = 1 * MiB  # entries (and archives) smaller than this uncompressed are not ratio-checked
    max_xml_bytes: int = 4 * MiB  # uncompressed, any XML part that is parsed (a declaration's largest is ~40 KB)
    max_elements: int = (
        100_000  # XML elements of all the parsed parts together, counted while parsing (a declaration: ~3,000)
    )
    max_cells: int = 20_000  # cells of all sheets together (a declaration has ~300)
    max_validations: int = 1_000  # data validations and conditional formats of all sheets (a declaration: ~10)
    max_validation_cells: int = 100_000  # cells the data validations of one sheet cover together, expanded
    max_formula_chars: int = 8_192  # Excel's own limit, for a cell's, a name's, a validation's formula
    max_formula_total: int = (
        50_000  # characters of all formulas together (a declaration: ~2,000): bounds their comparison
    )
    max_text_chars: int = 500  # an input field's text, checked by the review (a long name is ~60)


DEFAULT_LIMITS = Limits()


class UnsafeWorkbook(Exception):
    """The file cannot or must not be read; ``kind`` says which: not_xlsx, damaged, too_large, zip_bomb, xml_bomb, xml,
    not_regular (a FIFO, a device)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.sha256: str | None = None  # of the file's bytes, when they were read before the refusal


#: Test hook and audit trail: called with the part's name before each XML parse.
_before_parse = None


# --- the zip ----------------------------------------------------------------------------------------


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The file's bytes; refused unread when larger than ``limit`` or not a regular file.

    Opened non-blocking and checked with ``fstat`` on the open handle, so a FIFO or a device named
    ``x.xlsx`` (or one swapped in after a check) cannot make the reader wait or read forever.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeWorkbook("not_regular", "not a regular file (a folder, pipe, socket or device); not read")
        if info.st_size > limit:
            raise UnsafeWorkbook(
                "too_large", f"file is {_size(info.st_size)}, above the {_size(limit)} limit; not read"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    finally:
        os.close(fd)


class Budget:
    """What is left of ``Limits.max_elements`` for one file: all its parsed parts draw on it."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0


class _CountingBuilder(TreeBuilder):
    """``ElementTree``'s C tree builder (compact elements), stopping the parse at the element budget."""

    def __init__(self, budget: Budget, name: str):
        super().__init__()
        self._budget = budget
        self._name = name

    def start(self, tag, attrs):  # noqa: ANN001 - TreeBuilder's signature
        budget = self._budget
        budget.used += 1
        if budget.used > budget.limit:
            raise UnsafeWorkbook(
                "too_large",
                f"more than {budget.limit:,} XML elements (limit; reached in {_quote(self._name)}): "
                "stopped while parsing",
            )
        return super().start(tag, attrs)


def _quote(text: str, limit: int = 120) -> str:
    """Text from the file, quoted for a message and cut to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


class SafeZip:
    """A zip whose directory has passed the guard; parts are read bounded, XML parsed defused."""

    def __init__(self, source: str | os.PathLike | bytes, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        if isinstance(source, (bytes, bytearray)):
            size = len(source)
            if size > limits.max_file_bytes:
                raise UnsafeWorkbook(
                    "too_large", f"file is {_size(size)}, above the {_size(limits.max_file_bytes)} limit"
                )
            data = bytes(source)
        else:
            data = _read_regular_file(Path(source), limits.max_file_bytes)
        self.file_bytes = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()  # hashed once, here, as read (the review reports it)
        try:
            self._open(data)
        except UnsafeWorkbook as exc:
            exc.sha256 = self.sha256
            raise

    def _open(self, data: bytes) -> None:
        limits = self.limits
        self.budget = Budget(limits.max_elements)
        self._parsed: dict[str, Element] = {}
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
                raise UnsafeWorkbook("not_xlsx", f"zip entry {_quote(info.filename)} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UnsafeWorkbook(
                    "not_xlsx",
                    f"zip entry {_quote(info.filename)} uses compression method {info.compress_type}, not one xlsx uses",
                )
            if info.file_size > lim.max_entry_bytes:
                raise UnsafeWorkbook(
                    "zip_bomb",
                    f"zip entry {_quote(info.filename)} inflates to {_size(info.file_size)}, above the {_size(lim.max_entry_bytes)} limit",
                )
            if info.file_size > lim.ratio_floor:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > lim.max_ratio:
                    raise UnsafeWorkbook(
                        "zip_bomb",
                        f"zip entry {_quote(info.filename)} has compression ratio {ratio:,.0f}:1, above the {lim.max_ratio:,.0f}:1 limit",
                    )
            total += info.file_size
            packed += info.compress_size
            if total > lim.max_total_bytes:
                raise UnsafeWorkbook(
                    "zip_bomb", f"zip inflates to more than {_size(lim.max_total_bytes)} in all (limit)"
                )
        if total > lim.ratio_floor and total / max(packed, 1) > lim.max_ratio:
            raise UnsafeWorkbook(
                "zip_bomb",
                f"zip has overall compression ratio {total / max(packed, 1):,.0f}:1, above the {lim.max_ratio:,.0f}:1 limit",
            )

    def has(self, name: str) -> bool:
        return name in self.names

    def read(self, name: str) -> bytes:
        """The entry's bytes, inflated in chunks and never beyond its declared size (nor the limits)."""
        info = self.names.get(name)
        if info is None:
            raise UnsafeWorkbook("not_xlsx", f"not an xlsx: the part {_quote(name)} is missing")
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
                        raise UnsafeWorkbook(
                            "zip_bomb", f"zip entry {_quote(name)} inflates beyond its declared {_size(limit)}"
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise UnsafeWorkbook("damaged", f"zip entry {_quote(name)} is damaged ({exc})") from None
        return b"".join(chunks)

    def xml(self, name: str) -> Element:
        """The part parsed (once): refused above ``Limits.max_xml_bytes``; its elements drawn from the file's budget."""
        if name in self._parsed:
            return self._parsed[name]
        info = self.names.get(name)
        if info is not None and info.file_size > self.limits.max_xml_bytes:
            raise UnsafeWorkbook(
                "too_large",
                f"the XML part {_quote(name)} inflates to {_size(info.file_size)}, above the "
                f"{_size(self.limits.max_xml_bytes)} limit for a part that is parsed; not parsed",
            )
        self._parsed[name] = parse_xml(self.read(name), name, self.budget)
        return self._parsed[name]


_DTD_MARKERS = tuple(
    marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le", "utf-16-be")
)
#: The encoding an XML declaration names, when it names one.
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']")


def _is_utf8(data: bytes) -> bool:
    """Whether the part is UTF-8, as every spreadsheet program writes it: then the DTD scan reads all of it
    (a DTD cannot hide in an encoding the scan does not know) and the C parser's fast path is taken."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith(b"<") or data[1:2] == b"\x00":  # UTF-16 / UTF-32 without a byte-order mark
        return False
    if not data.startswith(b"<?xml"):
        return True
    declared = _DECLARED_ENCODING.match(data)
    return declared is None or declared[1].lower() in (b"utf-8", b"utf8")


def _forbid(what: str) -> Callable[..., Any]:
    def refuse(*_args: object) -> None:
        raise DefusedXmlException(f"{what} forbidden")

    return refuse


def _guard(data: bytes) -> None:
    """The second line behind the scan: expat (C, no tree) with defusedxml's refusals — a document type
    declaration, an entity declaration or an external reference stops it at once."""
    guard = expat.ParserCreate()
    guard.StartDoctypeDeclHandler = _forbid("DTD")
    guard.EntityDeclHandler = _forbid("entity declaration")
    guard.UnparsedEntityDeclHandler = _forbid("unparsed entity declaration")
    guard.ExternalEntityRefHandler = _forbid("external reference")
    guard.Parse(data, True)


def _element_bound(data: bytes) -> int:
    """At least the number of elements of a UTF-8 part without a DTD: every element opens with ``<`` that
    does not close one (comments, CDATA and instructions only add to it)."""
    return data.count(b"<") - data.count(b"</")


def parse_xml(data: bytes, name: str = "XML", budget: Budget | None = None) -> Element:
    """Parse one part: refused if it declares a DTD (scan first, then a second line in the parser); with a
    ``budget``, no more elements than it has left.

    A UTF-8 part (every part a spreadsheet program writes) is checked by the guard (``_guard``) and built
    by ElementTree's C parser and tree builder; its elements are counted after the parse when the part
    cannot exceed the budget (``_element_bound``), else WHILE parsing, stopping at the budget. Any other
    encoding is parsed by ``defusedxml`` (Python-level; its refusals are the second line there)."""
    for marker in _DTD_MARKERS:
        if marker in data:
            raise UnsafeWorkbook(
                "xml_bomb",
                f"{_quote(name)} declares a DTD or entities (<!DOCTYPE/<!ENTITY>), which no xlsx part has: "
                "refused unparsed (XML bomb or external entity)",
            )
    if _before_parse is not None:
        _before_parse(name)
    try:
        if _is_utf8(data):
            _guard(data)
            bounded = budget is None or _element_bound(data) <= budget.limit - budget.used
            parser = XMLParser(target=TreeBuilder() if budget is None or bounded else _CountingBuilder(budget, name))
            parser.feed(data)
            root = parser.close()
            if budget is not None and bounded:
                budget.used += len(list(root.iter()))
            return root
        if budget is None:
            return _defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        defused = DefusedXMLParser(
            target=_CountingBuilder(budget, name), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        defused.feed(data)
        return defused.close()
    except DefusedXmlException as exc:
        raise UnsafeWorkbook(
            "xml_bomb", f"{_quote(name)}: refused by the DTD guard ({type(exc).__name__}: {exc})"
        ) from None
    except (ParseError, expat.ExpatError, ValueError, UnicodeDecodeError) as exc:
        raise UnsafeWorkbook("xml", f"{_quote(name)} is not well-formed XML ({str(exc)[:200]})") from None


# --- the package: what kinds of parts it holds -----------------------------------------------------

_OD = "application/vnd.openxmlformats-officedocument."
_R06 = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_MS06 = "http://schemas.microsoft.com/office/2006/relationships/"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships/"
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"

#: What each dangerous kind is called in a problem: code -> (中文, English).
DANGEROUS = {
    "macro": ("宏代码", "macros (a VBA project or Excel 4.0 macro sheets)"),
    "external_link": ("外部链接", "links to other workbooks (external links)"),
    "external_target": ("外部目标", "a reference to something outside the file (a URL, a network or local path)"),
    "activex": ("控件", "ActiveX or form controls"),
    "embedded_object": ("嵌入对象", "embedded or OLE objects"),
    "custom_ui": ("自定义功能区", "a custom ribbon UI (customUI)"),
    "data_connection": ("数据连接", "data connections"),
    "query_table": ("查询表", "query tables"),
    "web_extension": ("加载项", "Office add-ins (web extensions)"),
}

#: Content types a spreadsheet program writes when it saves a declaration (its own properties, shared
#: strings, calculation chain, printer settings, comments...). Anything else is a hazard.
HARMLESS_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-package.relationships+xml",
        "application/vnd.openxmlformats-package.core-properties+xml",
        "application/xml",  # customXml items (a document library's properties); nothing runs them
        _OD + "spreadsheetml.sheet.main+xml",
        _OD + "spreadsheetml.worksheet+xml",
        _OD + "spreadsheetml.styles+xml",
        _OD + "spreadsheetml.sharedStrings+xml",
        _OD + "spreadsheetml.calcChain+xml",
        _OD + "spreadsheetml.sheetMetadata+xml",
        _OD + "spreadsheetml.printerSettings",
        _OD + "spreadsheetml.comments+xml",
        _OD + "vmlDrawing",  # how comments are drawn
        _OD + "theme+xml",
        _OD + "extended-properties+xml",
        _OD + "custom-properties+xml",
        _OD + "customXmlProperties+xml",
        "application/vnd.ms-excel.threadedcomments+xml",
        "application/vnd.ms-excel.person+xml",
        "application/vnd.ms-office.classificationlabels+xml",  # sensitivity labels
    }
)
THUMBNAIL_TYPES = frozenset({"image/jpeg", "image/png"})  # docProps/thumbnail.* only

DANGEROUS_TYPES = {
    "application/vnd.ms-office.vbaProject": "macro",
    "application/vnd.ms-office.vbaProjectSignature": "macro",
    "application/vnd.ms-office.vbaProjectSignatureAgile": "macro",
    "application/vnd.ms-office.vbaProjectSignatureV3": "macro",
    "application/vnd.ms-excel.vbaData+xml": "macro",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "macro",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "macro",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml": "macro",
    "application/vnd.ms-excel.macrosheet+xml": "macro",
    "application/vnd.ms-excel.intlmacrosheet+xml": "macro",
    _OD + "spreadsheetml.dialogsheet+xml": "macro",
    "application/vnd.ms-excel.attachedToolbars": "macro",
    _OD + "spreadsheetml.externalLink+xml": "external_link",
    "application/vnd.ms-office.activeX+xml": "activex",
    "application/vnd.ms-office.activeX": "activex",
    "application/vnd.ms-excel.controlproperties+xml": "activex",
    _OD + "oleObject": "embedded_object",
    _OD + "spreadsheetml.connections+xml": "data_connection",
    _OD + "spreadsheetml.queryTable+xml": "query_table",
    "application/vnd.ms-office.webextension+xml": "web_extension",
    "application/vnd.ms-office.webextensiontaskpanes+xml": "web_extension",
}

HARMLESS_RELS = frozenset(
    {
        *(
            _R06 + t
            for t in (
                "officeDocument",
                "worksheet",
                "styles",
                "sharedStrings",
                "theme",
                "calcChain",
                "sheetMetadata",
                "printerSettings",
                "extended-properties",
                "custom-properties",
                "comments",
                "vmlDrawing",
                "customXml",
                "customXmlProps",
            )
        ),
        _PKG + "metadata/core-properties",
        _PKG + "metadata/thumbnail",
        "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
        "http://schemas.microsoft.com/office/2017/10/relationships/person",
        "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels",
    }
)

DANGEROUS_RELS = {
    _MS06 + "vbaProject": "macro",
    _MS06 + "vbaProjectSignature": "macro",
    _MS06 + "xlMacrosheet": "macro",
    _MS06 + "xlIntlMacrosheet": "macro",
    _MS06 + "attachedToolbars": "macro",
    _R06 + "dialogsheet": "macro",
    _R06 + "externalLink": "external_link",
    _R06 + "externalLinkPath": "external_link",
    _R06 + "control": "activex",
    _R06 + "ctrlProp": "activex",
    _MS06 + "activeXControlBinary": "activex",
    _R06 + "oleObject": "embedded_object",
    _R06 + "package": "embedded_object",
    _MS06 + "ui/extensibility": "custom_ui",
    "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility": "custom_ui",
    _R06 + "connections": "data_connection",
    _R06 + "queryTable": "query_table",
    "http://schemas.microsoft.com/office/2011/relationships/webextension": "web_extension",
    "http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes": "web_extension",
}

#: Part names (lower case) of a dangerous kind, whatever content type the package gives them: an
#: orphan vbaProject.bin is a macro-enabled file all the same.
_DANGEROUS_NAMES = (
    (
        re.compile(
            r"(^|/)vba(project|projectsignature[a-z0-9]*|data)\.(bin|xml)$|(^|/)(macrosheets|dialogsheets)/|"
            r"(^|/)attachedtoolbars\.bin$"
        ),
        "macro",
    ),
    (re.compile(r"(^|/)externallinks/"), "external_link"),
    (re.compile(r"(^|/)(activex|ctrlprops)/"), "activex"),
    (re.compile(r"(^|/)embeddings/|oleobject"), "embedded_object"),
    (re.compile(r"(^|/)customui/"), "custom_ui"),
    (re.compile(r"(^|/)connections\.xml$"), "data_connection"),
    (re.compile(r"(^|/)querytables/"), "query_table"),
    (re.compile(r"(^|/)webextensions/"), "web_extension"),
)
_BAD_NAME = re.compile(r"^/|^[A-Za-z]:|\\|(^|/)\.\.?(/|$)|//|[\x00-\x1f]")


def entry_name_problems(z: SafeZip) -> Iterator[tuple[str, str, str | None]]:
    """(code, entry name, the earlier name it repeats) for each entry of the archive whose name is absolute
    or climbs out of it (``zip_slip``), or repeats an earlier one but for case (``duplicate_entry``): a
    declaration's package and an uploaded .zip are checked alike."""
    seen: dict[str, str] = {}
    for info in z.zip.infolist():
        name = info.filename
        if _BAD_NAME.search(name):
            yield "zip_slip", name, None
        key = name.casefold()
        if key in seen:
            yield "duplicate_entry", name, seen[key]
        seen[key] = name


def _danger(code: str, detail: str) -> tuple[str, str]:
    zh, en = DANGEROUS[code]
    return code, f"危险内容 Dangerous content: {en}: {detail} / 含{zh}"


def package_hazards(z: SafeZip) -> list[tuple[str, str]]:
    """(code, message) for each part, relationship or entry name that has no place in a declaration."""
    found: dict[tuple[str, str], None] = {}  # ordered, without repeats

    def add(code: str, message: str) -> None:
        found[(code, message)] = None

    for code, name, earlier in entry_name_problems(z):
        if code == "zip_slip":
            add(
                code,
                f"危险内容 Dangerous content: zip entry name {_quote(name)} is absolute or climbs out of the "
                "archive (zip-slip) / 压缩包路径越界",
            )
        else:
            add(
                code,
                f"危险内容 Dangerous content: zip entry {_quote(name)} appears twice "
                f"({_quote(earlier or '')}): programs may read different copies / 压缩包条目重复",
            )
    if not z.has("[Content_Types].xml"):
        add(
            "unexpected_part",
            "非申报内容 Unexpected content: the package has no [Content_Types].xml / 缺少内容类型清单",
        )
        return list(found)
    types = z.xml("[Content_Types].xml")
    defaults = {d.get("Extension", "").lower(): d.get("ContentType", "") for d in types.iter(CT_NS + "Default")}
    overrides = {
        o.get("PartName", "").lstrip("/").casefold(): o.get("ContentType", "") for o in types.iter(CT_NS + "Override")
    }
    for name in z.names:
        if name.endswith("/") or name == "[Content_Types].xml":
            continue  # a folder entry (re-zipped by hand), the list itself
        lower = name.lower()
        for pattern, code in _DANGEROUS_NAMES:
            if pattern.search(lower):
                add(*_danger(code, f"part {_quote(name)}"))
        base = posixpath.basename(lower)
        ext = base.rsplit(".", 1)[1] if "." in base else ""  # "_rels/.rels" has the extension "rels"
        ctype = overrides.get(name.casefold(), defaults.get(ext))
        if ctype in DANGEROUS_TYPES:
            add(*_danger(DANGEROUS_TYPES[ctype], f"part {_quote(name)} of type {_quote(ctype)}"))
        elif ctype is None:
            add(
                "unexpected_part",
                f"非申报内容 Unexpected content: part {_quote(name)} has no content type / 含申报表以外的内容",
            )
        elif not (ctype in HARMLESS_TYPES or (ctype in THUMBNAIL_TYPES and lower.startswith("docprops/"))):
            add(
                "unexpected_part",
                f"非申报内容 Unexpected content: part {_quote(name)} of type {_quote(ctype)} is not one a "
                "spreadsheet program adds when it saves a declaration / 含申报表以外的内容",
            )
    for name in z.names:
        if not name.endswith(".rels"):
            continue
        for rel in z.xml(name).iter(_P + "Relationship"):
            kind, target = rel.get("Type", ""), rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                code = "external_link" if DANGEROUS_RELS.get(kind) == "external_link" else "external_target"
                add(
                    *_danger(
                        code, f"{_quote(kind.rsplit('/', 1)[-1], 40)} to {_quote(target, 100)} (in {_quote(name)})"
                    )
                )
            elif kind in DANGEROUS_RELS:
                add(
                    *_danger(
                        DANGEROUS_RELS[kind],
                        f"a relationship of type {_quote(kind.rsplit('/', 1)[-1], 40)} to {_quote(target, 100)}",
                    )
                )
            elif kind not in HARMLESS_RELS:
                add(
                    "unexpected_part",
                    f"非申报内容 Unexpected content: a relationship of type {_quote(kind, 100)} (in {_quote(name)}) "
                    "is not one a spreadsheet program adds when it saves a declaration / 含申报表以外的内容",
                )
            else:
                base = posixpath.dirname(posixpath.dirname(name))  # xl/_rels/workbook.xml.rels -> xl
                if _part(base + "/x" if base else "x", target).startswith("../"):
                    add(
                        "zip_slip",
                        f"危险内容 Dangerous content: relationship target {_quote(target, 100)} (in {_quote(name)}) "
                        "climbs out of the package / 关系目标越界",
                    )
    return list(found)


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
    cf_formulas: list[str] = field(default_factory=list)  # the formulas of conditional formats (evaluated on opening)


@dataclass
class Book:
    sheets: list[Sheet]
    names: dict[tuple[str, int | None], str]  # (name, local sheet index or None) -> reference text
    parts: list[str]
    hazards: list[tuple[str, str]] = field(default_factory=list)  # (code, message): see package_hazards
    sha256: str = ""  # of the file's bytes

    def sheet(self, name: str) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        return None


_REF = re.compile(r"([A-Z]{1,3})([1-9]\d{0,6})")
_ROW, _C, _F, _V = _M + "row", _M + "c", _M + "f", _M + "v"  # the tags of a sheet's cells, looked up per cell
MAX_COLUMN, MAX_ROW = 16_384, 1_048_576  # XFD, Excel's grid


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


class _Counts:
    """Cells and validations of all sheets so far, against the limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.cells = 0
        self.validations = 0
        self.formula_chars = 0

    def cell(self, sheet: str) -> None:
        self.cells += 1
        if self.cells > self.limits.max_cells:
            raise UnsafeWorkbook(
                "too_large", f"more than {self.limits.max_cells:,} cells (limit; reached in sheet {_quote(sheet, 40)})"
            )

    def validation(self, sheet: str) -> None:
        """One more data validation or conditional format."""
        self.validations += 1
        if self.validations > self.limits.max_validations:
            raise UnsafeWorkbook(
                "too_large",
                f"more than {self.limits.max_validations:,} data validations and conditional "
                f"formats (limit; reached in sheet {_quote(sheet, 40)})",
            )

    def formula(self, text: str | None, where: str) -> str | None:
        """A formula read, within Excel's length for one and the budget for all."""
        if text is None:
            return None
        limits = self.limits
        if len(text) > limits.max_formula_chars:
            raise UnsafeWorkbook(
                "too_large",
                f"{where} holds a formula of {len(text):,} characters, above Excel's own "
                f"limit of {limits.max_formula_chars:,}",
            )
        self.formula_chars += len(text)
        if self.formula_chars > limits.max_formula_total:
            raise UnsafeWorkbook(
                "too_large",
                f"the formulas hold more than {limits.max_formula_total:,} characters in all "
                f"(limit; reached at {where})",
            )
        return text


def read_book(source: str | os.PathLike | bytes, limits: Limits = DEFAULT_LIMITS) -> Book:
    """The workbook's sheets (cells with formulas and cached values, validations), defined names and hazards."""
    z = SafeZip(source, limits)
    hazards = package_hazards(z)
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
    counts = _Counts(limits)
    names: dict[tuple[str, int | None], str] = {}
    seen_names: set[tuple[str, int | None]] = set()
    for dn in wb.iter(_M + "definedName"):
        name, local = dn.get("name", ""), dn.get("localSheetId")
        key = (
            name,
            None if local is None else int(local) if local.isdigit() and len(local) < 6 else -1,
        )  # -1: unreadable
        if (name.casefold(), key[1]) in seen_names:
            hazards.append(
                (
                    "defined_name",
                    f"篡改 Tampered: the defined name {_quote(name, 60)} is defined twice (names ignore "
                    "case): programs may use either / 名称重复定义",
                )
            )
            continue
        seen_names.add((name.casefold(), key[1]))
        names[key] = counts.formula(dn.text or "", f"the defined name {_quote(name, 60)}") or ""
    shared: list[str] = []
    strings_part = next((p for p in rels.values() if p.endswith("sharedStrings.xml")), None)
    if strings_part and z.has(strings_part):
        shared = [_text_of(si) for si in z.xml(strings_part).iter(_M + "si")]
    sheets = []
    for name, state, part in sheet_refs:
        sheet = Sheet(name, state, part)
        if part and z.has(part):
            _read_sheet(z.xml(part), sheet, shared, limits, counts)
        sheets.append(sheet)
    return Book(sheets, names, list(z.names), hazards, z.sha256)


def _read_sheet(root: Element, sheet: Sheet, shared: list[str], limits: Limits, counts: _Counts) -> None:
    """One pass over the sheet's XML: every cell's formula and value, the validations, protection."""
    from openpyxl.utils import column_index_from_string, get_column_letter  # here: openpyxl costs 0.15 s to import

    cells = sheet.cells
    masters: dict[str, tuple[str, str]] = {}  # shared formula index -> (formula, ref of the master)
    pending: list[tuple[str, str]] = []  # (ref, shared index) of cells that reuse a shared formula
    title = _quote(sheet.name, 40)
    row_number = 0
    for row in root.iter(_ROW):
        r = row.get("r")
        if r is None:  # a writer may leave out r: the next row
            row_number += 1
        elif r.isdigit() and len(r) <= 7 and 1 <= int(r) <= MAX_ROW:
            row_number = int(r)
        else:
            raise UnsafeWorkbook("xml", f"sheet {title}: row number {_quote(r, 20)} is not one of 1 to {MAX_ROW:,}")
        column = 0
        for c in row:
            if c.tag != _C:
                continue
            counts.cell(sheet.name)
            ref = c.get("r")
            if ref is not None:
                m = _REF.fullmatch(ref)
                column = column_index_from_string(m[1]) if m else 0
                if not m or column > MAX_COLUMN or int(m[2]) > MAX_ROW:
                    raise UnsafeWorkbook(
                        "xml", f"sheet {title}: {_quote(ref, 20)} is not a cell reference (A1 to XFD1048576)"
                    )
            else:  # a writer may leave out r: the next column of the row
                column += 1
                if column > MAX_COLUMN or row_number > MAX_ROW:
                    raise UnsafeWorkbook(
                        "xml", f"sheet {title}: row {row_number} has cells beyond column XFD ({MAX_COLUMN:,})"
                    )
                ref = f"{get_column_letter(column)}{row_number}"
            if ref in cells:
                raise UnsafeWorkbook("xml", f"sheet {title}: the cell {ref} appears twice (programs may show either)")
            t = c.get("t", "n")
            f = c.find(_F)
            formula = None
            if f is not None:
                formula = counts.formula(f.text or "", f"sheet {title} cell {ref}")
                if f.get("t") == "shared":
                    si = f.get("si", "")
                    if formula:
                        masters[si] = (formula, ref)
                    else:
                        pending.append((ref, si))
            v = c.find(_V)
            raw = v.text if v is not None else None
            value: object
            if t == "inlineStr":
                is_ = c.find(_M + "is")
                value = _text_of(is_) if is_ is not None else None
            elif raw is None or (raw == "" and t != "str"):
                value = None
            elif t == "s":
                try:
                    value = shared[int(raw)] if len(raw) < 10 else CellError("#BADSTRING!")
                except (ValueError, IndexError):
                    value = CellError("#BADSTRING!")
            elif t == "str":
                value = raw
            elif t == "b":
                value = raw.strip() in ("1", "true")
            elif t == "e":
                value = CellError(raw[:40])
            elif t == "d":
                value = raw
            else:
                try:
                    value = float(raw) if len(raw) <= 400 else CellError("#BADNUMBER!")
                except ValueError:
                    value = CellError(f"#BADNUMBER! {raw[:20]}")
            cells[ref] = Cell(formula, value)
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            master = masters.get(si)
            if master is None:
                continue
            counts.formula(master[0], f"sheet {title} cell {ref}")  # each copy costs its translation
            try:
                cells[ref].formula = Translator("=" + master[0], origin=master[1]).translate_formula(ref)[1:]
            except Exception:  # noqa: BLE001 - an untranslatable formula is kept visibly broken
                cells[ref].formula = "#SHARED?" + master[0]
    where = f"a data validation of sheet {title}"
    for dv in root.iter(_M + "dataValidation"):
        counts.validation(sheet.name)
        sheet.validations.append(
            {
                "type": dv.get("type", "none"),
                "operator": dv.get("operator"),
                "formula1": counts.formula(dv.findtext(_M + "formula1"), where),
                "formula2": counts.formula(dv.findtext(_M + "formula2"), where),
                "sqref": dv.get("sqref", ""),
            }
        )
    # Excel 2010 extension lists keep validations that refer to other sheets under x14
    x14, xm = (
        "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}",
        "{http://schemas.microsoft.com/office/excel/2006/main}",
    )
    for dv in root.iter(x14 + "dataValidation"):
        counts.validation(sheet.name)
        f1 = dv.find(x14 + "formula1")
        f2 = dv.find(x14 + "formula2")
        sheet.validations.append(
            {
                "type": dv.get("type", "none"),
                "operator": dv.get("operator"),
                "formula1": counts.formula(f1.findtext(xm + "f") if f1 is not None else None, where),
                "formula2": counts.formula(f2.findtext(xm + "f") if f2 is not None else None, where),
                "sqref": dv.findtext(xm + "sqref") or "",
            }
        )
    # conditional formats: their formulas are evaluated as soon as the sheet is shown
    where = f"a conditional format of sheet {title}"
    for tag, formula_tag in ((_M + "cfRule", _M + "formula"), (x14 + "cfRule", xm + "f")):
        for rule in root.iter(tag):
            for f in rule.iter(formula_tag):
                counts.validation(sheet.name)
                sheet.cf_formulas.append(counts.formula(f.text or "", where) or "")
    protection = root.find(_M + "sheetProtection")
    sheet.protected = protection is not None and protection.get("sheet") in ("1", "true")


#: Public name for the web app's upload guard (addin/web/uploads.py): one way to show a size.
size_text = _size
