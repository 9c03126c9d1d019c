"""Loading the policy files: each validated on its own, then checked together.

The bundled policies are ``policies/data/*.yaml``, with ``common.yaml`` beside them (the shared zones
and claim fields, and the bundled policies' order). More policies come from the directories that
``GREEN_AWARD_POLICY_DIRS`` names (separated like ``PATH``): every ``*.yaml`` there is one policy,
named by its file, and may define zones of its own (``zone_labels``). A new district is one file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import PolicyDataError
from .schema import ClaimField, Clause, Common, InputSpec, Label, Policy

DATA_DIR = Path(__file__).parent / "data"
COMMON = "common.yaml"
KINDS = "kinds.yaml"  # matching's vocabulary (policies/kinds.py), not a policy
POLICY_DIRS = "GREEN_AWARD_POLICY_DIRS"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last silently)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise PolicyDataError(f"line {key_node.start_mark.line + 1}: key {key!r} appears twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'clause'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors(include_url=False)
    )


def _read(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as exc:
        raise PolicyDataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, PolicyDataError) as exc:
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
    """The policies of ``directory`` (with its common.yaml) and of the ``extra`` directories, checked together."""
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
    return load_common(DATA_DIR)


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
    return InputSpec.model_validate({"type": "choice", "label": fields()["zone"].label, "values": zones()})


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
    for cached in (policies, common, zones, policy_names, zone_spec, *also):
        cached.cache_clear()


#: Public names of the strict YAML loader and of a validation error's short message (kinds.py and parameters.py
#: read policy files the same way).
StrictLoader = _StrictLoader
short_error = _short
