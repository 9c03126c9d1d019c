"""Workbooks to PDF through LibreOffice (``soffice --headless --convert-to pdf``), many files per start.

soffice exits 0 even when it could not convert a file, so each PDF is checked to exist (and to be a
PDF) before it counts. Each run uses its own throwaway profile (``-env:UserInstallation``): two runs
at once, or a desktop LibreOffice already open, do not clash. The files are converted into a private
temporary folder and then moved into place without replacing an existing PDF unless asked
(``addin.files.write_atomically``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .files import OutputExistsError, write_atomically

NOT_INSTALLED = "PDF: LibreOffice is not installed, no PDF written / 未安装LibreOffice，未生成PDF"
CHUNK = 200  # files per soffice start (a command line stays short)
MAX_PROCESSES = 4  # soffice instances at once (one per core, at most this many)


def soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@dataclass
class Converted:
    written: list[Path] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)  # (workbook, reason)


def to_pdf(
    paths: list[Path],
    folder: Path,
    *,
    overwrite: bool = False,
    timeout: float = 600,
    program: str | None = None,
    processes: int | None = None,
) -> Converted:
    """Convert workbooks to ``folder/<name>.pdf``; a file that fails is a problem, the others go on.

    The files are split among ``processes`` soffice instances (default: one per core, at most 4).
    Raises FileNotFoundError when LibreOffice is not installed (``NOT_INSTALLED`` says so to a user).
    """
    program = program or soffice()
    if program is None:
        raise FileNotFoundError(NOT_INSTALLED)
    result = Converted()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    todo, stems = [], set()
    for path in map(Path, paths):
        target = folder / (path.stem + ".pdf")
        if target.exists() and not overwrite:
            result.problems.append((path, f"{target.name}: exists, not overwritten / 文件已存在"))
        elif path.stem.casefold() in stems:
            result.problems.append((path, f"{target.name}: another workbook of this batch has the same name / 重名"))
        else:
            stems.add(path.stem.casefold())
            todo.append(path)
    if not todo:
        return result
    count = max(1, min(processes or os.cpu_count() or 1, MAX_PROCESSES, len(todo)))
    with tempfile.TemporaryDirectory(prefix="green-award-pdf-") as tmp:
        groups = [(todo[k::count], Path(tmp) / str(k)) for k in range(count)]
        with ThreadPoolExecutor(count) as pool:  # one soffice (its own profile) per group, started once a chunk
            converted = list(pool.map(lambda group: _convert(program, group[0], group[1], timeout), groups))
        order = {path: i for i, path in enumerate(todo)}
        for path, made, error in sorted((item for group in converted for item in group), key=lambda x: order[x[0]]):
            if made is None:
                result.problems.append(
                    (path, f"LibreOffice did not convert it / 未能转换为PDF{': ' + error if error else ''}")
                )
                continue
            try:
                target = write_atomically(folder / made.name, _copy_of(made), overwrite=overwrite)
            except OutputExistsError as exc:
                result.problems.append((path, f"{exc.path.name}: exists, not overwritten / 文件已存在"))
                continue
            result.written.append(target)
    return result


def _copy_of(source: Path) -> Callable[[Path], None]:
    """A writer for ``write_atomically`` that copies ``source`` into the temporary file."""

    def copy(target: Path) -> None:
        shutil.copyfile(source, target)

    return copy


def _convert(program: str, paths: list[Path], work: Path, timeout: float) -> list[tuple[Path, Path | None, str]]:
    """Convert ``paths`` into ``work/out`` with a profile in ``work``: (workbook, its PDF or None, error)."""
    out = work / "out"
    out.mkdir(parents=True)
    done = []
    for start in range(0, len(paths), CHUNK):
        chunk = paths[start : start + CHUNK]
        command = [
            program,
            "--headless",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *(str(p.resolve()) for p in chunk),
        ]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            lines = [line for line in run.stderr.splitlines() if line.strip() and "javaldx" not in line]
            error = lines[-1] if lines else (f"exit status {run.returncode}" if run.returncode else "")
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
        for path in chunk:
            made = out / (path.stem + ".pdf")
            ok = made.exists() and made.stat().st_size > 0 and made.read_bytes()[:5] == b"%PDF-"
            done.append((path, made if ok else None, error))
    return done


def pdf_folder(declarations: Path) -> Path:
    """Where the PDFs of a folder of declarations go: a folder beside it, ``<name>_pdf`` (the folder of
    workbooks stays one that ``green-award review`` reads)."""
    folder = Path(declarations).resolve()
    return folder.with_name(folder.name + "_pdf")


def print_pdfs(paths: list[Path], declarations: Path, console, *, overwrite: bool = False) -> Converted | None:
    """Write the PDFs of written declarations and say what happened (one line when LibreOffice is missing)."""
    if not paths:
        return None
    if soffice() is None:
        console.print(f"[yellow]{NOT_INSTALLED}[/yellow]", highlight=False, soft_wrap=True)
        return None
    folder = pdf_folder(declarations)
    with console.status(f"PDF: LibreOffice converts {len(paths)} declarations / 正在生成PDF"):
        result = to_pdf(paths, folder, overwrite=overwrite)
    console.print(f"PDF 已生成 written: {len(result.written)} in {folder}", highlight=False)
    for path, reason in result.problems:
        console.print(f"[yellow]PDF[/yellow] {path.name}: {reason}", highlight=False)
    return result
