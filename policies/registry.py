"""Loading the policy files: each validated on its own, then checked together.

The bundled policies are ``policies/data/*.yaml``, with ``common.yaml`` beside them (the shared zones
and claim fields, and the bundled policies' order). More policies come from the directories that
``GREEN_AWARD_POLICY_DIRS`` names (separated like ``PATH``): every ``*.yaml`` there is one policy,
named by its file, and may define zones of its own (``zone_labels``). A new district is one file.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Sequence
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeGuard

import pydantic
from pydantic import ValidationError

from .errors import PolicyDataError
from .schema import ClaimField, Clause, Common, InputSpec, Label, Policy

DATA_DIR = Path(__file__).parent / "data"
COMMON = "common.yaml"
KINDS = "kinds.yaml"  # matching's vocabulary (policies/kinds.py), not a policy
POLICY_DIRS = "GREEN_AWARD_POLICY_DIRS"


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'clause'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors(include_url=False)
    )


def _read(path: Path) -> object:
    from . import yaml_text  # PyYAML only when a file is read: a catalog from the cache needs none

    try:
        return yaml_text.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyDataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (yaml_text.YAMLError, PolicyDataError) as exc:
        raise PolicyDataError(f"{path.name}: {exc}") from None


def load_common(directory: Path = DATA_DIR) -> Common:
    """``common.yaml``: the shared zones and claim fields, and the order of the bundled policies."""
    try:
        return Common.model_validate(_read(directory / COMMON))
    except ValidationError as exc:
        raise PolicyDataError(f"{COMMON}: {_short(exc)}") from None


def load_policy(path: Path) -> Policy:
    """One policy file, validated clause by clause so that an error names the clause."""
    raw = _read(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("clauses"), list):
        raise PolicyDataError(f"{path.name}: expected a mapping with a list of clauses")
    clauses = []
    for index, item in enumerate(raw["clauses"]):
        name = item.get("id", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
        try:
            clauses.append(Clause.model_validate(item))
        except ValidationError as exc:
            raise PolicyDataError(f"{path.name}: clause {name}: {_short(exc)}") from None
    try:
        return Policy.model_validate({**raw, "clauses": clauses})
    except ValidationError as exc:
        raise PolicyDataError(f"{path.name}: {_short(exc)}") from None


def _same_meaning(a: InputSpec, b: InputSpec) -> bool:
    return a.type == b.type and a.unit == b.unit and (a.values or {}).keys() == (b.values or {}).keys()


def check_input_names(policies: list[Policy]) -> None:
    """One input name means one thing everywhere: a portfolio has one column per input name."""
    first: dict[str, tuple[str, InputSpec]] = {}
    for policy in policies:
        for clause in policy.clauses:
            specs = dict(clause.inputs)
            for schedule in policy.schedules.values():
                specs.update(schedule.inputs)
            for name, spec in specs.items():
                if name not in first:
                    first[name] = (clause.id, spec)
                elif not _same_meaning(first[name][1], spec):
                    raise PolicyDataError(
                        f"clause {clause.id}: input {name} differs in type, unit or values from {first[name][0]}"
                    )


def policy_dirs() -> list[Path]:
    """The directories of further policies: ``GREEN_AWARD_POLICY_DIRS`` (os.pathsep between them)."""
    return [Path(part).expanduser() for part in os.environ.get(POLICY_DIRS, "").split(os.pathsep) if part.strip()]


def policy_files(directory: Path = DATA_DIR, extra: Sequence[Path] = ()) -> list[Path]:
    """The bundled policies in common.yaml's order (then any other file there), then each extra directory's."""
    listed = [directory / f"{policy_id}.yaml" for policy_id in load_common(directory).policies]
    others = sorted(p for p in directory.glob("*.yaml") if p.name not in (COMMON, KINDS) and p not in listed)
    paths = listed + others
    for folder in extra:
        if not folder.is_dir():
            raise PolicyDataError(f"{folder}: not a directory of policy files ({POLICY_DIRS})")
        paths += sorted(folder.glob("*.yaml"))
    return paths


def check_zones(common: Common, policies: list[Policy]) -> dict[str, Label]:
    """Every zone named is defined once: in common.yaml or by one policy's ``zone_labels``."""
    zones = dict(common.zones)
    for policy in policies:
        for zone in policy.zone_labels:
            if zone in zones:
                raise PolicyDataError(f"{policy.id}.yaml: zone_labels: zone {zone!r} is already defined")
        zones.update(policy.zone_labels)
    for policy in policies:
        for where, named in [
            ("zones", policy.zones),
            *((f"clause {c.id}: zones", c.zones or []) for c in policy.clauses),
        ]:
            unknown = [z for z in named if z not in zones]
            if unknown:
                raise PolicyDataError(
                    f"{policy.id}.yaml: {where}: unknown zone {unknown[0]!r} "
                    f"(zones: {', '.join(zones)}; a new one goes in zone_labels)"
                )
    return zones


def check_names(policies: list[Policy]) -> dict[str, str]:
    """Each policy id and alias names one policy (case and spacing aside): name -> policy id."""
    names: dict[str, str] = {}
    for policy in policies:
        for name in (policy.id, *policy.aliases):
            key = name.strip().casefold()
            if names.get(key, policy.id) != policy.id:
                raise PolicyDataError(f"{policy.id}.yaml: aliases: {name!r} already names policy {names[key]}")
            names[key] = policy.id
    return names


def load_all(directory: Path = DATA_DIR, extra: Sequence[Path] = ()) -> dict[str, Policy]:
    """The policies of ``directory`` (with its common.yaml) and of the ``extra`` directories, checked together
    (from the compiled catalog's cache when these files were loaded before: ``catalog_of``)."""
    return catalog_of(directory, extra)[1]


def read_all(directory: Path, extra: Sequence[Path]) -> dict[str, Policy]:
    """The policies of ``directory`` and the ``extra`` directories read from their files (no cache)."""
    common = load_common(directory)
    policies: dict[str, Policy] = {}
    for path in policy_files(directory, extra):
        policy = load_policy(path)
        if policy.id != path.stem:
            raise PolicyDataError(f"{path.name}: id is {policy.id!r}, expected {path.stem!r} (the file's name)")
        if policy.id in policies:
            raise PolicyDataError(f"{path}: policy {policy.id!r} is already loaded from another directory")
        policies[policy.id] = policy
    seen: dict[str, str] = {}
    for policy in policies.values():
        for clause in policy.clauses:
            if clause.id in seen:
                raise PolicyDataError(f"{policy.id}.yaml: clause {clause.id}: duplicate id")
            seen[clause.id] = policy.id
    check_input_names(list(policies.values()))
    check_zones(common, list(policies.values()))
    check_names(list(policies.values()))
    return policies


@lru_cache(maxsize=1)
def policies() -> dict[str, Policy]:
    """The bundled policies and those of ``GREEN_AWARD_POLICY_DIRS``, loaded once."""
    return load_all(DATA_DIR, policy_dirs())


@lru_cache(maxsize=1)
def common() -> Common:
    """common.yaml (the bundled one: ``GREEN_AWARD_POLICY_DIRS`` adds policies, not fields or zones), read
    with the policies: one catalog, one cache key to compute at start-up."""
    return catalog_of(DATA_DIR, policy_dirs())[0]


# --- the compiled catalog's cache ---------------------------------------------------------------------
# Reading and validating the policy files is most of a command's start (``green-award calc``); the
# result is kept, pickled, in the user's cache directory, under a key made of everything it is made
# from: each policy file's path and bytes, the code of ``policies/`` that validates them, and the
# versions of Python, pydantic and PyYAML. Another version of any of these is another key, so a stale
# entry is never read; an entry that cannot be read is rebuilt, and one that cannot be written is
# skipped, silently. The newest few entries are kept (tests load policies from many directories).

CACHE_DIR = "GREEN_AWARD_CACHE_DIR"  # where the cache lives; the empty text turns it off
CACHE_ENTRIES = 8
_loaded: dict[str, tuple[Common, dict[str, Policy]]] = {}  # by key: each entry read once per process


def cache_dir() -> Path | None:
    """``GREEN_AWARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/green-award`` (``~/.cache/green-award``); None: off."""
    given = os.environ.get(CACHE_DIR)
    if given is not None:
        return Path(given).expanduser() if given.strip() else None
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "green-award"


def catalog_key(directory: Path, extra: Sequence[Path]) -> str | None:
    """The key of the catalog loaded from these directories (None: a directory is missing, so no cache)."""
    if not directory.is_dir() or not all(folder.is_dir() for folder in extra):
        return None  # loading names the missing one
    digest = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}".encode())
    digest.update(_pyyaml_source())  # PyYAML's version, without importing it (a cached start does not)
    folders = [(Path(__file__).parent, "*.py"), (directory, "*.yaml"), *((f, "*.yaml") for f in extra)]
    for folder, pattern in folders:
        where = folder.resolve()  # once a folder: its files' names are joined to it
        for path in sorted(folder.glob(pattern)):
            data = path.read_bytes()
            digest.update(f"\0{where / path.name}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()[:40]


def _pyyaml_source() -> bytes:
    """The text of PyYAML's ``__init__.py`` (it holds ``__version__``), found without importing it."""
    spec = find_spec("yaml")
    return Path(spec.origin).read_bytes() if spec is not None and spec.origin else b"no PyYAML"


def catalog_of(directory: Path, extra: Sequence[Path]) -> tuple[Common, dict[str, Policy]]:
    """common.yaml and the policies of these directories, validated: from the cache when it has them."""
    folder = cache_dir()
    try:
        key = catalog_key(directory, extra) if folder is not None else None
    except OSError:
        key = None
    if folder is None or key is None:
        return load_common(directory), read_all(directory, extra)
    found = _loaded.get(key)
    if found is not None:
        return found
    path = folder / f"catalog-{key}.pickle"
    try:
        with path.open("rb") as file:
            cached = pickle.load(file)
        if _is_catalog(cached):
            _loaded[key] = cached
            return cached
    except Exception:  # noqa: BLE001 - missing, truncated, or not ours: rebuilt below
        pass
    catalog = load_common(directory), read_all(directory, extra)
    _store(path, catalog)
    _loaded[key] = catalog
    return catalog


def _is_catalog(value: object) -> TypeGuard[tuple[Common, dict[str, Policy]]]:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], Common)
        and isinstance(value[1], dict)
        and all(isinstance(p, Policy) for p in value[1].values())
    )


def _store(path: Path, catalog: tuple[Common, dict[str, Policy]]) -> None:
    """Write the entry atomically (a temporary file renamed into place); keep the newest ``CACHE_ENTRIES``."""
    import tempfile  # only when an entry is written: kept off every command's start

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".catalog-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                pickle.dump(catalog, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        entries = sorted(path.parent.glob("catalog-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or full disk, a race with another process: the next start loads the files again


def fields() -> dict[str, ClaimField]:
    """The applicant and project fields of every claim (common.yaml), in the declaration's order."""
    return common().fields


@lru_cache(maxsize=1)
def zones() -> dict[str, Label]:
    """Every zone: id -> its 中文 and English label."""
    return check_zones(common(), list(policies().values()))


@lru_cache(maxsize=1)
def policy_names() -> dict[str, str]:
    """Every name of a policy, casefolded (its id and aliases) -> its id."""
    return check_names(list(policies().values()))


@lru_cache(maxsize=1)
def zone_spec() -> InputSpec:
    """The zone input every clause accepts: a choice of every zone."""
    # built from validated data (the zones and their labels), so constructed without validating again:
    # validation would build InputSpec's validator on every start (the models defer it to first use)
    return InputSpec.model_construct(type="choice", label=fields()["zone"].label, values=zones())


#: Keys of prose (titles, labels, notes, citations): no amount changes with them, so no version does.
PROSE = frozenset(
    {
        "title",
        "label",
        "notes",
        "help",
        "cites",
        "source",
        "reason",
        "message",
        "issuer",
        "number",
        "source_file",
        "encoding_version",
        "article",
        "aliases",
        "replaces",
        "max_amount_reason",
    }
)


def content_hash(policy: Policy, zone_labels: dict[str, Label] | None = None) -> str:
    """A fingerprint of what the policy computes: its clauses' inputs (choice labels included: cells hold
    them), conditions, parameters, amounts, rules, zones (with the labels cells hold), validity, schedules
    and caps; prose left out. ``tests/policy_hashes.json`` keeps it beside ``encoding_version``."""
    import json  # here: only a fingerprint needs it (the version tests, the CLI's --version), not a start

    def computable(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: computable(v) for k, v in value.items() if k not in PROSE}
        if isinstance(value, list):
            return [computable(v) for v in value]
        return value

    data = computable(policy.model_dump(mode="json", exclude_defaults=True))  # a new optional field changes nothing
    labels = zone_labels if zone_labels is not None else zones()
    data["zone_labels"] = {
        z: labels[z].model_dump() for z in sorted({*policy.zones, *(z for c in policy.clauses for z in c.zones or [])})
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def reload(*also: Any) -> None:
    """Forget what was loaded (after ``GREEN_AWARD_POLICY_DIRS`` changed), and the ``also`` caches made
    from it (``policies.engine.compiled``: the registry does not import the engine)."""
    _loaded.clear()
    for cached in (policies, common, zones, policy_names, zone_spec, *also):
        cached.cache_clear()


#: Public name of a validation error's short message (kinds.py reads its file the same way).
short_error = _short
