"""``green-award ledger export``: everything in the ledger as JSON or as a workbook for people."""

from __future__ import annotations

import json
from pathlib import Path

from policies.errors import GreenAwardError
from policies.registry import fields

from ..files import write_atomically

MONEY_FORMAT = "#,##0.00"


def field_column(name: str) -> tuple[str, str, str]:
    """A claim field's column (common.yaml's heading)."""
    heading = fields()[name].column
    return name, heading.zh, heading.en


SUBMISSION_COLUMNS = [
    ("id", "编号", "Id"),
    ("file", "文件", "File"),
    ("sha256", "文件哈希", "SHA-256"),
    field_column("uscc"),
    field_column("enterprise"),
    field_column("project"),
    field_column("clause"),
    field_column("year"),
    ("event", "活动", "Event"),
    ("declared_yuan", "申报金额", "Declared"),
    ("recomputed_yuan", "复核金额", "Recomputed"),
    ("reviewed_yuan", "审核核定", "Reviewed"),
    ("granted_yuan", "现批准金额", "Granted (standing)"),
    ("state", "状态", "State"),
    ("source", "来源", "Source"),
    ("recorded_at", "记录时间", "Recorded at"),
    ("replaces", "取代编号", "Replaces"),
    ("findings", "发现", "Findings"),
]
DECISION_COLUMNS = [
    ("id", "编号", "Id"),
    ("submission", "申报编号", "Submission"),
    ("action", "决定", "Action"),
    ("amount", "金额", "Amount"),
    ("reviewer", "审核人", "Reviewer"),
    ("time", "时间", "Time"),
    ("reason", "理由", "Reason"),
    ("voids", "作废决定", "Voids"),
]
PAYMENT_COLUMNS = [
    ("id", "编号", "Id"),
    ("submission", "申报编号", "Submission"),
    ("decision", "决定编号", "Decision"),
    ("stage", "期次", "Stage"),
    ("due_year", "应付年度", "Due year"),
    ("amount", "金额", "Amount"),
    ("status", "状态", "Status"),
    ("paid", "已支付", "Paid"),
]
FROM_LEDGER = " 账本 ledger"  # a finding of the rules against the record, as the workbook shows it
MONEY = {"declared_yuan", "recomputed_yuan", "reviewed_yuan", "granted_yuan", "amount"}


def write_export(data: dict, out: Path, *, overwrite: bool = False) -> Path:
    suffix = out.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"

        def write_json(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        return write_atomically(out, write_json, overwrite=overwrite)
    if suffix == ".xlsx":
        return write_atomically(out, lambda tmp: _write_xlsx(data, tmp), overwrite=overwrite)
    raise GreenAwardError(f"ledger export: -o must name a .json or .xlsx file, got {out} / 须为json或xlsx文件")


def _write_xlsx(data: dict, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in (
        ("申报 submissions", SUBMISSION_COLUMNS, data["submissions"]),
        ("决定 decisions", DECISION_COLUMNS, data["decisions"]),
        ("支付 payments", PAYMENT_COLUMNS, data["payments"]),
    ):
        ws = workbook.create_sheet(title)
        ws.append([f"{zh}\n{en}" for _, zh, en in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            values = []
            for key, _, _ in columns:
                value = row.get(key)
                if key == "findings":
                    value = "\n".join(
                        f"[{f['kind']}{FROM_LEDGER if f.get('source') == 'ledger' else ''}] {f['text']}"
                        for f in value or []
                    )
                values.append(value)
            ws.append(values)
            for cell, (key, _, _) in zip(ws[ws.max_row], columns):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text that looks like a formula stays text
                if key in MONEY:
                    cell.number_format = MONEY_FORMAT
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, ws.max_row)}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        for index, (key, zh, en) in enumerate(columns, 1):
            longest = max([len(en), len(zh) * 2, *(min(60, len(str(r.get(key) or ""))) for r in rows[:200])])
            ws.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    workbook.save(path)
