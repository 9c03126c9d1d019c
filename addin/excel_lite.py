"""``green-award excel --lite``: the kit for xlwings Lite (Python in the browser, Pyodide).

Lite's editor has two tabs that matter: ``main.py`` (its functions decorated with xlwings' ``func``
become worksheet functions) and ``requirements.txt`` (installed with micropip: pure-Python wheels
from PyPI, Pyodide's own packages, or a wheel's URL). The kit is:

* ``main.py``: imports green-award's worksheet functions, which registers them with Lite;
* ``requirements.txt``: pydantic and PyYAML (both built into Pyodide) and the URL of green-award's
  wheel (xlwings itself is Lite's);
* ``green_award-<version>-py3-none-any.whl``: the policy core (``policies``) and the worksheet
  functions (``udfs``) only, pure Python, with their data. Host it where Lite can fetch it (an
  HTTPS URL that allows cross-origin requests) and put that URL into requirements.txt
  (``--wheel-url``). ``pip wheel . --no-deps -w lite/`` builds the whole project's wheel instead,
  which works the same (it merely carries the command line too).

The wheel is written here, file by file, so that it is reproducible (fixed times, sorted entries).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from functools import partial
from importlib.metadata import requires as requirements
from importlib.metadata import version
from pathlib import Path

import policies
import udfs

from .files import OutputExistsError, write_atomically

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PACKAGES = (policies, udfs)  # what Lite needs; the command line (addin) stays out


def requires() -> list[str]:
    """The project's own dependencies without extras (pyproject.toml's, read from the installed metadata)."""
    return [r for r in requirements("green-award") or [] if "extra ==" not in r]


PLACEHOLDER_URL = "https://example.invalid/green-award/"  # where the user hosts the wheel: --wheel-url


def wheel_name() -> str:
    return f"green_award-{version('green-award')}-py3-none-any.whl"


def main_py() -> str:
    names = [n for n in udfs.__all__ if getattr(getattr(udfs, n), "is_worksheet_function", False)]
    imports = "".join(f"    {name},\n" for name in names)
    return f'''"""green-award's worksheet functions in xlwings Lite: this is the editor's main.py.

requirements.txt installs the green-award wheel; importing its functions here registers them with
Lite, e.g. =GREEN_AWARD("etown:27", "capacity_kw", 100) or =PV_SUBSIDY(100). See docs/excel.md.
Written by green-award excel --lite; add your own functions below.
"""

from udfs import (  # noqa: F401
{imports})
'''


def requirements_txt(wheel_url: str | None = None) -> str:
    url = (
        wheel_url
        if wheel_url and wheel_url.endswith(".whl")
        else (wheel_url or PLACEHOLDER_URL).rstrip("/") + "/" + wheel_name()
    )
    return (
        "# xlwings Lite: the editor's requirements.txt. xlwings is Lite's own; pydantic and PyYAML come with Pyodide.\n"
        "# The last line is the URL where you host green-award's wheel (green-award excel --lite --wheel-url URL).\n"
        "pydantic\n"
        "PyYAML\n"
        f"{url}\n"
    )


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_files() -> list[tuple[str, bytes]]:
    """(path in the wheel, bytes) of every file of the packages: sources and data, no caches."""
    files = []
    for package in PACKAGES:
        root = Path(package.__path__[0]).resolve()  # the package's folder
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".yaml", ".typed"):
                files.append((f"{package.__name__}/{path.relative_to(root).as_posix()}", path.read_bytes()))
    return files


def build_wheel(path: Path) -> None:
    """The wheel of the core and the worksheet functions (a valid wheel: METADATA, WHEEL, RECORD)."""
    release = version("green-award")
    info = f"green_award-{release}.dist-info"
    metadata = "".join(
        [
            "Metadata-Version: 2.1\n",
            "Name: green-award\n",
            f"Version: {release}\n",
            "Summary: Subsidies of three Beijing green and low-carbon policies: policy core and worksheet functions\n",
            "Requires-Python: >=3.11\n",
            *(f"Requires-Dist: {r}\n" for r in requires()),
        ]
    ).encode()
    wheel = b"Wheel-Version: 1.0\nGenerator: green-award\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    top = "".join(f"{p.__name__}\n" for p in PACKAGES).encode()
    entries = wheel_files() + [(f"{info}/METADATA", metadata), (f"{info}/WHEEL", wheel), (f"{info}/top_level.txt", top)]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in entries) + f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            item = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            item.compress_type = zipfile.ZIP_DEFLATED
            item.external_attr = 0o644 << 16
            archive.writestr(item, data)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_lite(folder: Path, *, wheel_url: str | None = None, overwrite: bool = False) -> list[Path]:
    """``green-award excel --lite``: main.py, requirements.txt and the wheel in ``folder``."""
    folder = Path(folder)
    texts = {"main.py": main_py(), "requirements.txt": requirements_txt(wheel_url)}
    if not overwrite:  # all or nothing: no kit half replaced
        for name in (*texts, wheel_name()):
            if (folder / name).exists():
                raise OutputExistsError(folder / name)
    written = [
        write_atomically(folder / name, partial(_write_text, text=text), overwrite=overwrite)
        for name, text in texts.items()
    ]
    written.append(write_atomically(folder / wheel_name(), build_wheel, overwrite=overwrite))
    return written
