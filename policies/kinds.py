"""The kinds vocabulary of matching (``policies/data/kinds.yaml``), checked against the policies.

The file does not load, naming the entry, when a clause lists a project kind the vocabulary lacks,
when a kind meets a condition no clause has, or implies an input no clause reads (or a value the
input does not take).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from . import yaml_text
from .errors import InputError, PolicyDataError
from .inputs import coercer
from .registry import DATA_DIR, KINDS, policies, short_error
from .schema import InputSpec, Kinds

KINDS_FILE = KINDS


def load_kinds(path: Path) -> Kinds:
    try:
        raw = yaml_text.load(path.read_text(encoding="utf-8"))
        return Kinds.model_validate(raw)
    except (yaml_text.YAMLError, PolicyDataError) as exc:
        raise PolicyDataError(f"{path.name}: {exc}") from None
    except ValidationError as exc:
        raise PolicyDataError(f"{path.name}: {short_error(exc)}") from None


def names_in_policies() -> tuple[set[str], dict[str, InputSpec]]:
    """Every condition name and every input (name -> spec) of the loaded policies' clauses."""
    conditions: set[str] = set()
    inputs: dict[str, InputSpec] = {}
    for policy in policies().values():
        conditions |= set(policy.general_conditions)
        for clause in policy.clauses:
            conditions |= set(clause.conditions)
            for name, spec in clause.inputs.items():
                inputs.setdefault(name, spec)
    return conditions, inputs


def check_kinds(kinds: Kinds) -> None:
    """The vocabulary against the policies (see the module's docstring)."""
    conditions, inputs = names_in_policies()
    where = KINDS_FILE
    for policy in policies().values():
        for clause in policy.clauses:
            unknown = [k for k in clause.kinds if k not in kinds.project_kinds]
            if unknown:
                raise PolicyDataError(f"{policy.id}.yaml: clause {clause.id}: kinds {unknown} are not in {where}")
    for group in (kinds.enterprise_kinds, kinds.project_kinds):
        for kind, entry in group.items():
            missing = [c for c in entry.meets if c not in conditions]
            if missing:
                raise PolicyDataError(f"{where}: {kind}: meets {missing}, which no clause has as a condition")
    for kind, entry in kinds.project_kinds.items():
        implied = {**entry.inputs, **{name: None for name in entry.derive}}
        for name in [*implied, *(d.from_ for d in entry.derive.values())]:
            if name not in inputs:
                raise PolicyDataError(f"{where}: {kind}: {name} is not an input of any clause")
        for name, value in entry.inputs.items():
            _check_value(kind, name, value, inputs[name])
        for name, derived in entry.derive.items():
            for source, value in derived.values.items():
                _check_value(kind, derived.from_, source, inputs[derived.from_])
                _check_value(kind, name, value, inputs[name])


def _check_value(kind: str, name: str, value: object, spec: InputSpec) -> None:
    try:
        coercer(spec)(value)
    except (InputError, ValueError) as exc:
        raise PolicyDataError(f"{KINDS_FILE}: {kind}: {name}: {value!r} is not a value it takes ({exc})") from None


@lru_cache(maxsize=1)
def kinds() -> Kinds:
    """The bundled vocabulary, loaded and checked once."""
    loaded = load_kinds(DATA_DIR / KINDS_FILE)
    check_kinds(loaded)
    return loaded
