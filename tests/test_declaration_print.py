"""Declarations a consultant can print, sign, seal and hand in.

Without LibreOffice: every template's print set-up (A4 portrait, one page wide, header and footer,
row heights for their text, fonts, protection that leaves row heights adjustable), no internal code,
path or command in any cell of any sheet, choices shown and compared as Chinese labels, number
formats, the amount in Chinese capitals. With LibreOffice (skipped with the reason, or failing when
GREEN_AWARD_REQUIRE_LIBREOFFICE is set, as tests/test_declaration_libreoffice.py): the capitals
formula recalculated for many amounts equals the Python rules, and the demo's declarations (every
monetary clause) printed to PDF in one go and read back with pdftotext: pages, no ``###``, no code,
the amount in figures and in capitals on the cover; ``declare --pdf``.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import subprocess
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from addin import declaration_template as dt
from addin import pdf, rmb
from addin.cli import app
from addin.declaration import make_declaration
from addin.review import review_file
from policies.engine import compiled
from policies.registry import zones

import libreoffice

DETAILS = {
    "enterprise": "北京绿色制造有限公司",
    "uscc": "91350100M000100Y43",
    "address": "北京市经济技术开发区科创十三街1号",
    "contact": "张三",
    "phone": "010-12345678",
    "project": "P-001",
    "project_name": "节能改造项目",
    "start_date": "2025-06-01",
    "completion_date": "2025-12-20",
    "year": 2025,
}
CLAUSES = dt.monetary_clause_ids()
PRINTED_SHEETS = dt.SHEETS[: dt.PRINTED]


def book(data: bytes, **kw) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), **kw)


def require_libreoffice() -> None:
    reason = libreoffice.unavailable()
    if reason is None and not shutil.which("pdftotext"):
        reason = "pdftotext (poppler-utils) is not installed"
    if reason:
        if os.environ.get(libreoffice.REQUIRE_ENV):
            pytest.fail(f"LibreOffice is required ({libreoffice.REQUIRE_ENV} is set) but unusable: {reason}")
        pytest.skip(f"LibreOffice unavailable: {reason}")


# --- what must never show: codes, paths, commands ---------------------------------------------------------


def human_words(clause_id: str) -> set[str]:
    """Words of the texts written for people (labels, source text, citations): a code that is also an
    ordinary word there (``other``, ``site``) may show as that word."""
    cc = compiled(clause_id)
    texts = [
        cc.policy.title.zh,
        cc.policy.title.en,
        str(cc.policy.issuer or ""),
        cc.clause.source,
        cc.clause.title.en,
        *(v.en for v in zones().values()),
    ]
    for spec in cc.specs.values():
        texts += [spec.label.en, str(spec.help or "")]
        texts += [label.en for label in (spec.values or {}).values()]
    texts += [c.label.en for c in cc.conditions.values()]
    texts += [r.reason.en for r in cc.clause.requires]
    texts += [str(p.label or "") + " " + p.cites for p in cc.clause.parameters.values()]
    texts += [str(stage.label) for stage in cc.schedule.stages] + [cc.schedule.label.en]
    texts += [en for _, en in dt.attachment_list(cc)] + [en for _, en in dt.COMMITMENT] + list(dt.KIND_WORDS.values())
    return set(re.findall(r"[A-Za-z0-9_]+", " ".join(texts)))


def codes(clause_id: str) -> set[str]:
    """The clause's internal names: every input, condition and parameter name and every choice code,
    less those that are also ordinary words of its texts."""
    cc = compiled(clause_id)
    names = set(cc.specs) | set(cc.clause.parameters)
    for spec in cc.specs.values():
        names |= set(spec.values or {})
    return {n for n in names if not n.isdigit() and len(n) > 1} - human_words(clause_id) - TEMPLATE_WORDS


# English words of the generator's own texts ("Award (yuan)", "the applicant's") that are also the
# names of some clauses' inputs or parameters
TEMPLATE_WORDS = {"award", "applicant"}


FORBIDDEN = re.compile(r"python|\.yaml|\.py\b|addin|policies/|/work/|[A-Za-z]:\\|-c \"")


def words_found(text: str, words: set[str], clause_id: str = "") -> list[str]:
    """The words of ``words`` in ``text``, the clause id (which may show) aside."""
    if clause_id:
        text = text.replace(compiled(clause_id).id, "")
    return sorted(w for w in words if re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}(?![A-Za-z0-9_])", text))


def sample_inputs(clause_id: str) -> dict:
    """The first case of the clause's tables with a positive amount, every condition answered 是."""
    from test_declaration_libreoffice import CLAIMS

    from policies import evaluate

    cc = compiled(clause_id)
    cases = [(inputs, details) for _, clause, inputs, details in CLAIMS if clause == cc.id]
    for inputs, details in cases:
        try:
            if evaluate(cc.id, on=details.get("year"), **inputs).amount > 0:
                break
        except Exception:
            continue
    else:
        inputs, details = cases[0]
    answered = {name: "是" for name in cc.conditions}
    return {**answered, **inputs}, {**DETAILS, "year": details.get("year", 2025)}


# --- the template and a filled declaration, read by openpyxl ----------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_every_printed_sheet_is_set_up_for_a4_and_rows_fit_their_text(clause_id):
    wb = book((dt.TEMPLATES / dt.template_name(clause_id)).read_bytes())  # what ships
    cc = compiled(clause_id)
    for s, ws in enumerate(wb.worksheets):
        assert ws.protection.sheet and not ws.protection.password
        assert ws.protection.formatRows is False  # row heights stay adjustable
        if s >= dt.PRINTED:
            assert ws.sheet_state == "hidden"
            continue
        assert ws.sheet_state == "visible"
        setup = ws.page_setup
        assert int(setup.paperSize) == 9 and setup.orientation == "portrait"  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1 and setup.fitToHeight in (0, 1)
        last = "ABCD"[len(dt.WIDTHS[s]) - 1]
        assert ws.print_area.endswith(f"!$A$1:${last}${ws.max_row}")  # every column, one page wide
        assert ws.page_margins.left > ws.page_margins.right  # room to bind
        assert cc.id in ws.oddHeader.right.text and cc.policy.title.zh in ws.oddHeader.left.text
        assert ws.oddFooter.center.text == "第&P页 共&N页" and ws.oddFooter.right.text == dt.GENERATED_MARK
        assert sum(ws.column_dimensions[c].width for c in "ABCD"[: len(dt.WIDTHS[s])]) <= 82
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or isinstance(cell, openpyxl.cell.cell.MergedCell):
                    continue
                assert cell.font.name in (dt.BODY_FONT, dt.HEAD_FONT), (ws.title, cell.coordinate, cell.font.name)
                assert cell.font.sz >= 9
                if isinstance(cell.value, str) and not cell.value.startswith("="):
                    span = next((m for m in ws.merged_cells.ranges if cell.coordinate in m), None)
                    width = sum(
                        dt.WIDTHS[s][c - 1] for c in (range(span.min_col, span.max_col + 1) if span else [cell.column])
                    )
                    needed = dt.row_height(dt.line_count(cell.value, width * dt.SIZE / cell.font.sz), cell.font.sz)
                    assert ws.row_dimensions[cell.row].height >= needed - 0.1, (ws.title, cell.coordinate, cell.value)


def test_line_count_wraps_as_a_spreadsheet_does():
    assert dt.line_count("节能改造", 10) == 1
    assert dt.line_count("节能改造项目", 10) == 2  # 12 widths in a column of 10 (9 after padding)
    assert dt.line_count("a\nb", 10) == 2
    assert dt.line_count("Distributed photovoltaics", 12) == 3  # "Distributed " / "photovoltai" / "cs"
    assert dt.row_height(2, 10) > dt.row_height(1, 10)


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_no_code_path_or_command_in_any_cell_hidden_sheets_included(clause_id):
    inputs, details = sample_inputs(clause_id)
    data, _ = make_declaration(clause_id, inputs, details, granted_note="核定 granted: 1.00 元")
    wb = book(data)
    hidden = codes(clause_id)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or cell.data_type == "f":
                    continue
                assert not words_found(cell.value, hidden, clause_id), (ws.title, cell.coordinate, cell.value)
                assert not FORBIDDEN.search(cell.value), (ws.title, cell.coordinate, cell.value)
    meta = {r[0]: r[1] for r in wb["meta"].iter_rows(min_row=2, values_only=True)}
    assert set(meta) == {
        "template_version",
        "generator",
        "clause_id",
        "policy_title",
        "policy_encoding_version",
        "policy_number",
    }


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_choices_are_chinese_labels_in_cells_lists_and_formulas(clause_id):
    cc = compiled(clause_id)
    wb, lay = dt.build(clause_id)
    formulas = " ".join(
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.data_type == "f"
    )
    for name, spec in cc.specs.items():
        if spec.type != "choice" or name not in lay.slots:
            continue
        s, ref, _ = lay.slots[name]
        dv = next(v for v in wb.worksheets[s].data_validations.dataValidation if ref in str(v.sqref).split())
        labels = [label.zh for label in spec.values.values()]
        if dv.formula1.startswith('"'):
            assert dv.formula1 == '"' + ",".join(labels) + '"'
        else:
            column = re.search(r"\$([A-Z]+)\$", dv.formula1)[1]
            assert [c.value for c in wb["lists"][column][1:]] == labels
        for code, label in spec.values.items():
            if code != label.zh:
                assert f'"{code}"' not in formulas, (name, code)


def test_a_choice_cell_holds_its_label_the_core_and_the_review_read_it(tmp_path):
    inputs = {
        "capacity_kw": 100,
        "ownership": "third_party",
        "applicant": "investor",
        "zone": "etown_core",
        **{name: "是" for name in compiled("etown:27").conditions},
    }
    data, award = make_declaration("etown:27", inputs, DETAILS)
    assert award.amount == Decimal("40000.00")  # a third party's share: 50%
    wb = book(data, data_only=True)
    lay = dt.layout("etown:27")
    cell = lambda key: wb.worksheets[lay.slots[key][0]][lay.slots[key][1]].value  # noqa: E731
    shown = lambda key: wb.worksheets[lay.formulas[key][0]][lay.formulas[key][1]].value  # noqa: E731
    assert cell("ownership") == "第三方投资" and shown("label_ownership") == "Third-party investment"
    assert cell("applicant") == "项目投资方" and cell("zone") == zones()["etown_core"].zh
    assert shown("cover_award_words") == "肆万元整"
    path = tmp_path / "d.xlsx"
    path.write_bytes(data)
    sub = review_file(path)
    assert sub.ok, sub.problems
    assert sub.recomputed_yuan == Decimal("40000.00")


def test_the_formula_is_described_in_words_without_names():
    text = dt.describe(compiled("etown:27"), compiled("etown:27").amount_node)
    assert "【装机容量】" in text and "“第三方投资”" in text and "50%" in text
    assert not words_found(text, codes("etown:27"))


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_number_formats_have_no_trailing_point(clause_id):
    cc = compiled(clause_id)
    wb, lay = dt.build(clause_id)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert not re.search(r"\.#+(%|$)", c.number_format) or re.search(r"0\.0", c.number_format), (
                    c.number_format
                )
    for name, (s, ref, _kind) in lay.slots.items():
        spec = cc.specs.get(name)
        if spec is not None and spec.type in ("money", "integer"):
            want = dt.MONEY_FORMAT if spec.type == "money" else dt.COUNT_FORMAT
            assert wb.worksheets[s][ref].number_format == want, name


@pytest.mark.parametrize(
    "amount, words",
    [
        ("0", "零元整"),
        ("80000", "捌万元整"),
        ("1200000.5", "壹佰贰拾万元伍角"),
        ("10000000.07", "壹仟万元零柒分"),
        ("300000000", "叁亿元整"),
        ("10", "壹拾元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万零柒仟元伍角叁分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("100010000", "壹亿零壹万元整"),
        ("0.05", "伍分"),
        ("1005", "壹仟零伍元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ("1000000000000", "—"),
    ],
)
def test_amount_in_chinese_capitals(amount, words):
    assert rmb.upper(Decimal(amount)) == words


def test_the_footer_carries_the_generation_date():
    data, _ = make_declaration("etown:27", {"capacity_kw": 100}, DETAILS, generated=date(2025, 6, 30))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for s in range(1, dt.PRINTED + 1):
            xml = z.read(f"xl/worksheets/sheet{s}.xml").decode()
            assert "生成日期 Generated 2025-06-30" in xml and dt.GENERATED_XML not in xml
    template = (dt.TEMPLATES / dt.template_name("etown:27")).read_bytes()
    with zipfile.ZipFile(io.BytesIO(template)) as z:
        assert dt.GENERATED_XML in z.read("xl/worksheets/sheet1.xml").decode()  # a blank form: the day it is printed


def test_declare_pdf_says_so_in_one_line_without_libreoffice(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.setattr(pdf, "soffice", lambda: None)
    row = {**DETAILS, "project": "P1", "clause": "etown:27", "capacity_kw": "100"}
    pd.DataFrame([row]).to_csv(tmp_path / "claims.csv", index=False)
    result = CliRunner().invoke(
        app, ["declare", str(tmp_path / "claims.csv"), "-o", str(tmp_path / "out"), "--workers", "1", "--pdf"]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "LibreOffice" in line]
    assert len(lines) == 1 and "not installed" in lines[0], result.output
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 1 and not (tmp_path / "out_pdf").exists()


# --- LibreOffice: the formula recalculated, the pages printed -------------------------------------------


@pytest.mark.slow
def test_the_capitals_formula_agrees_with_the_rules_in_libreoffice(tmp_path):
    require_libreoffice()
    rng = random.Random(13)
    amounts = [
        "0",
        "80000",
        "1200000.5",
        "10000000.07",
        "300000000",
        "0.5",
        "0.05",
        "10",
        "100010000",
        "1005",
        "16409.02",
        "100000500",
        "999999999999.99",
        "1000000000000",
        "0.004",
        "0.005",
    ]
    amounts += [f"{rng.randrange(0, 10 ** rng.randrange(1, 12))}.{rng.randrange(100):02d}" for _ in range(150)]
    amounts += [str(rng.randrange(1, 10) * 10 ** rng.randrange(0, 12)) for _ in range(30)]
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, amount in enumerate(amounts, 1):
        ws.cell(r, 1, float(amount))
        ws.cell(r, 2, "=" + rmb.formula(f"A{r}"))
    path = tmp_path / "capitals.xlsx"
    wb.save(path)
    result = libreoffice.recalculate([str(path)])[str(path)]
    assert result["error"] is None
    for r, amount in enumerate(amounts, 1):
        assert result["formulas"][f"0!B{r}"] == rmb.upper(Decimal(amount)), amount


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory):
    """The demo's declarations: every monetary clause, filled from the sample portfolio."""
    from addin.declaration import declare_portfolio
    from addin.demo import SAMPLE
    from addin.portfolio import run_portfolio

    folder = tmp_path_factory.mktemp("print") / "declarations"
    batch = declare_portfolio(run_portfolio(SAMPLE, None, quiet=True), folder, workers=1)
    assert not batch.problems
    return folder, batch


@pytest.mark.slow
def test_filled_text_fits_its_row(demo_batch):
    """What a declaration fills in (names, notes, looked-up labels) fits the row height the template set."""
    folder, batch = demo_batch
    for outcome in batch.written:
        wb = book(Path(outcome.path).read_bytes(), data_only=True)
        clause = compiled(Path(outcome.path).name.split("__")[2].replace("-", ":", 1)).id
        lay = dt.layout(clause)
        cells = [(s, ref) for s, ref, _ in lay.slots.values()] + list(lay.formulas.values())
        for s, ref in cells:
            ws = wb.worksheets[s]
            cell = ws[ref]
            if not isinstance(cell.value, str) or not cell.value:
                continue
            span = next((m for m in ws.merged_cells.ranges if ref in m), None)
            width = sum(dt.WIDTHS[s][c - 1] for c in (range(span.min_col, span.max_col + 1) if span else [cell.column]))
            needed = dt.row_height(dt.line_count(cell.value, width * dt.SIZE / cell.font.sz), cell.font.sz)
            assert ws.row_dimensions[cell.row].height >= needed - 0.1, (
                Path(outcome.path).name,
                ws.title,
                ref,
                cell.value,
            )


@pytest.fixture(scope="module")
def printed(demo_batch):
    """The demo's declarations printed to PDF in one go (with a broken file among them)."""
    require_libreoffice()
    folder, batch = demo_batch
    broken = folder / "zz_broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    paths = [Path(o.path) for o in batch.written]
    converted = pdf.to_pdf([*paths, broken], pdf.pdf_folder(folder))
    by_clause: dict[str, list] = {}
    for outcome in batch.written:
        clause = Path(outcome.path).name.split("__")[2]
        by_clause.setdefault(clause, []).append((Path(outcome.path), outcome.amount))
    return folder, converted, by_clause


@pytest.mark.slow
def test_a_file_libreoffice_cannot_load_is_a_problem_not_a_pdf(printed):
    folder, converted, by_clause = printed
    assert [p.name for p, _ in converted.problems] == ["zz_broken.xlsx"]
    assert "did not convert" in converted.problems[0][1]
    assert len(converted.written) == sum(len(v) for v in by_clause.values())


def pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_every_declaration_prints_as_a_clean_form(printed, clause_id):
    folder, converted, by_clause = printed
    files = by_clause[clause_id.replace(":", "-")]
    hidden = codes(clause_id)
    for path, amount in files:
        text = pages(pdf.pdf_folder(folder) / (path.stem + ".pdf"))
        n = len(text)
        assert n <= len(PRINTED_SHEETS) + 1, f"{path.name}: {n} pages"
        for i, page in enumerate(text, 1):
            assert f"第{i}页 共{n}页" in page and re.search(r"生成日期 Generated \d{4}-\d{2}-\d{2}", page)
        whole = "\n".join(text)
        assert "###" not in whole, path.name
        assert not words_found(whole, hidden, clause_id), (path.name, words_found(whole, hidden, clause_id))
        assert not FORBIDDEN.search(whole), (path.name, FORBIDDEN.search(whole))
        cover = re.sub(r"\s+", "", text[0])
        assert f"{amount:,.2f}" in cover and rmb.upper(amount) in cover, path.name
        assert "法定代表人（签字）" in cover and "单位（盖章）" in cover and "日期" in cover
        for title in ("申报单位信息", "申报内容", "奖励测算", "附件清单", "承诺书"):
            assert title in whole, (path.name, title)


@pytest.mark.slow
def test_declare_pdf_writes_each_declaration_as_pdf(tmp_path):
    require_libreoffice()
    import pandas as pd

    row = {**DETAILS, "project": "P1", "clause": "etown:27", "capacity_kw": "100", "ownership": "第三方投资"}
    pd.DataFrame([row]).to_csv(tmp_path / "claims.csv", index=False)
    command = ["declare", str(tmp_path / "claims.csv"), "-o", str(tmp_path / "out"), "--workers", "1", "--pdf"]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    made = list((tmp_path / "out_pdf").glob("*.pdf"))
    assert [p.stem for p in made] == [p.stem for p in (tmp_path / "out").glob("*.xlsx")]
    cover = re.sub(r"\s+", "", pages(made[0])[0])
    assert "40,000.00" in cover and "肆万元整" in cover and "第三方投资" in "".join(pages(made[0]))
    again = CliRunner().invoke(app, [*command, "--overwrite"])
    assert again.exit_code == 0 and "PDF 已生成 written: 1" in again.output
