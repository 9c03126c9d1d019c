"""``green-award excel --addin``: an Excel add-in (.xlam) that brings the worksheet functions to any workbook.

Nothing here can write VBA, so the add-in is the ribbon add-in xlwings ships
(``xlwings/addin/xlwings.xlam``) with its VBA project kept byte for byte, and three changes:

* its ribbon (``customUI/customUI.xml``) is a 绿色奖励 green-award tab whose buttons call that VBA
  project's own ribbon callbacks (``RibbonXlwings.ImportFunctions``, ``RestartPython``, the
  interpreter and conda boxes) or Excel's built-in commands (Calculate Now, Calculate Sheet), and a
  使用指南 Guide menu with the set-up steps;
* its one sheet is named ``xlwings.conf`` and holds ``UDF Modules: udfs``. xlwings' VBA reads its
  settings from the active workbook's ``xlwings.conf`` sheet, then from the add-in's own sheet, then
  the directory's and the user's ``xlwings.conf`` files (``Config.bas``, ``GetConfig``): so any
  workbook imports green-award's functions, and the interpreter is whatever the user's config says
  (the Interpreter box writes it), never a fixed ``python``;
* nothing else: the add-in replaces xlwings' own add-in (both are the VBA project ``xlwings``; load one).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import xlwings

from .files import write_atomically

XLWINGS_DIR = Path(xlwings.__file__).resolve().parent
XLWINGS_ADDIN = XLWINGS_DIR / "addin" / "xlwings.xlam"
RIBBON_SOURCE = XLWINGS_DIR / "addin" / "RibbonXlwings.bas"  # the VBA source of the callbacks in the add-in
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SETTINGS = {"UDF Modules": "udfs"}
CONF_SHEET = "xlwings.conf"

#: The guide in the ribbon: (label, description) of each step.
GUIDE = [
    (
        "1 安装 Install Python + green-award",
        "Python 3.11+，然后 pip install 'green-award[cli]'（含 xlwings 与 pywin32）。 / Python 3.11+, then pip install 'green-award[cli]'.",
    ),
    (
        "2 信任 Trust the VBA project",
        "文件→选项→信任中心→宏设置：勾选“信任对 VBA 工程对象模型的访问”。 / File → Options → Trust Center → Macro Settings: trust access to the VBA project object model.",
    ),
    (
        "3 解释器 Interpreter",
        "在右侧“解释器”框填 python.exe 的完整路径（虚拟环境或 conda）；留空则用 PATH 上的 python。 / Put the full path of your venv's python.exe in the Interpreter box; empty uses python on PATH.",
    ),
    (
        "4 导入函数 Import Functions",
        "把工作簿另存为 .xlsm，点“导入函数”：GREEN_AWARD 等出现在函数向导的 green-award 类别。 / Save the workbook as .xlsm and click Import Functions.",
    ),
    (
        "5 引用 Reference (VBA)",
        "函数包装调用本加载项：VBA 编辑器(Alt+F11)→工具→引用，勾选 xlwings（本加载项的文件）。 / The imported functions call this add-in: VBA editor → Tools → References, tick xlwings (this add-in's file).",
    ),
    (
        "6 重算 Recalculate",
        "按 Ctrl+Alt+F9 全部重算；升级 green-award 后再点一次“导入函数”。 / Ctrl+Alt+F9 recalculates everything; after an upgrade, Import Functions again.",
    ),
    (
        "7 说明 Guide: docs/excel.md",
        "完整说明见 green-award 的 docs/excel.md（Windows 经典 xlwings；macOS 与网页版用 xlwings Lite）。 / The full guide is docs/excel.md.",
    ),
]


def custom_ui() -> str:
    """The ribbon: a green-award tab on xlwings' callbacks and Excel's own commands."""
    steps = "\n".join(
        f'            <button id="gaStep{k}" label="{escape(label, {chr(34): "&quot;"})}" '
        f'description="{escape(text, {chr(34): "&quot;"})}" imageMso="Help"/>'
        for k, (label, text) in enumerate(GUIDE, start=1)
    )
    return f"""<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">
  <ribbon startFromScratch="false">
    <tabs>
      <tab id="greenAwardTab" label="绿色奖励 green-award">
        <group id="gaFunctions" label="函数 Functions">
          <button id="gaImport" label="导入函数 Import Functions" imageMso="FunctionWizard" size="large" onAction="RibbonXlwings.ImportFunctions" screentip="导入函数 Import Functions" supertip="把 green-award 的工作表函数（UDF Modules: udfs）导入当前 .xlsm 工作簿。 Imports green-award's worksheet functions into the active macro-enabled workbook."/>
          <button id="gaRestart" label="重启 Python Restart" imageMso="RecurrenceEdit" onAction="RibbonXlwings.RestartPython" screentip="重启 Python Restart the UDF server" supertip="升级 green-award 后重启 Python。 Restarts Python after green-award is upgraded."/>
        </group>
        <group id="gaCalculate" label="重算 Recalculate">
          <button idMso="CalculateNow" size="large"/>
          <button idMso="CalculateSheet"/>
        </group>
        <group id="gaPython" label="Python">
          <editBox id="gaInterpreter" label="解释器 Interpreter:" sizeString="C:\\Users\\name\\green-award\\.venv\\Scripts\\python.exe" onChange="RibbonXlwings.SetInterpreter" getText="RibbonXlwings.GetInterpreter" screentip="解释器 Interpreter" supertip="python.exe 的完整路径，存入用户的 xlwings.conf。 The full path of python.exe, kept in the user's xlwings.conf."/>
          <editBox id="gaCondaPath" label="Conda Path:" onChange="RibbonXlwings.SetCondaPath" getText="RibbonXlwings.GetCondaPath" getVisible="RibbonXlwings.GetVisible" screentip="Conda Path" supertip="Anaconda/Miniconda 的安装目录（用 conda 时）。 Where Anaconda or Miniconda is installed, when you use conda."/>
          <editBox id="gaCondaEnv" label="Conda Env:" onChange="RibbonXlwings.SetCondaEnv" getText="RibbonXlwings.GetCondaEnv" getVisible="RibbonXlwings.GetVisible" screentip="Conda Env" supertip="conda 环境名。 The conda environment's name."/>
        </group>
        <group id="gaGuide" label="指南 Guide">
          <menu id="gaGuideMenu" label="使用指南 Guide" imageMso="Help" size="large" itemSize="large">
{steps}
          </menu>
        </group>
      </tab>
    </tabs>
  </ribbon>
</customUI>
"""


def _settings_sheet(original: str) -> str:
    """The add-in's sheet with the settings in A1:B…, as inline strings (no shared-strings entry needed)."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{escape(k)}</t></is></c>'
        f'<c r="B{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c></row>'
        for r, (k, v) in enumerate(SETTINGS.items(), start=1)
    )
    sheet, count = re.subn(
        r"<sheetData\s*/>|<sheetData>.*?</sheetData>", f"<sheetData>{rows}</sheetData>", original, flags=re.S
    )
    if count != 1:  # pragma: no cover - a future xlwings add-in laid out otherwise
        raise RuntimeError("xlwings' add-in has no sheet data to hold the settings")
    return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:B{len(SETTINGS)}" />', sheet)


def build_addin(path: Path) -> None:
    """Write the add-in to ``path`` (any name; the caller moves it into place)."""
    with zipfile.ZipFile(XLWINGS_ADDIN) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        sheet_path = _first_sheet(zin)
        for name in names:
            data = zin.read(name)
            if name == "customUI/customUI.xml":
                data = custom_ui().encode("utf-8")
            elif name == sheet_path:
                data = _settings_sheet(data.decode("utf-8")).encode("utf-8")
            elif name == "xl/workbook.xml":
                data, count = re.subn(
                    rb'(<sheet name=")[^"]*(")', rb"\g<1>" + CONF_SHEET.encode() + rb"\g<2>", data, count=1
                )
                if count != 1:  # pragma: no cover
                    raise RuntimeError("xlwings' add-in has no sheet")
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, data)
        if "customUI/customUI.xml" not in names:  # pragma: no cover - xlwings ships its ribbon in it
            raise RuntimeError("xlwings' add-in has no ribbon (customUI/customUI.xml)")


def _first_sheet(archive: zipfile.ZipFile) -> str:
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    sheet = re.search(r'<sheet [^>]*r:id="([^"]+)"', workbook)
    if sheet is None:  # pragma: no cover - xlwings' add-in is a workbook with a sheet
        raise RuntimeError("xlwings' add-in has no sheet")
    rid = sheet[1]
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels
    )
    if target is None:  # pragma: no cover
        raise RuntimeError(f"xlwings' add-in names no file for its sheet {rid}")
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


def write_addin(out: Path, *, overwrite: bool = False) -> Path:
    """``green-award excel --addin``: the add-in at ``out`` (an .xlam), never over an existing file unless asked."""
    out = Path(out)
    if out.suffix.lower() != ".xlam":
        raise ValueError(f"{out}: an Excel add-in's name must end in .xlam / 加载项文件名须以 .xlam 结尾")
    return write_atomically(out, build_addin, overwrite=overwrite)
