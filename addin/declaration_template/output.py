"""The committed templates: saved deterministically (fixed zip times and document properties, so the same
clause gives the same bytes) and regenerated with ``python -m addin.declaration_template``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .definitions import TEMPLATES, template_name
from .sheets import build

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>green-award</dc:creator>'
    "<dc:title>{title}</dc:title></cp:coreProperties>"
)


def deterministic(xlsx: bytes, title: str) -> bytes:
    """The same workbook with fixed entry times and document properties (no current time in the file)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = CORE_XML.format(title=title).encode()
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data, compresslevel=9)
    return out.getvalue()


def template_bytes(clause_id: str) -> bytes:
    wb, _ = build(clause_id)
    raw = io.BytesIO()
    wb.save(raw)
    return deterministic(raw.getvalue(), f"申报表 Declaration {clause_id}")


def monetary_clause_ids() -> list[str]:
    from policies.engine import all_clauses

    return [c.id for _, c in all_clauses() if c.monetary]


def write_templates(folder: Path = TEMPLATES, clause_ids: list[str] | None = None) -> list[Path]:
    """(Re)write the committed templates; stale ones of clauses no longer monetary are removed."""
    ids = clause_ids or monetary_clause_ids()
    written = []
    for clause_id in ids:
        path = folder / template_name(clause_id)
        path.write_bytes(template_bytes(clause_id))
        written.append(path)
    if clause_ids is None:
        keep = {p.name for p in written}
        for old in folder.glob("declaration_*.xlsx"):
            if old.name not in keep:
                old.unlink()
    return written
