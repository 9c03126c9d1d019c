"""Loading the policy files: each validated on its own, then checked together."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from .errors import PolicyDataError
from .schema import Clause, InputSpec, Policy

DATA_DIR = Path(__file__).parent / "data"
POLICY_IDS = ("beijing", "tongzhou", "etown")


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


def load_policy(path: Path) -> Policy:
    """One policy file, validated clause by clause so that an error names the clause."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except (yaml.YAMLError, PolicyDataError) as exc:
        raise PolicyDataError(f"{path.name}: {exc}") from None
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


def load_all(directory: Path = DATA_DIR) -> dict[str, Policy]:
    policies = {}
    for policy_id in POLICY_IDS:
        path = directory / f"{policy_id}.yaml"
        policy = load_policy(path)
        if policy.id != policy_id:
            raise PolicyDataError(f"{path.name}: id is {policy.id!r}, expected {policy_id!r}")
        policies[policy_id] = policy
    seen: dict[str, str] = {}
    for policy in policies.values():
        for clause in policy.clauses:
            if clause.id in seen:
                raise PolicyDataError(f"{policy.id}.yaml: clause {clause.id}: duplicate id")
            seen[clause.id] = policy.id
    check_input_names(list(policies.values()))
    return policies


@lru_cache(maxsize=1)
def policies() -> dict[str, Policy]:
    """The bundled policies, loaded once."""
    return load_all()
