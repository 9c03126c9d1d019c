"""Recalculate xlsx files in LibreOffice, a real and independent spreadsheet engine.

Two halves in one file:

* imported by the tests (the project's Python): ``unavailable()`` says why LibreOffice cannot be
  used here (or None), ``recalculate(paths, names)`` recalculates many files in ONE soffice start
  and returns, per file, the value of each defined name and of every formula cell;
* run by Debian's ``/usr/bin/python3`` (the only interpreter where ``python3-uno`` imports) with
  ``--uno``: starts ``soffice --headless`` with a throwaway profile, loads each file hidden, calls
  ``calculateAll()`` (LibreOffice keeps cached xlsx values unless told to recalculate), reads the
  values and prints one JSON object. A file that fails to load is reported as an error, never
  skipped silently (soffice itself exits 0 on a file it could not load).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

SYSTEM_PYTHON = "/usr/bin/python3"
REQUIRE_ENV = "GREEN_AWARD_REQUIRE_LIBREOFFICE"


def unavailable() -> str | None:
    """Why the LibreOffice tests cannot run here, or None when they can."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return "soffice (libreoffice-calc-nogui) is not installed"
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is missing (python3-uno imports only in Debian's system Python)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"python3-uno does not import in {SYSTEM_PYTHON}: {probe.stderr.strip()[-200:]}"
    return None


def recalculate(
    paths: list[str], names: list[str] | None = None, timeout: float = 600, processes: int | None = None
) -> dict[str, dict]:
    """{path: {"names": {name: value}, "formulas": {"<sheet index>!A1": value}, "error": str|None}}.

    Values: float for numbers, str for text, {"error": code} for an error cell. The files are split
    among ``processes`` soffice instances (one per core, at most 4), each started once.
    """
    paths = [os.path.abspath(p) for p in paths]
    count = max(1, min(processes or int(os.environ.get("GREEN_AWARD_LO_PROCESSES", "1")), 4, len(paths)))
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    runs = []
    for k in range(count):
        request = {"paths": paths[k::count], "names": names or [], "soffice": soffice}
        run = subprocess.Popen(
            [SYSTEM_PYTHON, os.path.abspath(__file__), "--uno"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs.append((run, json.dumps(request)))
    result: dict[str, dict] = {}
    for run, request in runs:
        out, err = run.communicate(request, timeout=timeout)
        if run.returncode != 0:
            raise RuntimeError(f"LibreOffice helper failed ({run.returncode}): {err[-2000:]}")
        result.update(json.loads(out))
    missing = [p for p in paths if p not in result]
    if missing:
        raise RuntimeError(f"LibreOffice reported nothing for {missing[:3]}")
    return {p: result[p] for p in paths}


# --- the UNO half: runs under /usr/bin/python3 ----------------------------------------------------------


def _column(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _value(cell):
    from com.sun.star.table.CellContentType import FORMULA, TEXT, VALUE  # noqa: F401

    error = cell.getError()
    if error:
        return {"error": error}
    kind = cell.getType().value
    if kind == "FORMULA":
        result = cell.FormulaResultType2  # com.sun.star.sheet.FormulaResult: VALUE 1, STRING 2, ERROR 4
        return cell.getString() if result == 2 else cell.getValue()
    if kind == "TEXT":
        return cell.getString()
    if kind == "EMPTY":
        return None
    return cell.getValue()


def _uno_main() -> None:
    import time

    import uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException

    request = json.loads(sys.stdin.read())
    out: dict[str, dict] = {}
    profile = tempfile.mkdtemp(prefix="green-award-lo-")
    pipe = f"green_award_{os.getpid()}"
    soffice = subprocess.Popen(
        [
            request["soffice"],
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.time() + 120
        while True:
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if time.time() > deadline or soffice.poll() is not None:
                    raise RuntimeError("soffice did not start") from None
                time.sleep(0.2)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        hidden = (PropertyValue("Hidden", 0, True, 0),)
        for path in request["paths"]:
            entry: dict = {"names": {}, "formulas": {}, "error": None}
            out[path] = entry
            if not os.path.exists(path):
                entry["error"] = "no such file"
                continue
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, hidden)
            if doc is None or not hasattr(doc, "calculateAll"):
                entry["error"] = "LibreOffice could not load the file"
                continue
            try:
                doc.calculateAll()
                ranges = doc.NamedRanges
                for name in request["names"]:
                    if not ranges.hasByName(name):
                        entry["names"][name] = {"error": "no such name"}
                        continue
                    cell = ranges.getByName(name).getReferredCells().getCellByPosition(0, 0)
                    entry["names"][name] = _value(cell)
                sheets = doc.Sheets
                for index in range(sheets.getCount()):
                    sheet = sheets.getByIndex(index)
                    cursor = sheet.createCursor()
                    cursor.gotoEndOfUsedArea(False)
                    end = cursor.getRangeAddress()
                    used = sheet.getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow)
                    values = used.getDataArray()  # one call for the values of the sheet
                    # the formula cells (a text cell "=1+1" is not one), one call for their addresses
                    for block in sheet.queryContentCells(16).getRangeAddresses():  # CellFlags.FORMULA
                        for r in range(block.StartRow, block.EndRow + 1):
                            for c in range(block.StartColumn, block.EndColumn + 1):
                                value = values[r][c]
                                if value == "" or value is None:  # an error reads as "" or None here
                                    value = _value(sheet.getCellByPosition(c, r))
                                entry["formulas"][f"{index}!{_column(c)}{r + 1}"] = value
            finally:
                doc.close(True)
        with contextlib.suppress(Exception):  # the bridge drops as soffice exits
            desktop.terminate()
    finally:
        try:
            soffice.wait(timeout=30)
        except subprocess.TimeoutExpired:
            soffice.kill()
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(out, sys.stdout)


if __name__ == "__main__" and "--uno" in sys.argv:
    _uno_main()
