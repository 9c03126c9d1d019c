"""YAML read as the policy files are: libyaml's safe loader, refusing a mapping with the same key twice.

Imported only where YAML text is read (a policy file the compiled catalog's cache does not hold, a
reform, kinds.yaml): a command whose catalog comes from the cache does not import PyYAML at all.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import PolicyDataError

YAMLError = yaml.YAMLError

try:  # libyaml's parser where PyYAML was built with it (ten times the pure-Python one), else the pure one
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]  # the same interface, pure Python


class StrictLoader(_SafeLoader):
    """The safe loader that refuses a mapping with the same key twice (PyYAML keeps the last silently)."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise PolicyDataError(f"line {key_node.start_mark.line + 1}: key {key!r} appears twice")
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(text: str) -> Any:
    """The data of a YAML text; ``YAMLError`` when it is not YAML, ``PolicyDataError`` for a key given twice."""
    return yaml.load(text, Loader=StrictLoader)
