"""Every data file the commands read is installed with the package (a fresh `pip install` runs the demo)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_data_file_of_a_package_is_in_its_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = config["package-data"]
    missing = []
    for package in ("policies", "workbook_templates"):
        folder = ROOT / package.replace(".", "/")
        for path in folder.rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(folder).as_posix()
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in patterns.get(package, [])):
                missing.append(f"{package}/{relative}")
    assert not missing, f"not installed by pip (add to [tool.setuptools.package-data]): {missing}"
