"""``encoding_version`` cannot go stale (issue 10 part 4): ``tests/policy_hashes.json`` keeps, for each bundled
policy, the fingerprint of its computable content (``policies.registry.content_hash``) under each version it
had. A change to a clause's inputs, parameters, amount, conditions, zones, validity or schedules without a
bump of ``encoding_version`` fails here, saying what to do; a prose change (a note, a title) does not.

After bumping: ``python tests/test_policy_versions.py`` records the new version's fingerprint.
(``--replace``: record it for the current version in place of the old one — only for a change of the
schema that changes no amount, e.g. a field renamed.)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies.registry import DATA_DIR, content_hash, load_all, load_common  # noqa: E402

HASHES = Path(__file__).resolve().parent / "policy_hashes.json"
RECORD = "python tests/test_policy_versions.py"


def current(directory: Path = DATA_DIR) -> dict[str, tuple[str, str]]:
    """policy id -> (encoding_version, content hash) of the policies in ``directory``."""
    loaded = load_all(directory)
    zones = dict(load_common(directory).zones)
    for policy in loaded.values():
        zones.update(policy.zone_labels)
    return {p.id: (p.encoding_version, content_hash(p, zones)) for p in loaded.values()}


def stale(record: dict[str, dict[str, str]], now: dict[str, tuple[str, str]]) -> list[str]:
    """What is wrong, one line per policy, saying what to do."""
    out = []
    for policy_id, (version, digest) in now.items():
        versions = record.get(policy_id, {})
        if versions.get(version) == digest:
            continue
        if version in versions:
            out.append(
                f"{policy_id}.yaml: its computable content changed (fingerprint {digest}, recorded "
                f"{versions[version]}) but encoding_version is still {version!r}: bump encoding_version in "
                f"policies/data/{policy_id}.yaml, then run {RECORD}"
            )
        else:
            out.append(
                f"{policy_id}.yaml: encoding_version {version!r} has no recorded fingerprint: run {RECORD} "
                "(after bumping, for a change of what the policy computes)"
            )
    return out


def test_every_encoding_version_matches_its_recorded_content() -> None:
    record = json.loads(HASHES.read_text(encoding="utf-8"))
    problems = stale(record, current())
    assert not problems, "\n".join(problems)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    for path in DATA_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "old, new",
    [
        ("per_kw: {value: 800,", "per_kw: {value: 900,"),  # a parameter
        ("zones: [etown_core, yizhuang_new_town]", "zones: [etown_core]"),  # the policy's zones
        ("  start: 2025-05-17", "  start: 2025-06-01"),  # validity
        ("    amount: min(rate * investment_yuan, cap)", "    amount: min(rate * investment_yuan, cap) + 0"),
        (
            "dark_green: {zh: 北京市绿色标杆（深绿）,",
            "dark_green: {zh: 北京市绿色标杆（深绿色）,",
        ),  # a choice's label: cells hold it
    ],
)
def test_a_change_of_what_it_computes_without_a_bump_fails_and_says_what_to_do(data: Path, old: str, new: str) -> None:
    record = json.loads(HASHES.read_text(encoding="utf-8"))
    assert not stale(record, current(data))
    edit(data / "etown.yaml", old, new)
    problems = stale(record, current(data))
    assert len(problems) == 1 and problems[0].startswith("etown.yaml: its computable content changed"), problems
    assert (
        "bump encoding_version in policies/data/etown.yaml, then run python tests/test_policy_versions.py"
        in problems[0]
    )
    edit(data / "etown.yaml", 'encoding_version: "2"', 'encoding_version: "3"')
    assert stale(record, current(data)) == [
        "etown.yaml: encoding_version '3' has no recorded fingerprint: run python tests/test_policy_versions.py "
        "(after bumping, for a change of what the policy computes)"
    ]


def test_prose_changes_no_version(data: Path) -> None:
    record = json.loads(HASHES.read_text(encoding="utf-8"))
    edit(data / "etown.yaml", "label: {zh: 经开区, en: E-Town}", "label: {zh: 北京经开区, en: Beijing E-Town}")
    edit(data / "etown.yaml", 'cites: "各享受奖励资金的50%"', 'cites: "各享受奖励资金的50%（原文）"')
    edit(data / "tongzhou.yaml", "title: {zh: 碳中和证书,", "title: {zh: 碳中和证书支持,")
    assert not stale(record, current(data))


def record(replace: bool = False) -> None:
    """Add each bundled policy's current fingerprint under its version (refusing to change a recorded one)."""
    saved = json.loads(HASHES.read_text(encoding="utf-8")) if HASHES.exists() else {}
    for policy_id, (version, digest) in current().items():
        versions = saved.setdefault(policy_id, {})
        if versions.get(version, digest) != digest and not replace:
            raise SystemExit(
                f"{policy_id}: encoding_version {version!r} is recorded with another content: bump it first "
                "(or --replace for a schema change that changes no amount)"
            )
        versions[version] = digest
    HASHES.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {HASHES}")


if __name__ == "__main__":
    record(replace="--replace" in sys.argv[1:])
