"""``AWARD_MATCH(profile_range)``: which awards can the enterprise get (``policies.matching``), for a
worksheet range laid out as the profile sheet of ``green-award template profile`` (docs/matching.md).

The result spills a header row and one row per project and clause whose kind matches the project:
project, clause, status, amount (empty when an input is missing), granted in the best combination
(empty when not chosen), the inputs and facts to confirm, the failed checks.
"""

from __future__ import annotations

from policies.matching import match, profile_from_rows

from ._sheet import Table, bad, worksheet_function

EMPTY = ""
HEADER = ["project", "clause", "status", "amount_yuan", "granted_yuan", "missing", "failed"]


@worksheet_function(
    profile_range="企业画像区域（企业信息行，再接以project开头的项目表）/ The profile's range: the enterprise rows "
    "(name, zone, kinds, facts), then the project table whose header starts with project",
)
def AWARD_MATCH(profile_range):
    """政策匹配（溢出）：每个项目适用的条款、状态（可申报/待确认/不适用）、金额、最优组合核定金额、待确认事项。/ Which awards the enterprise can get (spills): per project and clause of its kind, status, amount, granted in the best combination, what to confirm."""
    if not isinstance(profile_range, list) or not profile_range or not isinstance(profile_range[0], list):
        raise bad(
            "AWARD_MATCH", "profile_range", "must be a range of rows: the enterprise, then the project table / 须为区域"
        )
    result = match(profile_from_rows(profile_range))
    granted = {(c.project, c.clause): c.granted for c in result.best.claims}
    out: Table = [list(HEADER)]
    for r in result.results:
        if r.failed == ("kind",):
            continue
        chosen = granted.get((r.project, r.clause))
        out.append(
            [
                r.project,
                r.clause,
                r.status,
                EMPTY if r.amount is None else float(r.amount),
                EMPTY if chosen is None else float(chosen),
                ", ".join(r.missing),
                ", ".join(r.failed),
            ]
        )
    return out
